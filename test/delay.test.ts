/**
 * Delayed runs (`delay`, `runAt`) on real threads, under a wall clock the test moves by hand
 * (test/due-clock.ts): a held run has no thread and no queue place until the clock reaches it.
 */
import { describe, expect, test } from 'vitest';
import { AbortError, ErrorCodes, PoolClosedError, PoolDestroyedError, QueueFullError } from '../src/index.ts';
import type * as ordering from './fixtures/ordering.ts';
import { useDueClock } from './due-clock.ts';
import { Gate, SharedLog, claimsIdle, makePool, nextTurn, record, within } from './helpers.ts';

type OrderingModule = typeof ordering;

describe('held until due', () => {
  test('a delayed run is accepted at once, holds nothing, and runs when the clock reaches it', async () => {
    const clock = useDueClock();
    const pool = makePool<OrderingModule>('ordering.ts');
    const run = record(pool.run('echo', 'later', { delay: 1_000 }));
    expect(pool.stats()).toMatchObject({ accepted: 1, delayed: 1, queued: 0, running: 0 });
    expect(clock.pending).toBe(1);
    clock.advance(999);
    await nextTurn();
    expect(run.status).toBe('pending');
    expect(await claimsIdle(pool)).toBe(false);
    clock.advance(1);
    await expect(within(run.promise, 10_000, 'the delayed run')).resolves.toBe('later');
    expect(pool.stats()).toMatchObject({ accepted: 1, completed: 1, delayed: 0 });
    // Nothing held: no timer left.
    expect(clock.pending).toBe(0);
  });

  test('runAt takes a Date or epoch ms; a time already past runs at once', async () => {
    const clock = useDueClock();
    const pool = makePool<OrderingModule>('ordering.ts');
    const now = clock.now();
    await expect(pool.run('echo', 'past', { runAt: new Date(now - 60_000) })).resolves.toBe('past');
    const byDate = record(pool.run('echo', 'date', { runAt: new Date(now + 5_000) }));
    const byNumber = record(pool.run('echo', 'number', { runAt: now + 10_000 }));
    expect(pool.stats().delayed).toBe(2);
    clock.advanceTo(now + 5_000);
    await expect(byDate.promise).resolves.toBe('date');
    expect(byNumber.status).toBe('pending');
    clock.advanceTo(now + 10_000);
    await expect(byNumber.promise).resolves.toBe('number');
  });

  test('thousands of delayed runs share one timer and come due in time order, FIFO among equal times', async () => {
    const clock = useDueClock();
    const pool = makePool<OrderingModule>('ordering.ts');
    const log = new SharedLog(2_000);
    const runs: Promise<number>[] = [];
    // Ids 0..1999: due at (1999 - id) % 10 seconds, so later ids come due first within a second, and
    // equal due times hold many ids each.
    for (let id = 0; id < 2_000; id++) runs.push(pool.run('mark', { log: log.cells, id }, { delay: ((1999 - id) % 10) * 1_000 + 1 }));
    expect(clock.pending).toBe(1);
    expect(pool.stats().delayed).toBe(2_000);
    clock.advance(1);
    await within(log.length(200), 10_000, 'the first second');
    for (let second = 1; second < 10; second++) {
      clock.advance(1_000);
      await within(log.length(200 * (second + 1)), 10_000, `second ${second}`);
    }
    await Promise.all(runs);
    // One thread runs the queue in its order: each second's runs after the previous second's, in
    // submission order among themselves.
    const expected = Array.from({ length: 10 }, (_, second) =>
      Array.from({ length: 2_000 }, (_, id) => id).filter((id) => (1999 - id) % 10 === second),
    ).flat();
    expect(log.entries()).toEqual(expected);
    expect(clock.pending).toBe(0);
  });
});

