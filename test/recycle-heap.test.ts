/**
 * `maxHeapPerThreadMb`: a task that leaks memory on purpose (arrays kept in a module-level list)
 * makes its thread retire once the used heap passes the ceiling; every run succeeds, once, and the
 * thread changes.
 */
import { expect, test } from 'vitest';
import type * as tasks from './fixtures/recycle.ts';
import { SharedLog, makePool, until } from './helpers.ts';

const MB = 2 ** 20;
// A fresh thread uses about 10 MiB of heap here; each leak() keeps 1 MiB more.
const CEILING_MB = 24;

test('one run at a time: threads retire past the ceiling, every run succeeds', async () => {
  const pool = makePool<typeof tasks>('recycle.ts', { maxHeapPerThreadMb: CEILING_MB });
  const results = [];
  for (let i = 0; i < 45; i++) results.push(await pool.run('leak', 1024));
  const threads = results.map((result) => result.thread);
  // A thread ends once its heap passed the ceiling: one task past it at most (plus garbage not yet collected).
  for (const result of results) expect(result.heap).toBeLessThan((CEILING_MB + 4) * MB);
  // Thread ids change and never come back: each thread ran one stretch of tasks.
  const stretches = threads.filter((thread, i) => i === 0 || thread !== threads[i - 1]);
  expect(stretches.length).toBeGreaterThanOrEqual(2);
  expect(new Set(stretches).size).toBe(stretches.length);
  await until(() => pool.stats().retired >= stretches.length - 1, 10_000, 'retirements counted');
  expect(pool.stats()).toMatchObject({ failed: 0, completed: 45 });
});

test('a deep queue of leaking tasks beside counted ones: all succeed, each once', async () => {
  const pool = makePool<typeof tasks>('recycle.ts', { maxHeapPerThreadMb: CEILING_MB });
  await pool.ready();
  const log = new SharedLog(100);
  const runs: Promise<{ thread: number }>[] = [];
  for (let id = 0; id < 60; id++) {
    runs.push(pool.run('leak', 1024));
    runs.push(pool.run('count', { log: log.cells, id }));
  }
  const results = await Promise.all(runs);
  expect(log.entries().sort((a, b) => a - b)).toEqual([...Array(60).keys()]);
  expect(new Set(results.map((result) => result.thread)).size).toBeGreaterThanOrEqual(2);
  expect(pool.stats()).toMatchObject({ failed: 0, completed: 120 });
  expect(pool.stats().retired).toBeGreaterThanOrEqual(1);
});
