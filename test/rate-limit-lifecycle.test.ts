/**
 * A run held by a rate limit is still a queued run: abort removes it at once, destroy rejects it,
 * close and onIdle wait for it, maxQueue counts it, and no timer outlives what it waits for.
 * The limiter runs on a clock the test moves by hand (test/manual-clock.ts).
 */
import { describe, expect, test } from 'vitest';
import type { RateLimits } from '../src/index.ts';
import type * as rate from './fixtures/rate.ts';
import { SharedLog, makePool, nextTurn, record, until } from './helpers.ts';
import { useManualClock } from './manual-clock.ts';

function limitedPool(rateLimits: RateLimits<typeof rate> = { count: { limit: 1, interval: 1000 } }, maxQueue?: number) {
  const clock = useManualClock();
  const pool = makePool<typeof rate>('rate.ts', { rateLimits, ...(maxQueue === undefined ? {} : { maxQueue }) });
  const log = new SharedLog();
  const run = (id: number, signal?: AbortSignal) => pool.run('count', { log: log.cells, id }, signal ? { signal } : undefined);
  return { clock, pool, log, run };
}

/** Resolves once the first run has started and every other is held by the limit. */
async function held(pool: ReturnType<typeof limitedPool>['pool'], count: number): Promise<void> {
  await until(() => {
    const stats = pool.stats();
    return stats.running === 0 && stats.completed >= 1 && stats.rateLimited === count;
  }, 10_000, `${count} runs held by the rate limit`);
}

test('aborting a held run rejects it at once with AbortError; the others still run', async () => {
  const { clock, pool, log, run } = limitedPool();
  const controller = new AbortController();
  const first = run(1);
  const doomed = record(run(2, controller.signal));
  const kept = run(3);
  await first;
  await held(pool, 2);
  controller.abort(new Error('no longer needed'));
  // Settled in the abort's own turn, not when the window opens.
  await nextTurn();
  expect(doomed.status).toBe('rejected');
  expect(doomed.reason).toMatchObject({ code: 'TESSERA_ABORTED', reason: new Error('no longer needed') });
  expect(pool.stats()).toMatchObject({ queued: 1, rateLimited: 1, failed: 1 });
  clock.advance(1000);
  await kept;
  expect(log.entries()).toEqual([1, 3]);
  expect(clock.pending).toBe(0);
});

test('aborting every held run clears the timer: nothing is left waiting on it', async () => {
  const { clock, pool, run } = limitedPool();
  const controller = new AbortController();
  await run(1);
  const held2 = record(run(2, controller.signal));
  const held3 = record(run(3, controller.signal));
  await held(pool, 2);
  expect(clock.pending).toBe(1);
  controller.abort();
  await nextTurn();
  expect([held2.status, held3.status]).toEqual(['rejected', 'rejected']);
  expect(clock.pending).toBe(0);
  await pool.onIdle();
});

