/**
 * A retirement is never a crash: no run rejects with WorkerCrashError because its thread retired,
 * stats().failed stays 0, and every run settles once with its own result, whatever the thread held:
 * several requests at once (concurrentTasksPerWorker), asynchronous tasks, map chunks, runs with a
 * timeout or a signal.
 */
import { expect, test } from 'vitest';
import { WorkerCrashError } from '../src/index.ts';
import type * as tasks from './fixtures/recycle.ts';
import { SharedLog, makePool, record } from './helpers.ts';

test.each([
  { label: 'two requests per thread, async tasks', concurrentTasksPerWorker: 2, maxThreads: 1 },
  { label: 'two threads, async tasks', concurrentTasksPerWorker: 1, maxThreads: 2 },
])('$label: no run fails, each runs once', async ({ concurrentTasksPerWorker, maxThreads }) => {
  const pool = makePool<typeof tasks>('recycle.ts', { maxTasksPerThread: 20, concurrentTasksPerWorker, maxThreads, minThreads: maxThreads });
  await pool.ready();
  const log = new SharedLog(200);
  const controller = new AbortController();
  const settled = Array.from({ length: 120 }, (_, id) => {
    // Some runs are tracked (a timeout or a signal): they travel alone and announce their start.
    const options = id % 7 === 0 ? { timeout: 60_000 } : id % 11 === 0 ? { signal: controller.signal } : {};
    return record(pool.run(id % 2 === 0 ? 'countLater' : 'count', { log: log.cells, id }, options));
  });
  await Promise.allSettled(settled.map((s) => s.promise));
  for (const [id, s] of settled.entries()) {
    if (s.status === 'rejected') expect.fail(`run ${id} rejected: ${String(s.reason)}${s.reason instanceof WorkerCrashError ? ' (a crash)' : ''}`);
    expect(s.count).toBe(1);
    expect((s.value as { id: number }).id).toBe(id);
  }
  expect([...log.counts().values()].every((times) => times === 1)).toBe(true);
  expect(log.entries()).toHaveLength(120);
  expect(pool.stats()).toMatchObject({ failed: 0, completed: 120 });
  expect(pool.stats().retired).toBeGreaterThanOrEqual(4);
});

test('pool.map: a chunk counts one task per item; every item is mapped once, nothing fails', async () => {
  const pool = makePool<typeof tasks>('recycle.ts', { maxTasksPerThread: 100 });
  const items = Array.from({ length: 1_000 }, (_, i) => i);
  const results = await pool.map('double', items);
  expect(results.map((result) => result.value)).toEqual(items.map((i) => 2 * i));
  const threads = new Set(results.map((result) => result.thread));
  // A thread retires after the chunk in which it passed 100 items: it may run a chunk's worth more.
  expect(threads.size).toBeGreaterThanOrEqual(2);
  expect(pool.stats().failed).toBe(0);
});

test('runs that move buffers, each submitted as the one before settles on a thread retiring after one task: none is lost to the retirement', async () => {
  // Had the thread said it retires only after its last result, a run sent in between would go to
  // the retiring thread, and its buffers would be gone with it.
  const pool = makePool<typeof tasks>('recycle.ts', { maxTasksPerThread: 1, maxThreads: 1, minThreads: 1 });
  await pool.ready();
  for (let round = 0; round < 10; round++) {
    const buffer = new ArrayBuffer(32 + round);
    expect(await pool.run('size', { buffer }, { transfer: [buffer] })).toBe(32 + round);
  }
  expect(pool.stats()).toMatchObject({ failed: 0, completed: 10 });
  expect(pool.stats().retired).toBeGreaterThanOrEqual(9);
});
