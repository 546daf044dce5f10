/**
 * `maxTasksPerThread: N`: a thread retires after its Nth task and a fresh one replaces it. Every run
 * resolves with its own result, once: lone runs, a deep queue sent in batches (a thread stops in the
 * middle of a batch), and a task prefetched at the retiring thread (it goes back to the queue).
 */
import { expect, test } from 'vitest';
import type * as tasks from './fixtures/recycle.ts';
import { Gate, SharedLog, makePool, until } from './helpers.ts';

/** Splits `items` into consecutive groups of `n`. */
function groups<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

/** Thread ids in execution order must change exactly every `n` tasks (one thread at a time). */
function expectEvery(n: number, threads: readonly number[]): void {
  const runs = groups(threads, n);
  for (const run of runs) expect(new Set(run).size, `threads ${JSON.stringify(threads)}`).toBe(1);
  expect(new Set(runs.map((run) => run[0])).size, `threads ${JSON.stringify(threads)}`).toBe(runs.length);
}

test('one run at a time: the thread changes every 3 tasks', async () => {
  const pool = makePool<typeof tasks>('recycle.ts', { maxTasksPerThread: 3 });
  const log = new SharedLog();
  const threads: number[] = [];
  for (let id = 0; id < 12; id++) {
    const result = await pool.run('count', { log: log.cells, id });
    expect(result.id).toBe(id);
    threads.push(result.thread);
  }
  expectEvery(3, threads);
  expect(log.entries()).toEqual([...Array(12).keys()]);
  await until(() => pool.stats().retired === 4, 10_000, 'four retirements');
  await until(() => pool.stats().threads === 1, 10_000, 'a replacement thread');
  expect(pool.stats()).toMatchObject({ failed: 0, completed: 12, threads: 1 });
});

test.each([
  { label: 'batched', maxThreads: 1, maxBatch: 64, prefetch: 1, n: 17 },
  { label: 'batched, prefetch 0', maxThreads: 1, maxBatch: 64, prefetch: 0, n: 13 },
  { label: 'one task per message', maxThreads: 1, maxBatch: 1, prefetch: 1, n: 11 },
])('a deep queue ($label): every run once, thread changes every $n tasks', async ({ maxThreads, maxBatch, prefetch, n }) => {
  const pool = makePool<typeof tasks>('recycle.ts', { maxThreads, minThreads: maxThreads, maxBatch, prefetch, maxTasksPerThread: n });
  await pool.ready();
  const log = new SharedLog(100);
  const runs = Array.from({ length: 60 }, (_, id) => pool.run('count', { log: log.cells, id }));
  const results = await Promise.all(runs);
  results.forEach((result, id) => expect(result.id).toBe(id));
  // Each ran exactly once.
  expect(log.entries().sort((a, b) => a - b)).toEqual([...Array(60).keys()]);
  const threadOf = new Map(results.map((result) => [result.id, result.thread]));
  expectEvery(n, log.entries().map((id) => threadOf.get(id)!));
  expect(pool.stats()).toMatchObject({ failed: 0, completed: 60 });
  expect(pool.stats().retired).toBeGreaterThanOrEqual(Math.floor(60 / n) - 1);
});

test('two threads and a deep queue: no thread runs more than 15 tasks, every run once', async () => {
  const pool = makePool<typeof tasks>('recycle.ts', { maxThreads: 2, minThreads: 2, maxTasksPerThread: 15 });
  await pool.ready();
  const log = new SharedLog(200);
  const results = await Promise.all(Array.from({ length: 120 }, (_, id) => pool.run('count', { log: log.cells, id })));
  results.forEach((result, id) => expect(result.id).toBe(id));
  expect([...log.counts().values()].every((times) => times === 1)).toBe(true);
  expect(log.entries()).toHaveLength(120);
  const perThread = new Map<number, number>();
  for (const result of results) perThread.set(result.thread, (perThread.get(result.thread) ?? 0) + 1);
  expect(Math.max(...perThread.values())).toBeLessThanOrEqual(15);
  expect(perThread.size).toBeGreaterThanOrEqual(120 / 15);
  expect(pool.stats().failed).toBe(0);
  await pool.onIdle();
  await until(() => pool.stats().threads === 2, 10_000, 'threads back to two');
});

test('a task prefetched at the retiring thread goes back to the queue and runs once, on the replacement', async () => {
  const pool = makePool<typeof tasks>('recycle.ts', { maxTasksPerThread: 4 });
  const log = new SharedLog();
  // Three short tasks: the pool measures tasks as short, so it prefetches; the thread has 3 of its 4.
  const warm = [];
  for (let id = 100; id < 103; id++) warm.push(await pool.run('count', { log: log.cells, id }));
  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells, value: 'fourth' });
  await gate.started();
  const prefetched = pool.run('count', { log: log.cells, id: 1 });
  // The blocked task runs, the next waits at the same thread.
  expect(pool.stats()).toMatchObject({ running: 2, queued: 0 });
  gate.open();
  expect(await blocked).toBe('fourth');
  const result = await prefetched;
  expect(result.id).toBe(1);
  expect(result.calls).toBe(1);
  expect(result.thread).not.toBe(warm[0]!.thread);
  expect(log.counts().get(1)).toBe(1);
  expect(pool.stats()).toMatchObject({ failed: 0, completed: 5, retired: 1 });
});