test('destroy() rejects held runs with PoolDestroyedError and clears the timers', async () => {
  const { clock, pool, run } = limitedPool({ count: { limit: 1, interval: 1000 }, '*': { limit: 5, interval: 1000 } });
  await run(1);
  const waiting = [2, 3, 4].map((id) => record(run(id)));
  await held(pool, 3);
  expect(clock.pending).toBe(1);
  await pool.destroy();
  expect(waiting.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
  for (const s of waiting) expect(s.reason).toMatchObject({ code: 'TESSERA_POOL_DESTROYED' });
  expect(clock.pending).toBe(0);
  expect(pool.stats()).toMatchObject({ queued: 0, rateLimited: 0, failed: 3 });
});

test('close() waits for held runs to run, then resolves', async () => {
  const { clock, pool, log, run } = limitedPool();
  await run(1);
  const waiting = [2, 3].map((id) => record(run(id)));
  await held(pool, 2);
  const closing = record(pool.close());
  await nextTurn();
  expect(closing.status).toBe('pending');
  await expect(run(4)).rejects.toMatchObject({ code: 'TESSERA_POOL_CLOSED' });
  clock.advance(1000);
  await log.length(2);
  await until(() => pool.stats().rateLimited === 1 && pool.stats().running === 0, 10_000, 'the third run held');
  expect(closing.status).toBe('pending');
  clock.advance(1000);
  await closing.promise;
  expect(waiting.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
  expect(log.entries()).toEqual([1, 2, 3]);
  expect(clock.pending).toBe(0);
});

test('onIdle() waits for held runs', async () => {
  const { clock, pool, log, run } = limitedPool();
  await run(1);
  const waiting = run(2);
  await held(pool, 1);
  const idle = record(pool.onIdle());
  await nextTurn();
  expect(idle.status).toBe('pending');
  clock.advance(1000);
  await idle.promise;
  // onIdle resolves after the run's own handlers: it has settled.
  expect((await waiting).id).toBe(2);
  expect(log.entries()).toEqual([1, 2]);
});

describe('held runs are queued runs', () => {
  test('maxQueue counts them: beyond it run rejects with QueueFullError, and waitForCapacity waits', async () => {
    const { clock, pool, run } = limitedPool({ count: { limit: 1, interval: 1000 } }, 2);
    await run(1);
    const waiting = [run(2), run(3)];
    await held(pool, 2);
    await expect(run(4)).rejects.toMatchObject({ code: 'TESSERA_QUEUE_FULL', maxQueue: 2 });
    const capacity = record(pool.waitForCapacity());
    await nextTurn();
    expect(capacity.status).toBe('pending');
    clock.advance(1000);
    await capacity.promise;
    clock.advance(1000);
    await Promise.all(waiting);
  });

  test('an idle thread does not let a run past the limit, nor past maxQueue', async () => {
    const { clock, pool, run } = limitedPool({ count: { limit: 1, interval: 1000 } }, 0);
    await run(1);
    await pool.onIdle();
    // The thread is free, but the window is full: the run would have to wait, and maxQueue is 0.
    await expect(run(2)).rejects.toMatchObject({ code: 'TESSERA_QUEUE_FULL' });
    clock.advance(1000);
    expect((await run(3)).id).toBe(3);
  });

  test('stats() counts them in queued, queuedByPriority and rateLimited', async () => {
    const { clock, pool, log } = limitedPool();
    const first = pool.run('count', { log: log.cells, id: 1 });
    const later = [
      pool.run('count', { log: log.cells, id: 2 }, { priority: 3 }),
      pool.run('count', { log: log.cells, id: 3 }, { priority: 3 }),
      pool.run('count', { log: log.cells, id: 4 }, { priority: -1 }),
    ];
    await first;
    await held(pool, 3);
    expect(pool.stats()).toMatchObject({ queued: 3, rateLimited: 3, queuedByPriority: { '3': 2, '-1': 1 } });
    for (let started = 2; started <= 4; started++) {
      clock.advance(1000);
      await log.length(started);
    }
    await Promise.all(later);
    expect(pool.stats()).toMatchObject({ queued: 0, rateLimited: 0, queuedByPriority: {} });
  });
});

test('a pool with no rate limits reports rateLimited: 0 and arms no timer', async () => {
  const clock = useManualClock();
  const pool = makePool<typeof rate>('rate.ts');
  const log = new SharedLog();
  await Promise.all([1, 2, 3].map((id) => pool.run('count', { log: log.cells, id })));
  expect(pool.stats().rateLimited).toBe(0);
  expect(clock.pending).toBe(0);
});

test('a module that fails to load rejects held runs with ModuleLoadError and leaves no timer', async () => {
  const clock = useManualClock();
  const pool = makePool('throws-at-import.ts', { rateLimits: { '*': { limit: 1, interval: 1000 } } });
  const runs = [1, 2, 3, 4].map(() => record(pool.run('never')));
  await expect(pool.ready()).rejects.toMatchObject({ code: 'TESSERA_MODULE_LOAD' });
  await Promise.allSettled(runs.map((s) => s.promise));
  for (const s of runs) expect(s.reason).toMatchObject({ code: 'TESSERA_MODULE_LOAD' });
  expect(pool.stats()).toMatchObject({ queued: 0, rateLimited: 0 });
  expect(clock.pending).toBe(0);
});

test('aborting a map drops its held chunks at once and leaves no timer', async () => {
  const { clock, pool, log } = limitedPool({ count: { limit: 2, interval: 1000 } });
  const controller = new AbortController();
  const items = Array.from({ length: 10 }, (_, i) => ({ log: log.cells, id: i + 1 }));
  const mapped = record(pool.map('count', items, { signal: controller.signal }));
  await log.length(2);
  await until(() => pool.stats().running === 0 && pool.stats().rateLimited > 0, 10_000, 'the later chunks held');
  expect(clock.pending).toBe(1);
  controller.abort(new Error('stop'));
  await expect(mapped.promise).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });
  await pool.onIdle();
  expect(pool.stats()).toMatchObject({ queued: 0, rateLimited: 0 });
  expect(clock.pending).toBe(0);
  expect(log.entries()).toEqual([1, 2]);
});
