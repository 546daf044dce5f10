/**
 * close(), destroy() and onIdle() while threads retire: nothing hangs, every run settles once, and
 * the pool keeps its thread count.
 */
import { expect, test } from 'vitest';
import { PoolDestroyedError } from '../src/index.ts';
import type * as tasks from './fixtures/recycle.ts';
import { SharedLog, allSettledWithin, makePool, record, until, within } from './helpers.ts';

const HANG = 30_000;

test('close() right after a burst: every run succeeds once, close() resolves', async () => {
  const pool = makePool<typeof tasks>('recycle.ts', { maxThreads: 2, minThreads: 2, maxTasksPerThread: 5 });
  await pool.ready();
  const log = new SharedLog();
  const runs = Array.from({ length: 30 }, (_, id) => record(pool.run('count', { log: log.cells, id })));
  await within(pool.close(), HANG, 'close()');
  // close() resolves after every accepted run settled.
  for (const [id, s] of runs.entries()) {
    expect(s.status).toBe('fulfilled');
    expect((s.value as { id: number }).id).toBe(id);
  }
  expect(log.entries().sort((a, b) => a - b)).toEqual([...Array(30).keys()]);
  expect(pool.stats()).toMatchObject({ failed: 0, completed: 30 });
});

test('destroy() while threads retire: every run settles once (result or PoolDestroyedError), destroy() resolves', async () => {
  const pool = makePool<typeof tasks>('recycle.ts', { maxThreads: 2, minThreads: 2, maxTasksPerThread: 2 });
  await pool.ready();
  const log = new SharedLog();
  const runs = Array.from({ length: 30 }, (_, id) => record(pool.run('count', { log: log.cells, id })));
  // Wait until a retirement is under way: the fourth result means both first threads reached their limit.
  await log.length(4);
  await within(pool.destroy(), HANG, 'destroy()');
  await allSettledWithin(runs.map((s) => s.promise), HANG, 'the runs');
  for (const s of runs) {
    expect(s.count).toBe(1);
    if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(PoolDestroyedError);
  }
  // What resolved ran once; nothing ran twice.
  expect([...log.counts().values()].every((times) => times === 1)).toBe(true);
  expect(pool.stats().threads).toBe(0);
});

test('onIdle() resolves once every run settled; the pool is back to minThreads', async () => {
  const pool = makePool<typeof tasks>('recycle.ts', { maxThreads: 2, minThreads: 2, maxTasksPerThread: 4 });
  await pool.ready();
  const log = new SharedLog();
  const runs = Array.from({ length: 24 }, (_, id) => record(pool.run(id % 2 ? 'count' : 'countLater', { log: log.cells, id })));
  await within(pool.onIdle(), HANG, 'onIdle()');
  expect(runs.every((s) => s.status === 'fulfilled' && s.count === 1)).toBe(true);
  expect(pool.stats()).toMatchObject({ queued: 0, running: 0, failed: 0, completed: 24 });
  await until(() => pool.stats().threads === 2, HANG, 'threads back to minThreads');
  // And it still works.
  expect((await pool.run('count', { log: log.cells, id: 99 })).id).toBe(99);
});
