/** stats(): per-name outcome counts and the wait/run histograms, from real runs on real threads. */
import { expect, test } from 'vitest';
import { Gate, makePool } from './helpers.ts';
import { Attempts } from './retry-helpers.ts';
import type * as tasks from './fixtures/observed.ts';

test('each outcome counts under its task name; histograms count every attempt that ran', async () => {
  const pool = makePool<typeof tasks>('observed.ts', { abortGrace: 0, prefetch: 0 });
  await pool.ready();
  await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run('echo', i)));
  await expect(pool.run('quota')).rejects.toMatchObject({ code: 'E_QUOTA' });
  await expect(pool.run('hang', {}, { timeout: 30 })).rejects.toMatchObject({ code: 'TESSERA_TASK_TIMEOUT' });
  // Aborted while queued behind a blocked thread (no prefetch): never ran, so in no histogram.
  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells });
  await gate.started();
  const controller = new AbortController();
  const aborted = pool.run('echo', 1, { signal: controller.signal });
  controller.abort();
  await expect(aborted).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });
  gate.open();
  await blocked;
  // Fails once, then succeeds: one retry, one completion.
  const attempts = new Attempts();
  await pool.run('flaky', attempts.input(0, 1), { retry: { attempts: 3, backoff: 'fixed', delay: 0 } });
  await pool.onIdle();

  const stats = pool.stats();
  expect(stats.tasks).toEqual({
    echo: { completed: 20, failed: 0, aborted: 1, timedOut: 0, retried: 0 },
    quota: { completed: 0, failed: 1, aborted: 0, timedOut: 0, retried: 0 },
    hang: { completed: 0, failed: 0, aborted: 0, timedOut: 1, retried: 0 },
    block: { completed: 1, failed: 0, aborted: 0, timedOut: 0, retried: 0 },
    flaky: { completed: 1, failed: 0, aborted: 0, timedOut: 0, retried: 1 },
  });
  // Outcomes add up to the pool's own counts.
  const settled = Object.values(stats.tasks).reduce((n, c) => n + c.completed + c.failed + c.aborted + c.timedOut, 0);
  expect(settled).toBe(stats.accepted);
  expect(stats.completed).toBe(22);
  // 20 echo + quota + hang + block + flaky twice; the aborted run never left the queue.
  expect(stats.runTime.count).toBe(25);
  expect(stats.waitTime.count).toBe(25);
  // The hang ran until its 30 ms timeout.
  expect(stats.runTime.max).toBeGreaterThanOrEqual(30);
});

test('run times: a 40 ms task shows in max and p99, p50 <= p90 <= p99 <= max; a queued task shows its wait', async () => {
  const pool = makePool<typeof tasks>('observed.ts', { maxBatch: 1, prefetch: 0 });
  await pool.ready();
  for (let i = 0; i < 9; i++) await pool.run('echo', i);
  // Queued behind the 40 ms spin on the one thread (no prefetch): it waits about that long.
  const [spun] = await Promise.all([pool.run('spin', 40), pool.run('echo', 'behind')]);
  expect(spun).toBeGreaterThan(0);
  const { runTime, waitTime } = pool.stats();
  expect(runTime.count).toBe(11);
  expect(runTime.max).toBeGreaterThanOrEqual(40);
  expect(runTime.p99).toBeGreaterThanOrEqual(40);
  expect(runTime.p50).toBeLessThan(40);
  expect(runTime.p50).toBeLessThanOrEqual(runTime.p90);
  expect(runTime.p90).toBeLessThanOrEqual(runTime.p99);
  expect(runTime.p99).toBeLessThanOrEqual(runTime.max);
  expect(runTime.min).toBeGreaterThan(0);
  expect(waitTime.max).toBeGreaterThanOrEqual(30);
});

test('a map counts each chunk under its task name; a keyed run that shares an execution counts once', async () => {
  const pool = makePool<typeof tasks>('observed.ts');
  await pool.ready();
  const results = await pool.map('echo', Array.from({ length: 50 }, (_, i) => i));
  expect(results).toHaveLength(50);
  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells });
  await gate.started();
  const keyed = [pool.run('echo', 'k', { key: 'same' }), pool.run('echo', 'k', { key: 'same' })];
  gate.open();
  await Promise.all([blocked, ...keyed]);
  const stats = pool.stats();
  expect(stats.shared).toBe(1);
  expect(stats.tasks['echo']!.completed).toBe(stats.accepted - 1);
});
