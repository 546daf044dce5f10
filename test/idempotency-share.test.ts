import { expect, test } from 'vitest';
import { createPool } from '../src/index.ts';
import type * as keyed from './fixtures/keyed.ts';
import type * as Ranges from './fixtures/ranges.ts';
import { blockedPool as sharedBlockedPool, fixture, Gate, makePool, record, SharedLog, track } from './helpers.ts';

/** One thread, blocked until `release()`: every run submitted meanwhile is provably queued. */
const blockedPool = () => sharedBlockedPool<typeof keyed>('keyed.ts', { maxBatch: 1 });

test('runs with the same name and key share one queued execution: it runs once, every run gets its result', async () => {
  const { pool, gate, log, release } = blockedPool();
  await gate.started();
  const first = pool.run('count', { log: log.cells, id: 1 }, { key: 'k' });
  // Their inputs are ignored: the first run defines the execution.
  const second = pool.run('count', { log: log.cells, id: 2 }, { key: 'k' });
  const third = pool.run('count', { log: log.cells, id: 3 }, { key: 'k', timeout: 60_000 });
  expect(pool.stats()).toMatchObject({ queued: 1, accepted: 2, shared: 2 });
  expect(first).not.toBe(second); // each run has its own promise

  await release();
  const results = await Promise.all([first, second, third]);
  expect(results.map((r) => r.id)).toEqual([1, 1, 1]);
  expect(results[1]).toBe(results[0]); // the same value, not a copy
  expect(log.entries()).toEqual([1]);
  await pool.onIdle();
  expect(pool.stats()).toMatchObject({ accepted: 2, completed: 2, failed: 0, shared: 2 });
});

test('a run joins an execution that is already running on its thread', async () => {
  const pool = makePool<typeof keyed>('keyed.ts');
  const gate = new Gate();
  const first = pool.run('block', { cells: gate.cells, value: 'first' }, { key: 'k' });
  await gate.started();
  const second = pool.run('block', { cells: gate.cells, value: 'second' }, { key: 'k' });
  expect(pool.stats()).toMatchObject({ running: 1, queued: 0, shared: 1 });
  gate.open();
  expect(await Promise.all([first, second])).toEqual(['first', 'first']);
  expect(gate.startedCount).toBe(1);
});

test('different keys, different task names and runs without a key each run', async () => {
  const { pool, gate, log, release } = blockedPool();
  await gate.started();
  const runs = [
    pool.run('count', { log: log.cells, id: 1 }, { key: 'a' }),
    pool.run('count', { log: log.cells, id: 2 }, { key: 'b' }),
    pool.run('count', { log: log.cells, id: 3 }),
    pool.run('count', { log: log.cells, id: 4 }),
    // Keys are scoped per task name: 'a' on another task is another execution.
    pool.run('countThenFail', { log: log.cells, id: 5 }, { key: 'a' }),
  ];
  expect(pool.stats()).toMatchObject({ queued: 5, shared: 0 });
  await release();
  const settled = await Promise.allSettled(runs);
  expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
  expect(log.entries()).toEqual([1, 2, 3, 4, 5]);
});

test('a failure reaches every sharer (the same error), and the next run with the key runs again', async () => {
  const { pool, gate, log, release } = blockedPool();
  await gate.started();
  const a = record(pool.run('countThenFail', { log: log.cells, id: 1 }, { key: 'k' }));
  const b = record(pool.run('countThenFail', { log: log.cells, id: 2 }, { key: 'k' }));
  await release();
  await Promise.allSettled([a.promise, b.promise]);
  expect(a).toMatchObject({ status: 'rejected', count: 1 });
  expect(b).toMatchObject({ status: 'rejected', count: 1 });
  expect((a.reason as Error).message).toBe('failed 1');
  expect(b.reason).toBe(a.reason);
  // Settled: the key is free again.
  await expect(pool.run('countThenFail', { log: log.cells, id: 3 }, { key: 'k' })).rejects.toThrow('failed 3');
  expect(log.entries()).toEqual([1, 3]);
  expect(pool.stats()).toMatchObject({ accepted: 3, completed: 1, failed: 2, shared: 1 });
});

test('without keyTtl the key is free once its execution settled: the next run runs again', async () => {
  const pool = makePool<typeof keyed>('keyed.ts');
  const log = new SharedLog();
  expect((await pool.run('count', { log: log.cells, id: 1 }, { key: 'k' })).id).toBe(1);
  expect((await pool.run('count', { log: log.cells, id: 2 }, { key: 'k' })).id).toBe(2);
  expect(log.entries()).toEqual([1, 2]);
  expect(pool.stats().shared).toBe(0);
});

test('a keyed run of a partitioned task splits once for all its sharers', async () => {
  const splits: number[] = [];
  const pool = track(
    createPool<typeof Ranges>({
      module: fixture('ranges.ts'),
      minThreads: 2,
      maxThreads: 2,
      partitions: {
        sum: {
          task: 'sumRange',
          split: (input: { n: number }, parts: number) => {
            splits.push(parts);
            const step = Math.ceil(input.n / parts);
            return Array.from({ length: parts }, (_, i) => ({ from: Math.min(input.n, i * step), to: Math.min(input.n, (i + 1) * step) }));
          },
          merge: (results: Array<{ sum: number }>) => results.reduce((total, r) => total + r.sum, 0),
        },
      },
    }),
  );
  await pool.ready();
  const runs = [pool.run('sum', { n: 1_000 }, { key: 'k' }), pool.run('sum', { n: 5 }, { key: 'k' })];
  expect(await Promise.all(runs)).toEqual([499_500, 499_500]);
  expect(splits).toHaveLength(1);
});
