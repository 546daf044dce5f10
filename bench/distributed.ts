/**
 * `npm run bench:distributed`: BullMQ consumers on one private redis-server, side by side in one run.
 *
 *   tessera    startWorker (tessera-pool/bullmq): jobs on a tessera pool, 2 threads per consumer
 *   sandboxed  BullMQ's own sandboxed processor with useWorkerThreads (a processor file), concurrency 2
 *   plain      a BullMQ function processor (the job on the consumer's event loop), concurrency 2
 *
 * For tiny jobs (x + 1) and 2 ms CPU-bound jobs, with 1 and 2 consumer processes: jobs/s (from the
 * first add to the last completion) and end-to-end latency p50/p99 (job.timestamp at add to
 * job.finishedOn), plus Redis's cost per job (commands and CPU ms, from INFO). The same jobs
 * (`Queue.addBulk`, no options) go to every contender, so the consumers are what differs.
 *
 *   node --import tsx bench/distributed.ts [--jobs 1000] [--busy-jobs 400]
 *
 * Consumers are this file, forked with `--consumer <json>`.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { RedisServer } from '../test/redis-server.ts';

type Contender = 'tessera' | 'sandboxed' | 'plain';
interface ConsumerSettings {
  port: number;
  queue: string;
  contender: Contender;
  dir: string;
}

/** The task module every contender runs, plain JavaScript (no loader in any thread). */
const TASKS = `
export function tiny(input) { return input.x + 1; }
export function busy(input) { const end = performance.now() + input.ms; while (performance.now() < end); return input.ms; }
`;
/** BullMQ's sandboxed processor: a file whose default export takes the job. */
const SANDBOX = `
import * as tasks from './tasks.mjs';
export default async function (job) { return tasks[job.name](job.data); }
`;

async function consumer(settings: ConsumerSettings): Promise<void> {
  const connection = { host: '127.0.0.1', port: settings.port, maxRetriesPerRequest: null };
  const tasksUrl = pathToFileURL(join(settings.dir, 'tasks.mjs'));
  let close: () => Promise<unknown>;
  let worker: Worker;
  if (settings.contender === 'tessera') {
    const { startWorker } = await import('../src/distributed/index.ts');
    const started = startWorker({ queue: settings.queue, connection, module: tasksUrl, maxThreads: 2, minThreads: 2, concurrency: 2 });
    await started.pool.ready();
    worker = started.worker;
    close = () => started.close();
  } else if (settings.contender === 'sandboxed') {
    worker = new Worker(settings.queue, pathToFileURL(join(settings.dir, 'sandbox.mjs')), { connection, concurrency: 2, useWorkerThreads: true });
    close = () => worker.close();
  } else {
    const tasks = (await import(tasksUrl.href)) as Record<string, (input: unknown) => unknown>;
    worker = new Worker(settings.queue, async (job: Job) => tasks[job.name]!(job.data), { connection, concurrency: 2 });
    close = () => worker.close();
  }
  worker.on('error', () => {});
  await worker.waitUntilReady();
  process.send!('ready');
  process.on('message', () => void close().then(() => process.exit(0)));
}

/** Redis's counters: commands processed and CPU seconds (user + sys) of the server. */
async function redisCounters(client: Redis): Promise<{ commands: number; cpu: number }> {
  const info = await client.info();
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)![1]);
  return { commands: field('total_commands_processed'), cpu: field('used_cpu_user') + field('used_cpu_sys') };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

let cases = 0;
async function measure(server: RedisServer, dir: string, contender: Contender, consumers: number, kind: 'tiny' | 'busy', jobs: number) {
  const name = `bench-${contender}-${++cases}`;
  const connection = server.connection;
  const children = Array.from({ length: consumers }, () =>
    fork(new URL(import.meta.url), ['--consumer', JSON.stringify({ port: server.port, queue: name, contender, dir } satisfies ConsumerSettings)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  await Promise.all(children.map((child) => once(child, 'message')));
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  await events.waitUntilReady();
  let completed = 0;
  const done = new Promise<void>((resolve) => events.on('completed', () => ++completed === jobs && resolve()));
  const admin = new Redis(server.port, '127.0.0.1');
  const before = await redisCounters(admin);
  const start = Date.now();
  const data = (i: number) => (kind === 'tiny' ? { x: i } : { ms: 2 });
  for (let i = 0; i < jobs; i += 500) {
    await queue.addBulk(Array.from({ length: Math.min(500, jobs - i) }, (_, j) => ({ name: kind, data: data(i + j) })));
  }
  await done;
  const after = await redisCounters(admin);
  admin.disconnect();
  const finished = await queue.getJobs(['completed'], 0, -1);
  const latencies = finished.map((job) => job.finishedOn! - job.timestamp).sort((a, b) => a - b);
  const end = Math.max(...finished.map((job) => job.finishedOn!));
  await Promise.all(children.map(async (child) => {
    const exited = once(child, 'exit');
    child.send('close');
    await exited;
  }));
  await Promise.all([events.close(), queue.obliterate({ force: true }).then(() => queue.close())]);
  return {
    contender,
    consumers,
    kind,
    jobs,
    jobsPerSecond: Math.round(jobs / ((end - start) / 1000)),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    redisCommandsPerJob: +((after.commands - before.commands) / jobs).toFixed(1),
    redisCpuMsPerJob: +(((after.cpu - before.cpu) * 1000) / jobs).toFixed(3),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { jobs: { type: 'string', default: '1000' }, 'busy-jobs': { type: 'string', default: '400' } } });
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-distributed-'));
  writeFileSync(join(dir, 'tasks.mjs'), TASKS);
  writeFileSync(join(dir, 'sandbox.mjs'), SANDBOX);
  const server = await RedisServer.start();
  const rows = [];
  try {
    for (const kind of ['tiny', 'busy'] as const) {
      for (const consumers of [1, 2]) {
        for (const contender of ['tessera', 'sandboxed', 'plain'] as const) {
          const row = await measure(server, dir, contender, consumers, kind, Number(kind === 'tiny' ? values.jobs : values['busy-jobs']));
          console.error(JSON.stringify(row));
          rows.push(row);
        }
      }
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('| job | consumers | contender | jobs/s | vs plain | p50 ms | p99 ms | Redis commands/job | Redis CPU ms/job |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const plain = rows.find((other) => other.kind === row.kind && other.consumers === row.consumers && other.contender === 'plain')!;
    const job = row.kind === 'tiny' ? 'tiny (x + 1)' : '2 ms CPU';
    console.log(`| ${job} | ${row.consumers} | ${row.contender} | ${row.jobsPerSecond} | ${(row.jobsPerSecond / plain.jobsPerSecond).toFixed(2)}x | ${row.p50} | ${row.p99} | ${row.redisCommandsPerJob} | ${row.redisCpuMsPerJob} |`);
  }
}

const consumerAt = process.argv.indexOf('--consumer');
if (consumerAt !== -1) await consumer(JSON.parse(process.argv[consumerAt + 1]!) as ConsumerSettings);
else await main();
