// queue.flow: the seeds' video flow (examples/video-tasks.ts) run distributed, each node a BullMQ job
// on a private redis-server, taken by two consumer processes: the same results as pool.flow, each
// node's job added once its parents' jobs completed and run once, a failing node failing the flow
// with later nodes never added, and options BullMQ cannot honour refused before any job is added.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createQueue, JobFailedError, UnsupportedOptionError, type DistributedQueue } from '../src/distributed/index.ts';
import { AbortError, createPool, defineFlow, FlowFailedError, type FlowEvent } from '../src/index.ts';
import { fixture, track } from './helpers.ts';
import { queueName, redisAvailable, useRedis } from './redis-harness.ts';
import type * as tasks from '../examples/video-tasks.ts';

// The flow of examples/video-flow.ts.
const videoFlow = defineFlow<typeof tasks, { source: string; silent: boolean }>()
  .node('encoded', { task: 'encode', input: (_, { source }) => ({ source }) })
  .node('thumbnails', { task: 'thumbnails', after: ['encoded'], input: ({ encoded }) => ({ ...encoded, count: 3 }) })
  .node('transcript', {
    task: 'transcribe',
    after: ['encoded'],
    input: ({ encoded }, { silent }) => ({ path: encoded.path, silent }),
    run: { timeout: 5_000, retry: { attempts: 3 } },
  })
  .node('resized', {
    task: 'resize',
    after: ['thumbnails', 'transcript'],
    input: ({ thumbnails, transcript }) => ({ frames: thumbnails, width: 320, caption: transcript.language }),
  });

/** Each node's task and parents' tasks, to check from Redis's record that a job was added after its parents' finished. */
const parentsOf: Record<string, string[]> = { encode: [], thumbnails: ['encode'], transcribe: ['encode'], resize: ['thumbnails', 'transcribe'] };

