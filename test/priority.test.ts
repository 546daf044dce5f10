import { describe, expect, test } from 'vitest';
import type * as order from './fixtures/order.ts';
import { blockedPool as sharedBlockedPool, Gate, makePool, SharedLog } from './helpers.ts';

/**
 * One thread, blocked by the blocker task until the test opens the gate, so every task submitted
 * meanwhile is provably queued; the counter fixture appends each task's id to a shared log as it runs.
 */
function blockedPool(options: { maxBatch?: number; priorityAging?: number } = {}) {
  const blocked = sharedBlockedPool<typeof order>('order.ts', options);
  const { pool, log } = blocked;
  const submit = (id: number, priority?: number) =>
    pool.run('count', { log: log.cells, id }, priority === undefined ? undefined : { priority });
  return { ...blocked, submit };
}

/**
 * The same, but the thread is occupied by a spinning task that the test then aborts. The pool has
 * timed no batch yet when the queue drains, so it really sends several tasks per message (a released
 * blocker would have taught it that tasks are slow, and it would send them one by one).
 */
function occupiedPool() {
  const pool = makePool<typeof order>('order.ts', { abortGrace: 0 });
  const gate = new Gate();
  const controller = new AbortController();
  const occupant = pool.run('hang', { cells: gate.cells }, { signal: controller.signal });
  const log = new SharedLog();
  const submit = (id: number, priority?: number) =>
    pool.run('count', { log: log.cells, id }, priority === undefined ? undefined : { priority });
  const release = async () => {
    controller.abort(new Error('make way'));
    await expect(occupant).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });
  };
  return { pool, gate, log, submit, release };
}

describe.each([
  { label: 'maxBatch: 1', make: () => blockedPool({ maxBatch: 1 }) },
  { label: 'batching on (default maxBatch)', make: occupiedPool },
])('priority order, $label', ({ make }) => {
  test('higher priority runs first, equal priorities run in submission order', async () => {
    const { pool, gate, release, log, submit } = make();
    await gate.started();
    // id → priority, submitted in this order.
    const plan: Array<[id: number, priority: number]> = [
      [1, 0],
      [2, 5],
      [3, -2],
      [4, 5],
      [5, 0],
      [6, 10],
      [7, -2],
      [8, 0],
      [9, 5],
    ];
    const runs = plan.map(([id, priority]) => submit(id, priority));
    expect(pool.stats().queued).toBe(plan.length);
    expect(log.entries()).toEqual([]);
    await release();
    const results = await Promise.all(runs);
    expect(results.map((r) => r.id)).toEqual(plan.map(([id]) => id));
    expect(log.entries()).toEqual([6, 2, 4, 9, 1, 5, 8, 3, 7]);
  });

  test('a task without options has priority 0', async () => {
    const { gate, release, log, submit } = make();
    await gate.started();
    const runs = [submit(1, -1), submit(2), submit(3, 1), submit(4, 0)];
    await release();
    await Promise.all(runs);
    expect(log.entries()).toEqual([3, 2, 4, 1]);
  });
});

describe('no starvation (priorityAging)', () => {
  test('a low-priority task is overtaken by at most (q - p) * priorityAging later higher-priority tasks', async () => {
    const aging = 2;
    const { gate, blocked, log, submit } = blockedPool({ maxBatch: 1, priorityAging: aging });
    await gate.started();
    const low = submit(0, 0);
    const highs = Array.from({ length: 10 }, (_, i) => submit(i + 1, 1));
    gate.open();
    await blocked;
    await Promise.all([low, ...highs]);
    const order = log.entries();
    const overtakers = order.indexOf(0);
    expect(overtakers).toBeGreaterThanOrEqual(0);
    expect(overtakers).toBeLessThanOrEqual((1 - 0) * aging);
    // Priority still counts: some later high-priority task went first.
    expect(overtakers).toBeGreaterThan(0);
    // The high-priority tasks keep their submission order around it.
    expect(order.filter((id) => id !== 0)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });

  test('the bound scales with the priority gap', async () => {
    const aging = 2;
    const { gate, blocked, log, submit } = blockedPool({ maxBatch: 1, priorityAging: aging });
    await gate.started();
    const low = submit(0, 0);
    const highs = Array.from({ length: 20 }, (_, i) => submit(i + 1, 3));
    gate.open();
    await blocked;
    await Promise.all([low, ...highs]);
    const overtakers = log.entries().indexOf(0);
    expect(overtakers).toBeGreaterThan(aging); // more than a gap of 1 would allow
    expect(overtakers).toBeLessThanOrEqual((3 - 0) * aging);
  });

  test('with the default priorityAging the same low-priority task waits for all of them', async () => {
    const { gate, blocked, log, submit } = blockedPool({ maxBatch: 1 });
    await gate.started();
    const low = submit(0, 0);
    const highs = Array.from({ length: 10 }, (_, i) => submit(i + 1, 1));
    gate.open();
    await blocked;
    await Promise.all([low, ...highs]);
    expect(log.entries().indexOf(0)).toBe(10);
  });
});
