/**
 * Rate limits on real worker threads, under a clock the test moves by hand (test/manual-clock.ts):
 * time stands still between `clock.advance` calls, so what starts between two of them started in
 * one window. Starts are observed from the thread side, in a SharedLog the tasks append to.
 */
import { describe, expect, test } from 'vitest';
import { createPool, type Pool, type RateLimits } from '../src/index.ts';
import type * as rate from './fixtures/rate.ts';
import { Gate, SharedLog, fixture, makePool, track, until } from './helpers.ts';
import { useManualClock } from './manual-clock.ts';

type RatePool = Pool<typeof rate>;

function limitedPool(rateLimits: RateLimits<typeof rate>, options: { maxThreads?: number; minThreads?: number; maxBatch?: number; abortGrace?: number } = {}) {
  const clock = useManualClock();
  const pool = makePool<typeof rate>('rate.ts', { rateLimits, ...options });
  const log = new SharedLog();
  const run = (name: 'count' | 'tally', id: number, priority?: number) =>
    pool.run(name, { log: log.cells, id }, priority === undefined ? undefined : { priority });
  return { clock, pool, log, run };
}

/**
 * Resolves once nothing runs and every queued task is held by a rate limit: from then on nothing
 * starts until the clock moves (or a task is submitted).
 */
async function quiet(pool: RatePool): Promise<void> {
  await until(
    () => {
      const stats = pool.stats();
      return stats.running === 0 && stats.queued === stats.rateLimited;
    },
    10_000,
    'the pool settling down under its rate limits',
  );
}

describe('over the limit, runs wait in the queue and never fail', () => {
  test('at most `limit` runs start per window; the others start as windows open', async () => {
    const { clock, pool, log, run } = limitedPool({ count: { limit: 2, interval: 1000 } });
    const runs = [1, 2, 3, 4, 5].map((id) => run('count', id));
    await quiet(pool);
    expect(log.entries()).toEqual([1, 2]);
    expect(pool.stats()).toMatchObject({ queued: 3, rateLimited: 3, failed: 0 });
    // One timer for the limited name, not one per waiting run.
    expect(clock.pending).toBe(1);
    expect(clock.nextDue).toBe(1000);

    clock.advance(999);
    await quiet(pool);
    expect(log.entries()).toEqual([1, 2]);

    clock.advance(1);
    await log.length(4);
    await quiet(pool);
    expect(log.entries()).toEqual([1, 2, 3, 4]);
    expect(pool.stats()).toMatchObject({ queued: 1, rateLimited: 1 });

    clock.advance(1000);
    expect((await Promise.all(runs)).map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
    expect(pool.stats()).toMatchObject({ queued: 0, rateLimited: 0, completed: 5, failed: 0 });
    // Nothing waits: no timer is left.
    expect(clock.pending).toBe(0);
  });

  test.each([
    { strict: false, label: 'fixed windows: the window that opened at 0 holds 2 starts, the next opens at 1000' },
    { strict: true, label: 'strict: at most 2 starts in any 1000 ms, so the fourth waits for the start at 600 to age out' },
  ])('$label', async ({ strict }) => {
    const { clock, pool, log, run } = limitedPool({ count: { limit: 2, interval: 1000, strict } });
    const first = run('count', 1);
    await first;
    clock.advance(600);
    const rest = [2, 3, 4].map((id) => run('count', id));
    await quiet(pool);
    expect(log.entries()).toEqual([1, 2]);
    clock.advance(400); // t = 1000: the start at 0 is a window old
    await log.length(3);
    await quiet(pool);
    if (strict) {
      expect(log.entries()).toEqual([1, 2, 3]);
      clock.advance(599);
      await quiet(pool);
      expect(log.entries()).toEqual([1, 2, 3]);
      clock.advance(1); // t = 1600: the start at 600 ages out
      await log.length(4);
    } else {
      // Fixed: a new window opened at 1000, with room for both.
      expect(log.entries()).toEqual([1, 2, 3, 4]);
    }
    await Promise.all(rest);
    expect(pool.stats().failed).toBe(0);
  });
});

test('within a name, waiting runs keep their priority order', async () => {
  const { clock, pool, log, run } = limitedPool({ count: { limit: 1, interval: 1000 } });
  await run('count', 1);
  const plan: Array<[id: number, priority: number]> = [
    [2, 0],
    [3, 5],
    [4, 0],
    [5, 10],
    [6, -1],
  ];
  const runs = plan.map(([id, priority]) => run('count', id, priority));
  await quiet(pool);
  expect(pool.stats().queuedByPriority).toEqual({ '-1': 1, '0': 2, '5': 1, '10': 1 });
  for (let started = 2; started <= 6; started++) {
    clock.advance(1000);
    await log.length(started);
    await quiet(pool);
    expect(log.entries()).toHaveLength(started);
  }
  await Promise.all(runs);
  expect(log.entries()).toEqual([1, 5, 3, 2, 4, 6]);
});

describe('a limited name does not hold back other names', () => {
  test('runs of an unlimited name complete while the limited name waits, the clock standing still', async () => {
    const { clock, pool, log, run } = limitedPool({ count: { limit: 1, interval: 1000 } });
    const limited = [1, 2, 3, 4].map((id) => run('count', id, 10));
    await quiet(pool);
    // The limited runs come first by priority, and wait; the others go past them.
    const others = await Promise.all([11, 12, 13].map((id) => run('tally', id)));
    expect(others.map((r) => r.id)).toEqual([11, 12, 13]);
    expect(log.entries()).toEqual([1, 11, 12, 13]);
    expect(pool.stats()).toMatchObject({ queued: 3, rateLimited: 3 });
    for (let started = 5; started <= 7; started++) {
      clock.advance(1000);
      await log.length(started);
    }
    await Promise.all(limited);
  });

  test('a limited name at the head of the queue is passed by the tasks behind it', async () => {
    const { clock, pool, log, run } = limitedPool({ count: { limit: 1, interval: 1000 } });
    // The thread is busy while the queue fills: the limited runs are the heap's head.
    const gate = new Gate();
    const blocked = pool.run('block', { cells: gate.cells });
    await gate.started();
    const limited = [1, 2, 3].map((id) => run('count', id, 10));
    const others = [11, 12].map((id) => run('tally', id, 0));
    expect(pool.stats().queued).toBe(5);
    gate.open();
    await blocked;
    await Promise.all(others);
    await quiet(pool);
    expect(log.entries()).toEqual([1, 11, 12]);
    expect(pool.stats()).toMatchObject({ queued: 2, rateLimited: 2 });
    for (let started = 4; started <= 5; started++) {
      clock.advance(1000);
      await log.length(started);
    }
    await Promise.all(limited);
  });

  test('two limited names each get their own window', async () => {
    const { clock, pool, log, run } = limitedPool({ count: { limit: 1, interval: 1000 }, tally: { limit: 2, interval: 500 } });
    const runs = [run('count', 1), run('count', 2), run('tally', 11), run('tally', 12), run('tally', 13)];
    await quiet(pool);
    expect(log.entries().sort()).toEqual([1, 11, 12]);
    // One timer per waiting name.
    expect(clock.pending).toBe(2);
    clock.advance(500);
    await log.length(4);
    await quiet(pool);
    expect(log.entries().slice(3)).toEqual([13]);
    clock.advance(500);
    await Promise.all(runs);
    expect(log.entries().slice(4)).toEqual([2]);
  });
});

describe("the pool-wide limit, key '*'", () => {
  test('counts every run of every name', async () => {
    const { clock, pool, log, run } = limitedPool({ '*': { limit: 3, interval: 1000 } });
    const runs = [run('count', 1), run('tally', 2), run('count', 3), run('tally', 4), run('count', 5)];
    await quiet(pool);
    expect(log.entries()).toEqual([1, 2, 3]);
    expect(pool.stats()).toMatchObject({ queued: 2, rateLimited: 2 });
    expect(clock.pending).toBe(1);
    clock.advance(1000);
    await Promise.all(runs);
    expect(log.entries()).toEqual([1, 2, 3, 4, 5]);
    expect(clock.pending).toBe(0);
  });

  test('applies on top of a name\'s own limit', async () => {
    const { clock, pool, log, run } = limitedPool({ '*': { limit: 2, interval: 1000 }, count: { limit: 1, interval: 1000 } });
    const runs = [run('count', 1), run('count', 2), run('tally', 3), run('tally', 4)];
    await quiet(pool);
    expect(log.entries()).toEqual([1, 3]);
    clock.advance(1000);
    await log.length(4);
    await quiet(pool);
    expect(log.entries()).toEqual([1, 3, 2, 4]);
    await Promise.all(runs);
  });
});

test('a batch carries no more runs of a limited name than its window allows', async () => {
  // An aborted occupant leaves the batch sizer untimed, so the queue really goes out in batches.
  const { clock, pool, log, run } = limitedPool({ count: { limit: 3, interval: 1000 } }, { abortGrace: 0 });
  const gate = new Gate();
  const controller = new AbortController();
  const occupant = pool.run('hang', { cells: gate.cells }, { signal: controller.signal });
  await gate.started();
  const runs = Array.from({ length: 8 }, (_, i) => run('count', i + 1));
  controller.abort(new Error('make way'));
  await expect(occupant).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });
  await quiet(pool);
  expect(log.entries()).toEqual([1, 2, 3]);
  clock.advance(1000);
  await log.length(6);
  await quiet(pool);
  expect(log.entries()).toEqual([1, 2, 3, 4, 5, 6]);
  clock.advance(1000);
  await Promise.all(runs);
});

