/**
 * Ordering keys on real threads: runs of one key one at a time, in acceptance order, retries
 * included; other keys in parallel. Overlap is observed from the thread side, in shared memory.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { AbortError, ErrorCodes, PoolDestroyedError, QueueFullError, TaskTimeoutError } from '../src/index.ts';
import type * as ordering from './fixtures/ordering.ts';
import { Gate, SharedLog, allSettledWithin, makePool, nextTurn, record, turns, within } from './helpers.ts';
import { setRetryTimersForTests } from '../src/retry.ts';
import { HeldTimers } from './retry-helpers.ts';

type OrderingModule = typeof ordering;

afterEach(() => setRetryTimersForTests(undefined));

function cells(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * n));
}

describe('one key, one run at a time', () => {
  test('many keys on 2 threads with retries: no two runs of a key overlap, each key in submission order, keys in parallel', async () => {
    const pool = makePool<OrderingModule>('ordering.ts', { maxThreads: 2, minThreads: 2 });
    const keys = 8;
    const perKey = 12;
    const active = cells(keys);
    const peak = cells(keys);
    const attempts = cells(keys * perKey);
    const log = new SharedLog(keys * perKey);
    const runs: Promise<number>[] = [];
    // Interleaved submission, so the queue mixes keys; every third run fails its first attempt.
    for (let n = 0; n < perKey; n++) {
      for (let key = 0; key < keys; key++) {
        const id = key * perKey + n;
        const input = { active, peak, attempts, log: log.cells, key, id, failFirst: id % 3 === 0, work: 1 };
        runs.push(pool.run('step', input, { orderingKey: `account-${key}`, retry: { attempts: 2, delay: 0 } }));
      }
    }
    const results = await within(Promise.all(runs), 60_000, 'the ordered runs');
    expect(results.length).toBe(keys * perKey);
    expect(Array.from(peak)).toEqual(Array(keys).fill(1));
    // Each key's successes in submission order (its retried runs included).
    const entries = log.entries();
    for (let key = 0; key < keys; key++) {
      const ofKey = entries.filter((id) => Math.floor(id / perKey) === key);
      expect(ofKey).toEqual(Array.from({ length: perKey }, (_, n) => key * perKey + n));
    }
    const stats = pool.stats();
    expect(stats.retries).toBe(Array.from({ length: keys * perKey }, (_, id) => id).filter((id) => id % 3 === 0).length);
    expect(stats).toMatchObject({ queued: 0, ordered: 0, completed: keys * perKey, failed: 0, accepted: keys * perKey });
  });

  test('a run waits behind its key while a thread is free; a run of another key passes it', async () => {
    const pool = makePool<OrderingModule>('ordering.ts', { maxThreads: 2, minThreads: 2 });
    const gate = new Gate();
    const log = new SharedLog();
    const first = pool.run('block', { cells: gate.cells, value: 'first' }, { orderingKey: 'k' });
    await gate.started(1);
    const second = record(pool.run('mark', { log: log.cells, id: 2 }, { orderingKey: 'k' }));
    // Another key goes to the free thread and finishes while `k` is held.
    await expect(pool.run('mark', { log: log.cells, id: 9 }, { orderingKey: 'other' })).resolves.toBe(9);
    expect(second.status).toBe('pending');
    expect(pool.stats()).toMatchObject({ queued: 1, ordered: 1, queuedByPriority: { 0: 1 } });
    gate.open();
    await expect(first).resolves.toBe('first');
    await expect(second.promise).resolves.toBe(2);
    expect(log.entries()).toEqual([9, 2]);
  });

  test('the next run waits for every retry of the one before it', async () => {
    const timers = new HeldTimers();
    setRetryTimersForTests(timers);
    const pool = makePool<OrderingModule>('ordering.ts', { maxThreads: 2, minThreads: 2 });
    const active = cells(1);
    const peak = cells(1);
    const attempts = cells(2);
    const log = new SharedLog();
    const base = { active, peak, attempts, log: log.cells, key: 0, work: 0 };
    const a = pool.run('step', { ...base, id: 0, failFirst: true }, { orderingKey: 'k', retry: { attempts: 2 } });
    const b = record(pool.run('step', { ...base, id: 1, failFirst: false }, { orderingKey: 'k' }));
    await timers.scheduled(1);
    // A waits on its backoff, holding no thread: B still waits for it.
    await turns(3);
    expect(pool.stats()).toMatchObject({ retrying: 1, ordered: 1, running: 0 });
    expect(Atomics.load(attempts, 1)).toBe(0);
    expect(b.status).toBe('pending');
    timers.fireAll();
    await expect(a).resolves.toBe(0);
    await expect(b.promise).resolves.toBe(1);
    expect(log.entries()).toEqual([0, 1]);
    expect(Atomics.load(attempts, 0)).toBe(2);
  });

  test('priority does not reorder the runs of one key', async () => {
    const pool = makePool<OrderingModule>('ordering.ts');
    const gate = new Gate();
    const log = new SharedLog();
    const first = pool.run('block', { cells: gate.cells }, { orderingKey: 'k' });
    await gate.started(1);
    const low = pool.run('mark', { log: log.cells, id: 1 }, { orderingKey: 'k', priority: 0 });
    const high = pool.run('mark', { log: log.cells, id: 2 }, { orderingKey: 'k', priority: 100 });
    gate.open();
    await Promise.all([first, low, high]);
    expect(log.entries()).toEqual([1, 2]);
  });

  test('a failed run lets the next one of its key go', async () => {
    const pool = makePool<OrderingModule>('ordering.ts');
    const log = new SharedLog();
    const failed = pool.run('fail', { message: 'nope' }, { orderingKey: 'k' });
    const next = pool.run('mark', { log: log.cells, id: 1 }, { orderingKey: 'k' });
    await expect(failed).rejects.toThrow('nope');
    await expect(next).resolves.toBe(1);
  });
});

describe('held runs: abort, maxQueue, close, destroy', () => {
  test('aborting a held run rejects it at once; the runs behind it keep their order', async () => {
    const pool = makePool<OrderingModule>('ordering.ts');
    const gate = new Gate();
    const log = new SharedLog();
    const first = pool.run('block', { cells: gate.cells }, { orderingKey: 'k' });
    await gate.started(1);
    const controller = new AbortController();
    const aborted = record(pool.run('mark', { log: log.cells, id: 1 }, { orderingKey: 'k', signal: controller.signal }));
    const last = pool.run('mark', { log: log.cells, id: 2 }, { orderingKey: 'k' });
    controller.abort('changed my mind');
    await nextTurn();
    expect(aborted.status).toBe('rejected');
    expect(aborted.reason).toBeInstanceOf(AbortError);
    expect((aborted.reason as AbortError).reason).toBe('changed my mind');
    expect(pool.stats()).toMatchObject({ ordered: 1, queued: 1 });
    gate.open();
    await Promise.all([first, last]);
    expect(log.entries()).toEqual([2]);
  });

  test('a run behind its key keeps a queue place: maxQueue counts it', async () => {
    const pool = makePool<OrderingModule>('ordering.ts', { maxQueue: 1 });
    const gate = new Gate();
    const first = pool.run('block', { cells: gate.cells }, { orderingKey: 'k' });
    await gate.started(1);
    const held = pool.run('echo', 'held', { orderingKey: 'k' });
    await expect(pool.run('echo', 'other')).rejects.toBeInstanceOf(QueueFullError);
    await expect(pool.run('echo', 'same key', { orderingKey: 'k' })).rejects.toBeInstanceOf(QueueFullError);
    gate.open();
    await expect(Promise.all([first, held])).resolves.toEqual([undefined, 'held']);
  });

  test('close() waits for held runs; destroy() rejects them with PoolDestroyedError', async () => {
    const pool = makePool<OrderingModule>('ordering.ts');
    const gate = new Gate();
    const first = pool.run('block', { cells: gate.cells }, { orderingKey: 'k' });
    await gate.started(1);
    const held = pool.run('echo', 'ran', { orderingKey: 'k' });
    const closed = pool.close();
    gate.open();
    await within(closed, 10_000, 'close()');
    await expect(held).resolves.toBe('ran');
    await first;

    const other = makePool<OrderingModule>('ordering.ts');
    const gate2 = new Gate();
    const blocked = record(other.run('block', { cells: gate2.cells }, { orderingKey: 'k' }));
    await gate2.started(1);
    const behind = [1, 2, 3].map((n) => record(other.run('echo', n, { orderingKey: 'k' })));
    await other.destroy();
    await allSettledWithin([blocked.promise, ...behind.map((s) => s.promise)], 10_000, 'runs of a destroyed pool');
    for (const settlement of [blocked, ...behind]) expect(settlement.reason).toBeInstanceOf(PoolDestroyedError);
  });

  test('a head stopped by its timeout: the next run of its key waits until its thread let go of it', async () => {
    const pool = makePool<OrderingModule>('ordering.ts', { maxThreads: 2, minThreads: 2, abortGrace: 60_000 });
    const gate = new Gate();
    const log = new SharedLog();
    // `block` ignores its signal: it runs on for the abort grace, until the gate opens.
    const head = pool.run('block', { cells: gate.cells }, { orderingKey: 'k', timeout: 50 });
    await gate.started(1);
    const next = record(pool.run('mark', { log: log.cells, id: 1 }, { orderingKey: 'k' }));
    await expect(head).rejects.toBeInstanceOf(TaskTimeoutError);
    await turns(5);
    // A thread is free, but the head still runs on its own: the next one waits.
    expect(pool.stats()).toMatchObject({ ordered: 1 });
    expect(next.status).toBe('pending');
    expect(log.entries()).toEqual([]);
    gate.open();
    await expect(within(next.promise, 10_000, 'the next run')).resolves.toBe(1);
  });
});

describe('validation', () => {
  test('orderingKey must be a string of 1 to 1,024 characters, and not with `key`', async () => {
    const pool = makePool<OrderingModule>('ordering.ts');
    for (const orderingKey of ['', 5, 'x'.repeat(1025), new String('k')]) {
      const error = await pool.run('echo', 1, { orderingKey: orderingKey as string }).catch((e: unknown) => e);
      expect((error as { code: string }).code).toBe(ErrorCodes.INVALID_OPTION);
      expect(String(error)).toMatch(/`orderingKey`/);
    }
    await expect(pool.run('echo', 1, { orderingKey: 'k', key: 'k' })).rejects.toThrow(/`orderingKey` to be left out when `key` is given/);
    await expect(pool.map('echo', [1, 2], { orderingKey: 'k' } as never)).rejects.toThrow(/pool.map takes no ordering key/);
    expect(pool.stats().accepted).toBe(0);
  });
});