describe('abort, queue places, close, destroy, onIdle', () => {
  test('aborting a held run rejects it at once and lets go of its deadline', async () => {
    const clock = useDueClock();
    const pool = makePool<OrderingModule>('ordering.ts');
    const controller = new AbortController();
    const run = record(pool.run('echo', 1, { delay: 60_000, signal: controller.signal }));
    controller.abort('no longer needed');
    await nextTurn();
    expect(run.status).toBe('rejected');
    expect(run.reason).toBeInstanceOf(AbortError);
    expect(pool.stats()).toMatchObject({ delayed: 0, failed: 1, accepted: 1 });
    expect(clock.pending).toBe(0);
    expect(await claimsIdle(pool)).toBe(true);
  });

  test('a held run takes no queue place; due while the queue is full, it rejects with QueueFullError', async () => {
    const clock = useDueClock();
    const pool = makePool<OrderingModule>('ordering.ts', { maxQueue: 0 });
    const gate = new Gate();
    const blocked = pool.run('block', { cells: gate.cells });
    await gate.started(1);
    await expect(pool.run('echo', 'now')).rejects.toBeInstanceOf(QueueFullError);
    const held = record(pool.run('echo', 'later', { delay: 100 }));
    expect(pool.stats()).toMatchObject({ delayed: 1, queued: 0 });
    clock.advance(100);
    await nextTurn();
    expect(held.reason).toBeInstanceOf(QueueFullError);
    gate.open();
    await blocked;
    // With room when due, it runs.
    const fine = pool.run('echo', 'fine', { delay: 100 });
    clock.advance(100);
    await expect(fine).resolves.toBe('fine');
  });

  test('onIdle() waits for a delayed run; close() rejects runs not yet due with PoolClosedError', async () => {
    const clock = useDueClock();
    const pool = makePool<OrderingModule>('ordering.ts');
    const due = record(pool.run('echo', 'soon', { delay: 10 }));
    const later = record(pool.run('echo', 'next week', { delay: 7 * 24 * 3_600_000 }));
    const idle = record(pool.onIdle());
    clock.advance(10);
    await expect(due.promise).resolves.toBe('soon');
    await nextTurn();
    expect(idle.status).toBe('pending');
    await within(pool.close(), 10_000, 'close()');
    expect(later.reason).toBeInstanceOf(PoolClosedError);
    expect(idle.status).toBe('fulfilled');
    expect(clock.pending).toBe(0);
    expect(pool.stats()).toMatchObject({ accepted: 2, completed: 1, failed: 1, delayed: 0 });
  });

  test('destroy() rejects held runs with PoolDestroyedError', async () => {
    const clock = useDueClock();
    const pool = makePool<OrderingModule>('ordering.ts');
    const held = record(pool.run('echo', 1, { delay: 1_000 }));
    await pool.destroy();
    await nextTurn();
    expect(held.reason).toBeInstanceOf(PoolDestroyedError);
    expect(clock.pending).toBe(0);
  });
});

describe('with the other run options', () => {
  test('a delayed run with an ordering key joins its key when due', async () => {
    const clock = useDueClock();
    const pool = makePool<OrderingModule>('ordering.ts', { maxThreads: 2, minThreads: 2 });
    const gate = new Gate();
    const log = new SharedLog();
    const first = pool.run('block', { cells: gate.cells }, { orderingKey: 'k' });
    await gate.started(1);
    const delayed = record(pool.run('mark', { log: log.cells, id: 1 }, { orderingKey: 'k', delay: 50 }));
    const after = record(pool.run('mark', { log: log.cells, id: 2 }, { orderingKey: 'k' }));
    clock.advance(50);
    await nextTurn();
    expect(pool.stats()).toMatchObject({ delayed: 0, ordered: 2 });
    gate.open();
    await Promise.all([first, delayed.promise, after.promise]);
    // It joined when due, after the run submitted later but accepted into the key first.
    expect(log.entries()).toEqual([2, 1]);
  });

  test('a delayed run with an idempotency key is shared while it is held', async () => {
    const clock = useDueClock();
    const pool = makePool<OrderingModule>('ordering.ts');
    const log = new SharedLog();
    const first = pool.run('mark', { log: log.cells, id: 1 }, { key: 'job', delay: 100 });
    const second = pool.run('mark', { log: log.cells, id: 2 }, { key: 'job' });
    clock.advance(100);
    await expect(Promise.all([first, second])).resolves.toEqual([1, 1]);
    expect(log.entries()).toEqual([1]);
    expect(pool.stats()).toMatchObject({ shared: 1, accepted: 1 });
  });
});

describe('validation', () => {
  test('delay and runAt: typed errors at once, nothing accepted', async () => {
    useDueClock();
    const pool = makePool<OrderingModule>('ordering.ts');
    const revoked = Proxy.revocable(new Date(), {});
    revoked.revoke();
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ delay: -1 }, /`delay`/],
      [{ delay: Number.NaN }, /`delay`/],
      [{ delay: Infinity }, /`delay`/],
      [{ delay: '5' }, /`delay`/],
      [{ delay: 5, runAt: Date.now() }, /`delay` to be left out when `runAt` is given/],
      [{ runAt: new Date(Number.NaN) }, /`runAt` to be a valid Date/],
      [{ runAt: Infinity }, /`runAt`/],
      [{ runAt: '2030-01-01' }, /`runAt` to be a Date or a number/],
      [{ runAt: new Proxy(new Date(), {}) }, /`runAt` to be a Date or a number/],
      [{ runAt: revoked.proxy }, /`runAt`/],
      [{ runAt: { getTime: () => 5 } }, /`runAt`/],
    ];
    for (const [options, message] of bad) {
      const error = await pool.run('echo', 1, options).catch((e: unknown) => e);
      expect((error as { code: string }).code, JSON.stringify(Object.keys(options))).toBe(ErrorCodes.INVALID_OPTION);
      expect(String(error)).toMatch(message);
    }
    await expect(pool.map('echo', [1], { delay: 5 } as never)).rejects.toThrow(/pool.map is not delayed/);
    expect(pool.stats().accepted).toBe(0);
  });
});
