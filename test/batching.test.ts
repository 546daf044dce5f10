import { describe, expect, test } from 'vitest';
import { batchSizing, chunkSizing, Sizer } from '../src/sizer.ts';
import type * as order from './fixtures/order.ts';
import { Gate, SharedLog, makePool } from './helpers.ts';

const BATCH_BUDGET_MS = batchSizing(64).targetMs;

describe('Sizer, configured for batches', () => {
  test('a lone task, or no more tasks than slots, goes out alone', () => {
    const sizer = new Sizer(batchSizing(64));
    expect(sizer.next(1, 1)).toBe(1);
    expect(sizer.next(4, 4)).toBe(1);
    expect(sizer.next(3, 8)).toBe(1);
  });

  test('maxBatch: 1 turns batching off', () => {
    const sizer = new Sizer(batchSizing(1));
    expect(sizer.next(1000, 1)).toBe(1);
    sizer.record(100, 0.001);
    expect(sizer.next(1000, 1)).toBe(1);
  });

  test('before any batch was timed, batches stay small', () => {
    const sizer = new Sizer(batchSizing(64));
    const n = sizer.next(1000, 1);
    expect(n).toBeGreaterThan(1);
    expect(n).toBeLessThan(64);
  });

  test('fast tasks: a batch takes at most its slot share of the queue, and at most maxBatch', () => {
    const sizer = new Sizer(batchSizing(64));
    sizer.record(100, 0.0001 * 100); // 0.1 µs per task
    expect(sizer.next(10, 2)).toBe(5);
    expect(sizer.next(11, 2)).toBe(6);
    expect(sizer.next(10_000, 2)).toBe(64);
    expect(new Sizer(batchSizing(8)).next(10_000, 2)).toBeLessThanOrEqual(8);
  });

  test('slow tasks: a batch holds about BATCH_BUDGET_MS of work, at least one task', () => {
    const sizer = new Sizer(batchSizing(64));
    sizer.record(1, BATCH_BUDGET_MS / 4);
    expect(sizer.next(1000, 1)).toBe(4);
    const slow = new Sizer(batchSizing(64));
    slow.record(1, BATCH_BUDGET_MS * 50);
    expect(slow.next(1000, 1)).toBe(1);
  });

  test('configured for map chunks: a stream of unknown length gets chunks of about 4 ms of items', () => {
    const sizer = new Sizer(chunkSizing);
    expect(sizer.next(undefined, 2)).toBe(chunkSizing.untimed);
    sizer.record(100, 1); // 10 µs per item
    expect(sizer.next(undefined, 2)).toBe(400);
    expect(sizer.next(100, 2)).toBe(50);
  });

  test('the per-task time is a moving average: one slow batch does not pin batches at 1 forever', () => {
    const sizer = new Sizer(batchSizing(64));
    sizer.record(1, BATCH_BUDGET_MS * 10);
    expect(sizer.next(1000, 1)).toBe(1);
    for (let i = 0; i < 100; i++) sizer.record(64, 0.001);
    expect(sizer.next(1000, 1)).toBeGreaterThan(1);
  });
});

/**
 * One thread, occupied by a spinning task that the test aborts once tasks are queued: no batch has
 * been timed then, so the pool batches the deep queue (a released blocker would have been timed as
 * a slow task and made it send one task per message).
 */
function occupiedPool(options: { maxBatch?: number } = {}) {
  const pool = makePool<typeof order>('order.ts', { abortGrace: 0, ...options });
  const gate = new Gate();
  const controller = new AbortController();
  const occupant = pool.run('hang', { cells: gate.cells }, { signal: controller.signal });
  const release = async () => {
    controller.abort(new Error('make way'));
    await expect(occupant).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });
  };
  return { pool, gate, release };
}

describe('batched dispatch on real threads', () => {
  test.each([
    { maxBatch: undefined, check: (queued: number, total: number) => expect(queued).toBeLessThan(total - 1) },
    { maxBatch: 1, check: (queued: number, total: number) => expect(queued).toBe(total - 1) },
    { maxBatch: 2, check: (queued: number, total: number) => expect(queued).toBe(total - 2) },
  ])('maxBatch $maxBatch: tasks leave the queue per batch, in queue order', async ({ maxBatch, check }) => {
    const { pool, gate, release } = occupiedPool(maxBatch === undefined ? {} : { maxBatch });
    await gate.started();
    const log = new SharedLog();
    // The first task of the first batch blocks, so the thread provably holds that whole batch while we look.
    const holdGate = new Gate();
    const hold = pool.run('block', { cells: holdGate.cells, value: -1 }, { priority: 10 });
    const runs = Array.from({ length: 12 }, (_, id) => pool.run('count', { log: log.cells, id }, { priority: id % 3 }));
    const total = runs.length + 1;
    expect(pool.stats().queued).toBe(total);
    await release();
    await holdGate.started();
    const { queued, running } = pool.stats();
    check(queued, total);
    expect(running).toBe(total - queued);
    holdGate.open();
    expect(await hold).toBe(-1);
    const results = await Promise.all(runs);
    expect(results.map((r) => r.id)).toEqual(Array.from({ length: 12 }, (_, id) => id));
    expect(log.entries()).toEqual([2, 5, 8, 11, 1, 4, 7, 10, 0, 3, 6, 9]);
  });

  test('many small tasks: every caller gets its own result', async () => {
    const pool = makePool<typeof import('./fixtures/echo.ts')>('echo.ts', { maxThreads: 2, minThreads: 2 });
    const inputs = Array.from({ length: 2_000 }, (_, i) => ({ i, text: `task ${i}` }));
    const results = await Promise.all(inputs.map((input) => pool.run('echo', input)));
    expect(results).toEqual(inputs);
    expect(pool.stats()).toMatchObject({ completed: 2_000, failed: 0, queued: 0, running: 0 });
  });

  test.each(['signal', 'timeout'] as const)(
    'a task with a %s never shares a batch: stopping it does not take queued neighbours down',
    async (kind) => {
      const { pool, gate, release } = occupiedPool();
      await gate.started();
      const log = new SharedLog();
      const hangGate = new Gate();
      const controller = new AbortController();
      const before = [0, 1, 2].map((id) => pool.run('count', { log: log.cells, id }));
      const stopped = pool.run(
        'hang',
        { cells: hangGate.cells },
        kind === 'signal' ? { signal: controller.signal } : { timeout: 300 },
      );
      const after = [3, 4, 5].map((id) => pool.run('count', { log: log.cells, id }));
      await release();
      await hangGate.started();
      if (kind === 'signal') controller.abort(new Error('stop'));
      await expect(stopped).rejects.toMatchObject({ code: kind === 'signal' ? 'TESSERA_ABORTED' : 'TESSERA_TASK_TIMEOUT' });
      const results = await Promise.all([...before, ...after]);
      expect(results.map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(log.entries()).toEqual([0, 1, 2, 3, 4, 5]);
    },
  );
});
