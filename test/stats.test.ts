import { expect, test } from 'vitest';
import type { PoolStats } from '../src/index.ts';
import { Gate, SharedLog, makePool } from './helpers.ts';

type Module = typeof import('./fixtures/stats.ts');

/** The counts this file checks exactly; the observability fields have test/stats-*.test.ts. */
function counts(stats: PoolStats): Partial<PoolStats> {
  const { waitTime, runTime, throughput, utilization, tasks, threadExits, eventLoop, ...rest } = stats;
  void [waitTime, runTime, throughput, utilization, tasks, threadExits, eventLoop];
  return rest;
}

test('a fresh pool: minThreads threads, all idle, nothing counted', async () => {
  const pool = makePool<Module>('stats.ts', { maxThreads: 2, minThreads: 2 });
  await pool.ready();
  expect(counts(pool.stats())).toEqual({
    threads: 2,
    idleThreads: 2,
    queued: 0,
    queuedByPriority: {},
    rateLimited: 0,
    ordered: 0,
    delayed: 0,
    running: 0,
    retrying: 0,
    retries: 0,
    accepted: 0,
    completed: 0,
    failed: 0,
    shared: 0,
    retired: 0,
  });
});

test('stats follow running, queued (by priority), completed and failed tasks', async () => {
  const pool = makePool<Module>('stats.ts', { maxThreads: 2, minThreads: 1, maxBatch: 1 });
  await pool.ready();
  expect(pool.stats()).toMatchObject({ threads: 1, idleThreads: 1, running: 0 });

  // Both threads busy (the second one is started on demand).
  const gate = new Gate();
  const blockers = [pool.run('block', { cells: gate.cells }), pool.run('block', { cells: gate.cells })];
  await gate.started(2);
  expect(pool.stats()).toMatchObject({ threads: 2, idleThreads: 0, running: 2, queued: 0 });

  const log = new SharedLog();
  const queued = [
    pool.run('count', { log: log.cells, id: 1 }),
    pool.run('count', { log: log.cells, id: 2 }, { priority: 5 }),
    pool.run('count', { log: log.cells, id: 3 }),
    pool.run('count', { log: log.cells, id: 4 }, { priority: -1.5 }),
  ];
  const failing = pool.run('quota').catch((e: unknown) => e);
  expect(counts(pool.stats())).toEqual({
    threads: 2,
    idleThreads: 0,
    queued: 5,
    queuedByPriority: { '0': 3, '5': 1, '-1.5': 1 },
    rateLimited: 0,
    ordered: 0,
    delayed: 0,
    running: 2,
    retrying: 0,
    retries: 0,
    accepted: 7,
    completed: 0,
    failed: 0,
    shared: 0,
    retired: 0,
  });

  gate.open();
  await Promise.all([...blockers, ...queued]);
  expect(await failing).toMatchObject({ code: 'E_QUOTA' });
  await pool.onIdle();
  expect(counts(pool.stats())).toEqual({
    threads: 2,
    idleThreads: 2,
    queued: 0,
    queuedByPriority: {},
    rateLimited: 0,
    ordered: 0,
    delayed: 0,
    running: 0,
    retrying: 0,
    retries: 0,
    accepted: 7,
    completed: 6,
    failed: 1,
    shared: 0,
    retired: 0,
  });
});

test('aborts, timeouts and crashes count as failed; threads are replaced', async () => {
  const pool = makePool<Module>('stats.ts', { abortGrace: 0 });
  await pool.ready();
  await expect(pool.run('hang', {}, { timeout: 30 })).rejects.toMatchObject({ code: 'TESSERA_TASK_TIMEOUT' });
  await expect(pool.run('exit', 1)).rejects.toMatchObject({ code: 'TESSERA_WORKER_CRASH' });
  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells });
  await gate.started();
  const controller = new AbortController();
  const aborted = pool.run('echo', 1, { signal: controller.signal });
  controller.abort();
  await expect(aborted).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });
  // Runs refused outright were never accepted and are not counted.
  await expect(pool.run('echo', 1, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });
  gate.open();
  await blocked;
  expect(await pool.run('echo', 2)).toBe(2);
  await pool.onIdle();
  expect(pool.stats()).toMatchObject({ threads: 1, idleThreads: 1, running: 0, accepted: 5, completed: 2, failed: 3 });
});