function startConsumer(port: number, queue: string, name: string): ChildProcess {
  return fork(fixture('distributed-video-consumer.ts'), [JSON.stringify({ port, queue, name })], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

describe.skipIf(!redisAvailable())('queue.flow: DAG flows across machines', () => {
  const redis = useRedis();
  const name = queueName('video-flow');
  const consumers: ChildProcess[] = [];
  let queue: DistributedQueue<typeof tasks>;

  beforeAll(async () => {
    for (const consumerName of ['a', 'b']) consumers.push(startConsumer(redis.server.port, name, consumerName));
    await Promise.all(consumers.map((child) => once(child, 'message')));
    queue = createQueue<typeof tasks>({ name, connection: redis.server.connection });
  });
  afterEach(async () => {
    // Every flow below has settled with no job of it still running: the next test starts from an empty queue.
    await queue.queue.obliterate({ force: true });
  });
  afterAll(async () => {
    await queue?.close();
    await Promise.all(
      consumers.map(async (child) => {
        if (child.exitCode !== null) return;
        const exited = once(child, 'exit');
        child.send('close');
        await exited;
      }),
    );
  });

  const allJobs = (): Promise<Job[]> => queue.queue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

  test('the video flow gives the same results as pool.flow; each node is one job, added after its parents completed, run once', async () => {
    const input = { source: 'holiday.mov', silent: false };
    const pool = track(createPool<typeof tasks>({ module: new URL('../examples/video-tasks.ts', import.meta.url), maxThreads: 2 }));
    const local = await pool.flow(videoFlow, input);
    await pool.close();
    const events: FlowEvent[] = [];
    const report = await queue.flow(videoFlow, input, { timeout: 20_000, onEvent: (event) => void events.push(event) });

    expect(report.status).toBe('completed');
    expect(report.results).toEqual(local.results);
    expect(report.results.resized).toEqual(['15s@320w.en.jpg', '45s@320w.en.jpg', '75s@320w.en.jpg']);
    expect(Object.values(report.nodes).map((node) => node.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(events.filter((event) => event.type === 'finished').map((event) => event.node)).toEqual(
      expect.arrayContaining(['encoded', 'thumbnails', 'transcript', 'resized']),
    );

    // Redis's record: one job a node, started once, by one of the two consumers, its return value the node's result.
    const jobs = await allJobs();
    expect(jobs.map((job) => job.name).sort()).toEqual(['encode', 'resize', 'thumbnails', 'transcribe']);
    expect(new Set(jobs.map((job) => job.id)).size).toBe(4);
    const byTask = new Map(jobs.map((job) => [job.name, job]));
    const resultOf: Record<string, unknown> = { encode: report.results.encoded, thumbnails: report.results.thumbnails, transcribe: report.results.transcript, resize: report.results.resized };
    for (const job of jobs) {
      expect(await job.getState()).toBe('completed');
      expect(job.attemptsStarted).toBe(1);
      expect(job.stalledCounter).toBe(0);
      expect(['a', 'b']).toContain(job.processedBy);
      expect(job.returnvalue).toEqual(resultOf[job.name]);
      // Added (timestamp) only once every parent's job had finished with its result stored.
      for (const parent of parentsOf[job.name]!) expect(job.timestamp).toBeGreaterThanOrEqual(byTask.get(parent)!.finishedOn!);
    }
    // The node's timeout travelled with its job; its retry too.
    expect(byTask.get('transcribe')!.opts).toMatchObject({ attempts: 3, tesseraTimeout: 5_000 });
  });

  test('a failing node (default policy) rejects with FlowFailedError; its descendants are never added as jobs', async () => {
    const error = await queue.flow(videoFlow, { source: 'mime.mov', silent: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlowFailedError);
    const failed = error as FlowFailedError;
    expect(failed.node).toBe('transcript');
    expect(failed.cause).toBeInstanceOf(JobFailedError);
    expect((failed.cause as JobFailedError).failedReason).toContain('no audio track');
    expect(failed.report.nodes.resized!.status).toBe('cancelled');
    expect(failed.report.nodes.encoded!.status).toBe('completed');

    const jobs = await allJobs();
    expect(jobs.map((job) => job.name).sort()).toEqual(['encode', 'thumbnails', 'transcribe']);
    const transcribe = jobs.find((job) => job.name === 'transcribe')!;
    expect(await transcribe.getState()).toBe('failed');
    // UnrecoverableError: one attempt of the three.
    expect(transcribe.attemptsMade).toBe(1);
  });

  test('an option BullMQ cannot honour, on any node, rejects the flow before any job is added', async () => {
    const keyed = videoFlow.node('poster', { task: 'thumbnails', after: ['encoded'], input: ({ encoded }) => ({ ...encoded, count: 1 }), run: { key: 'poster', keyTtl: 60_000 } });
    await expect(queue.flow(keyed, { source: 'a.mov', silent: false })).rejects.toMatchObject({ constructor: UnsupportedOptionError, option: 'keyTtl' });
    const backoff = videoFlow.node('poster', { task: 'thumbnails', after: ['encoded'], input: ({ encoded }) => ({ ...encoded, count: 1 }), run: { retry: { attempts: 2, backoff: () => 10 } } });
    await expect(queue.flow(backoff, { source: 'a.mov', silent: false })).rejects.toMatchObject({ constructor: UnsupportedOptionError, option: 'retry.backoff' });
    expect(await allJobs()).toEqual([]);
  });

  test('aborting stops releasing nodes: aborted once `encoded` finished, no other job is added', async () => {
    const controller = new AbortController();
    const onEvent = (event: FlowEvent): void => {
      if (event.type === 'finished' && event.node === 'encoded') controller.abort(new Error('upload deleted'));
    };
    const error = await queue.flow(videoFlow, { source: 'gone.mov', silent: false }, { signal: controller.signal, onEvent }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    const { nodes } = (error as AbortError & { report: { nodes: Record<string, { status: string }> } }).report;
    expect(Object.values(nodes).map((node) => node.status)).toEqual(['completed', 'cancelled', 'cancelled', 'cancelled']);
    expect((await allJobs()).map((job) => job.name)).toEqual(['encode']);
  });
});
