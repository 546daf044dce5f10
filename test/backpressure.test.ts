import { expect, test } from 'vitest';
import type * as order from './fixtures/order.ts';
import { Gate, SharedLog, makePool, nextTurn } from './helpers.ts';

function fullPool(maxQueue: number) {
  // No prefetch: the places counted here are the queue's and the one thread's.
  const pool = makePool<typeof order>('order.ts', { maxQueue, maxBatch: 1, prefetch: 0 });
  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells });
  const log = new SharedLog();
  return { pool, gate, blocked, log };
}

/** Tracks whether a promise has settled. */
function watch(promise: Promise<unknown>): { readonly settled: boolean } {
  const state = { settled: false };
  void promise.then(() => (state.settled = true));
  return state;
}

test('waitForCapacity resolves at once while the queue has room', async () => {
  const { pool, gate, blocked } = fullPool(2);
  await gate.started();
  await pool.waitForCapacity();
  expect(pool.stats().queued).toBe(0);
  gate.open();
  await blocked;
});

test('waitForCapacity waits while the queue is full and resolves once a slot frees', async () => {
  const { pool, gate, blocked, log } = fullPool(2);
  await gate.started();
  const queued = [1, 2].map((id) => pool.run('count', { log: log.cells, id }));
  const capacity = pool.waitForCapacity();
  const state = watch(capacity);
  // Still full after letting everything pending run: nothing has left the queue.
  await nextTurn();
  expect(state.settled).toBe(false);
  expect(pool.stats().queued).toBe(2);
  // The blocker finishes, the first queued task goes to the thread, a slot frees.
  gate.open();
  await capacity;
  expect(pool.stats().queued).toBeLessThan(2);
  const next = pool.run('count', { log: log.cells, id: 3 });
  await blocked;
  expect((await Promise.all([...queued, next])).map((r) => r.id)).toEqual([1, 2, 3]);
});

test('a producer that awaits waitForCapacity before each run never sees QueueFullError', async () => {
  const { pool, gate, blocked, log } = fullPool(2);
  await gate.started();
  const runs: Array<Promise<{ id: number }>> = [];
  const producer = (async () => {
    for (let id = 0; id < 20; id++) {
      await pool.waitForCapacity();
      runs.push(pool.run('count', { log: log.cells, id }));
    }
  })();
  // The producer fills the queue and then has to wait for the blocked thread.
  await nextTurn();
  expect(runs.length).toBe(2);
  gate.open();
  await blocked;
  await producer;
  const results = await Promise.all(runs);
  expect(results.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  expect(pool.stats().failed).toBe(0);
});

test('aborting a queued task frees a slot for a waiter', async () => {
  const { pool, gate, blocked, log } = fullPool(1);
  await gate.started();
  const controller = new AbortController();
  const queued = pool.run('count', { log: log.cells, id: 1 }, { signal: controller.signal });
  const capacity = pool.waitForCapacity();
  const state = watch(capacity);
  await nextTurn();
  expect(state.settled).toBe(false);
  controller.abort();
  await capacity;
  await expect(queued).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });
  expect(pool.stats().queued).toBe(0);
  gate.open();
  await blocked;
});

test.each(['close', 'destroy'] as const)('a waiter is released by %s (and then finds run rejecting)', async (how) => {
  const { pool, gate, blocked, log } = fullPool(1);
  await gate.started();
  const queued = pool.run('count', { log: log.cells, id: 1 });
  const capacity = pool.waitForCapacity();
  const state = watch(capacity);
  await nextTurn();
  expect(state.settled).toBe(false);
  const stopping = how === 'close' ? pool.close() : pool.destroy();
  await capacity;
  await expect(pool.run('count', { log: log.cells, id: 2 })).rejects.toMatchObject({
    code: how === 'close' ? 'TESSERA_POOL_CLOSED' : 'TESSERA_POOL_DESTROYED',
  });
  if (how === 'close') {
    gate.open();
    await blocked;
    expect((await queued).id).toBe(1);
  } else {
    await expect(blocked).rejects.toMatchObject({ code: 'TESSERA_POOL_DESTROYED' });
    await expect(queued).rejects.toMatchObject({ code: 'TESSERA_POOL_DESTROYED' });
  }
  await stopping;
});

test('maxQueue: 0: waitForCapacity resolves while a thread is free, and once one frees', async () => {
  const pool = makePool<typeof order>('order.ts', { maxQueue: 0 });
  await pool.ready();
  await pool.onIdle();
  // Idle pool: a run would be admitted (it goes straight to the thread).
  const idle = watch(pool.waitForCapacity());
  await nextTurn();
  expect(idle.settled).toBe(true);

  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells });
  await gate.started();
  const busy = watch(pool.waitForCapacity());
  await nextTurn();
  expect(busy.settled).toBe(false);
  gate.open();
  await blocked;
  await pool.onIdle();
  await nextTurn();
  expect(busy.settled).toBe(true);
  expect(await pool.run('count', { log: new SharedLog().cells, id: 1 })).toMatchObject({ id: 1 });
});

test('one waiter is woken per free place, in the order they started waiting', async () => {
  const { pool, gate, blocked } = fullPool(1);
  await gate.started();
  // The queued task blocks too, so the thread stays busy once it takes it.
  const second = new Gate();
  const queued = pool.run('block', { cells: second.cells });
  const woken: number[] = [];
  const waiters = [0, 1, 2].map((i) => pool.waitForCapacity().then(() => woken.push(i)));
  await nextTurn();
  expect(woken).toEqual([]);
  // The first blocker ends; the queued one takes the thread: one place in the queue.
  gate.open();
  await blocked;
  await second.started();
  await nextTurn();
  expect(woken).toEqual([0]);
  // The woken producer takes the place; the queue is full again.
  const third = new Gate();
  const next = pool.run('block', { cells: third.cells });
  expect(pool.stats().queued).toBe(1);
  // The second blocker ends, `next` takes the thread: one more place, one more waiter.
  second.open();
  await queued;
  await third.started();
  await nextTurn();
  expect(woken).toEqual([0, 1]);
  third.open();
  await next;
  await pool.close();
  await Promise.all(waiters);
  expect(woken).toEqual([0, 1, 2]);
});

test('a woken producer that never submits does not leave the others asleep beside an idle pool', async () => {
  const { pool, gate, blocked } = fullPool(0);
  await gate.started();
  const woken: number[] = [];
  const waiters = [0, 1, 2].map((i) => pool.waitForCapacity().then(() => woken.push(i)));
  await nextTurn();
  expect(woken).toEqual([]);
  // The blocker ends and nobody submits: the pool is idle, so every waiter must hear of the room.
  gate.open();
  await blocked;
  await Promise.all(waiters);
  expect(woken).toEqual([0, 1, 2]);
});