test('pool.map counts each item; its chunks carry at most the limit', async () => {
  const { clock, pool, log } = limitedPool({ count: { limit: 5, interval: 1000 } });
  const items = Array.from({ length: 12 }, (_, i) => ({ log: log.cells, id: i + 1 }));
  const mapped = pool.map('count', items);
  await log.length(5);
  await quiet(pool);
  expect(log.entries()).toHaveLength(5);
  clock.advance(1000);
  await log.length(10);
  await quiet(pool);
  expect(log.entries()).toHaveLength(10);
  clock.advance(1000);
  expect((await mapped).map((r) => r.id)).toEqual(items.map((item) => item.id));
  expect(log.entries()).toEqual(items.map((item) => item.id));
});

test('a partitioned run counts once, however many parts it runs', async () => {
  const clock = useManualClock();
  const log = new SharedLog();
  const pool = track(
    createPool<typeof rate>({
    module: fixture('rate.ts'),
    maxThreads: 2,
    minThreads: 2,
    rateLimits: { count: { limit: 1, interval: 1000 } },
    partitions: {
      count: {
        split: (input, parts) => Array.from({ length: parts }, (_, i) => ({ log: input.log, id: input.id * 10 + i })),
        merge: (results) => ({ id: results[0]!.id, thread: 0, calls: results.length }),
      },
    },
  }),
  );
  await pool.ready();
  const first = pool.run('count', { log: log.cells, id: 1 });
  const second = pool.run('count', { log: log.cells, id: 2 });
  expect((await first).calls).toBe(2);
  await quiet(pool);
  expect(log.entries().sort()).toEqual([10, 11]);
  expect(pool.stats()).toMatchObject({ queued: 1, rateLimited: 1 });
  clock.advance(1000);
  expect((await second).calls).toBe(2);
  expect(log.entries().slice(2).sort()).toEqual([20, 21]);
});
