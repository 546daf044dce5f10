// The BullMQ consumer and producer in this process, on a real redis-server: results, progress,
// timeout, abort, unrecoverable failures, data JSON cannot carry, keys, closing with a deadline,
// and a `run` whose events never arrive.
import { once } from 'node:events';
import { afterEach, describe, expect, test } from 'vitest';
import { createQueue, startWorker, JobDataError, JobFailedError, type Consumer, type DistributedQueue, type StartWorkerOptions } from '../src/distributed/index.ts';
import { AbortError, PoolClosedError } from '../src/index.ts';
import { fixture } from './helpers.ts';
import { queueName, redisAvailable, useRedis } from './redis-harness.ts';
import type * as tasks from './fixtures/distributed-tasks.ts';

describe.skipIf(!redisAvailable())('BullMQ consumer on a tessera pool', () => {
  const redis = useRedis();
  const open: Array<Consumer | DistributedQueue<any>> = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((closable) => closable.close()));
  });

  function setup(options: Partial<StartWorkerOptions> = {}): { queue: DistributedQueue<typeof tasks>; consumer: Consumer } {
    const name = queueName('consumer');
    const queue = createQueue<typeof tasks>({ name, connection: redis.server.connection });
    const consumer = startWorker({
      queue: name,
      connection: redis.server.connection,
      module: fixture('distributed-tasks.ts'),
      maxThreads: 1,
      minThreads: 1,
      ...options,
    });
    open.push(consumer, queue);
    return { queue, consumer };
  }

  test('run resolves with the task result; add returns the job id, and the job records it', async () => {
    const { queue } = setup();
    expect(await queue.run('add', { a: 2, b: 3 })).toBe(5);
    const id = await queue.add('summarize', { values: [3, 1, 2], label: 'x' });
    expect(typeof id).toBe('string');
    const job = (await queue.queue.getJob(id))!;
    expect(job.name).toBe('summarize');
    expect(job.data).toEqual({ values: [3, 1, 2], label: 'x' });
    expect(await queue.run('summarize', { values: [], label: 'empty' })).toEqual({ label: 'EMPTY', sum: 0, mean: 0, sorted: [], nested: { max: null } });
  });

  test('context.progress reaches job.updateProgress and the caller’s onProgress', async () => {
    const { queue, consumer } = setup();
    const seenByWorker: unknown[] = [];
    consumer.worker.on('progress', (_job, value) => seenByWorker.push(value));
    const seenByCaller: unknown[] = [];
    expect(await queue.run('report', { steps: 3 }, { onProgress: (value) => seenByCaller.push(value) })).toBe(3);
    expect(seenByWorker.at(-1)).toEqual({ step: 3 });
    expect(seenByWorker.length).toBeGreaterThan(0);
    // Events travel through a stream: the caller gets the updates the stream carried before the result.
    expect(seenByCaller.length).toBeGreaterThan(0);
    expect(seenByCaller.every((value) => typeof (value as { step: number }).step === 'number')).toBe(true);
  });

  test('a job timeout stops the thread; the attempt fails with TESSERA_TASK_TIMEOUT and BullMQ retries it', async () => {
    const { queue } = setup();
    const error = await queue.run('busy', { ms: 60_000 }, { timeout: 100, retry: { attempts: 2, backoff: 'fixed', delay: 0 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).errorCode).toBe('TESSERA_TASK_TIMEOUT');
    expect((await queue.queue.getJob((error as JobFailedError).jobId))!.attemptsMade).toBe(2);
    // The thread was replaced: the consumer goes on.
    expect(await queue.run('add', { a: 1, b: 1 })).toBe(2);
  });

  test('the processor’s abort signal (worker.cancelJob) stops the run; the job fails at once, whatever its attempts', async () => {
    const { queue, consumer } = setup();
    const running = queue.run('pause', { ms: 60_000 }, { retry: { attempts: 5, delay: 0 } }).catch((e: unknown) => e);
    // BullMQ tracks the job's signal once its processor runs (after the 'active' event).
    await expect.poll(() => consumer.running).toBe(1);
    const [active] = await queue.queue.getJobs(['active']);
    expect(consumer.worker.cancelJob(active!.id!, 'operator said stop')).toBe(true);
    const error = await running;
    expect((error as JobFailedError).errorCode).toBe('TESSERA_ABORTED');
    const job = (await queue.queue.getJob((error as JobFailedError).jobId))!;
    expect(job.attemptsMade).toBe(1);
  });

  test('UnrecoverableError from a task is BullMQ’s UnrecoverableError: one attempt of 5', async () => {
    const { queue } = setup();
    const error = (await queue.run('refuse', undefined as never, { retry: { attempts: 5, delay: 0 } }).catch((e: unknown) => e)) as JobFailedError;
    expect(error.errorCode).toBe('TESSERA_UNRECOVERABLE');
    expect(error.failedReason).toMatch(/refused: bad input/);
    expect((await queue.queue.getJob(error.jobId))!.attemptsMade).toBe(1);
  });

  test('a task’s own error is retried and keeps its code; a crashed thread fails the attempt, not the consumer', async () => {
    const { queue } = setup();
    const failed = (await queue.run('fail', { message: 'upstream 503' }, { retry: { attempts: 3, backoff: 'fixed', delay: 0 } }).catch((e: unknown) => e)) as JobFailedError;
    expect(failed.failedReason).toBe('E_TASK: upstream 503');
    expect((await queue.queue.getJob(failed.jobId))!.attemptsMade).toBe(3);
    const crashed = (await queue.run('crash', undefined as never, { retry: { attempts: 2, backoff: 'fixed', delay: 0 } }).catch((e: unknown) => e)) as JobFailedError;
    expect(crashed.errorCode).toBe('TESSERA_WORKER_CRASH');
    expect((await queue.queue.getJob(crashed.jobId))!.attemptsMade).toBe(2);
    expect(await queue.run('add', { a: 20, b: 22 })).toBe(42);
  });

  test('what JSON cannot carry is refused: input at add (JobDataError), a result fails its job at once', async () => {
    const { queue } = setup();
    await expect(queue.add('summarize', { values: [1, NaN], label: 'x' })).rejects.toMatchObject({ code: 'TESSERA_JOB_DATA', path: 'input.values[1]' });
    await expect(queue.add('summarize', { values: [], label: 'x', extra: undefined } as never)).rejects.toBeInstanceOf(JobDataError);
    expect(await queue.queue.count()).toBe(0);
    const error = (await queue.run('when', undefined as never, { retry: { attempts: 3, delay: 0 } }).catch((e: unknown) => e)) as JobFailedError;
    expect(error.errorCode).toBe('TESSERA_JOB_DATA');
    expect((await queue.queue.getJob(error.jobId))!.attemptsMade).toBe(1);
  });

  test('key: a job already waiting under a key is not added again; both runs get its one result', async () => {
    const { queue, consumer } = setup({ concurrency: 1 });
    let executions = 0;
    consumer.worker.on('active', () => executions++);
    await queue.queue.pause();
    const [first, second] = await Promise.all([queue.add('add', { a: 1, b: 2 }, { key: 'k1' }), queue.add('add', { a: 100, b: 200 }, { key: 'k1' })]);
    expect(second).toBe(first);
    const other = await queue.add('add', { a: 5, b: 5 }, { key: 'k2' });
    expect(other).not.toBe(first);
    expect(await queue.queue.count()).toBe(2);
    // A run with the key while the job waits: it waits on that job, adding nothing.
    const shared = queue.run('add', { a: 7, b: 7 }, { key: 'k1' });
    await queue.queue.resume();
    expect(await shared).toBe(3);
    expect(await queue.queue.count()).toBe(0);
    expect(executions).toBe(2);
  });

  test('keyTtl: Infinity keeps the result: a later run with the key gets it without a new job', async () => {
    const { queue, consumer } = setup();
    let executions = 0;
    consumer.worker.on('active', () => executions++);
    expect(await queue.run('add', { a: 1, b: 1 }, { key: 'forever', keyTtl: Infinity })).toBe(2);
    expect(await queue.run('add', { a: 9, b: 9 }, { key: 'forever', keyTtl: Infinity })).toBe(2);
    expect(executions).toBe(1);
  });

  test('close() drains with a deadline: a job still running then goes back to the queue, no attempt spent', async () => {
    const { queue, consumer } = setup();
    const started = once(consumer.worker, 'active');
    const id = await queue.add('pause', { ms: 60_000 });
    await started;
    await consumer.close({ timeout: 50 });
    const job = (await queue.queue.getJob(id))!;
    expect(await job.getState()).toBe('prioritized');
    expect(job.attemptsMade).toBe(0);
    expect(consumer.pool.stats().running).toBe(0);
  });

  test('close() lets a running job finish within the deadline', async () => {
    const { queue, consumer } = setup();
    const started = once(consumer.worker, 'active');
    const id = await queue.add('pause', { ms: 200 });
    await started;
    await consumer.close({ timeout: 20_000 });
    expect(await (await queue.queue.getJob(id))!.getState()).toBe('completed');
  });

  test('a run whose completion event never arrives settles from the job’s state (checkInterval)', async () => {
    const { queue } = setup();
    await queue.queue.pause();
    const running = queue.run('add', { a: 4, b: 4 }, { checkInterval: 50 });
    await expect.poll(() => queue.queue.count()).toBe(1);
    const waiting = (await queue.queue.getJobs(['prioritized']))[0]!;
    // Close the reader of events under the waiting run: nothing will tell it the job completed.
    await (await queue.events()).close();
    await queue.queue.resume();
    expect(await running).toBe(8);
    expect(await waiting.getState()).toBe('completed');
  });

  test('aborting a run whose job has not started removes the job', async () => {
    const { queue } = setup();
    await queue.queue.pause();
    const controller = new AbortController();
    const running = queue.run('add', { a: 1, b: 1 }, { signal: controller.signal });
    await expect.poll(() => queue.queue.count()).toBe(1);
    controller.abort('changed my mind');
    await expect(running).rejects.toMatchObject({ code: 'TESSERA_ABORTED', reason: 'changed my mind' });
    await expect(running).rejects.toBeInstanceOf(AbortError);
    await expect.poll(() => queue.queue.count()).toBe(0);
  });

  test('close() of the queue rejects waiting runs with PoolClosedError; later adds reject too', async () => {
    const { queue } = setup();
    await queue.queue.pause();
    const running = queue.run('add', { a: 1, b: 1 }).catch((e: unknown) => e);
    await expect.poll(() => queue.queue.count()).toBe(1);
    await queue.close();
    expect(await running).toBeInstanceOf(PoolClosedError);
    await expect(queue.add('add', { a: 1, b: 1 })).rejects.toBeInstanceOf(PoolClosedError);
  });
});
