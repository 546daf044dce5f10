/**
 * stats(): throughput, slot utilization and the main thread's event loop, each since the previous
 * stats() call; event-loop monitoring stops with the pool.
 */
import { expect, test } from 'vitest';
import { Gate, makePool } from './helpers.ts';
import type * as tasks from './fixtures/observed.ts';

/** Keeps the main thread busy for `ms` (the event loop cannot turn meanwhile). */
function blockMainThread(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

/** Lets the delay monitor's timer fire after a stall (it samples every 20 ms). */
const monitorTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));

test('throughput counts the settles since the previous stats() call', async () => {
  const pool = makePool<typeof tasks>('observed.ts');
  await pool.ready();
  pool.stats();
  await Promise.all(Array.from({ length: 200 }, (_, i) => pool.run('echo', i)));
  const first = pool.stats();
  expect(first.throughput).toBeGreaterThan(0);
  // Nothing settled since: the next window sees none.
  expect(pool.stats().throughput).toBe(0);
});

test('utilization: a thread held the whole window is ~1; an idle pool 0', async () => {
  const pool = makePool<typeof tasks>('observed.ts', { maxThreads: 1 });
  await pool.ready();
  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells });
  await gate.started();
  pool.stats();
  blockMainThread(40);
  const busy = pool.stats();
  expect(busy.utilization).toBeGreaterThan(0.9);
  expect(busy.utilization).toBeLessThanOrEqual(1);
  // The main thread spun for the whole window.
  expect(busy.eventLoop.utilization).toBeGreaterThan(0.5);
  gate.open();
  await blocked;
  await pool.onIdle();
  pool.stats();
  blockMainThread(20);
  expect(pool.stats().utilization).toBe(0);
});

test('event-loop delay: sampled while the pool is open, each window on its own', async () => {
  const pool = makePool<typeof tasks>('observed.ts');
  await pool.ready();
  pool.stats();
  blockMainThread(60);
  await monitorTurn();
  const { delay } = pool.stats().eventLoop;
  expect(delay.count).toBeGreaterThan(0);
  expect(delay.min).toBeGreaterThanOrEqual(0);
  expect(delay.min).toBeLessThanOrEqual(delay.p50);
  expect(delay.p50).toBeLessThanOrEqual(delay.p90);
  expect(delay.p90).toBeLessThanOrEqual(delay.p99);
  expect(delay.p99).toBeLessThanOrEqual(delay.max);
  // Read again at once: the window started over, and the monitor has not ticked since.
  expect(pool.stats().eventLoop.delay.count).toBe(0);
});

test('close() and destroy() stop the event-loop monitor: nothing is sampled after', async () => {
  for (const end of ['close', 'destroy'] as const) {
    const pool = makePool<typeof tasks>('observed.ts');
    await pool.ready();
    await pool.run('echo', 1);
    await pool[end]();
    pool.stats();
    blockMainThread(40);
    await monitorTurn();
    const after = pool.stats();
    expect(after.eventLoop.delay.count).toBe(0);
    // The counts stay readable.
    expect(after.tasks['echo']!.completed).toBe(1);
  }
});
