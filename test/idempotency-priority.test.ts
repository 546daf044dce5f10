import { describe, expect, test } from 'vitest';
import { PriorityQueue, type QueueEntry } from '../src/queue.ts';
import type * as keyed from './fixtures/keyed.ts';
import { blockedPool as sharedBlockedPool } from './helpers.ts';

/**
 * One thread blocked by the blocker task, so everything submitted meanwhile is queued; `count` logs
 * each task's id as it runs, which gives the order the queue handed them out.
 */
const blockedPool = (options: { maxBatch?: number; priorityAging?: number } = {}) =>
  sharedBlockedPool<typeof keyed>('keyed.ts', { maxBatch: 1, ...options });

describe.each([{ priorityAging: 1_000 }, { priorityAging: Infinity }])('priorityAging $priorityAging', ({ priorityAging }) => {
  test('a sharer with a higher priority raises the queued execution past the runs it was behind', async () => {
    const { pool, gate, log, release } = blockedPool({ priorityAging });
    await gate.started();
    const runs = [
      pool.run('count', { log: log.cells, id: 1 }, { priority: 1 }),
      pool.run('count', { log: log.cells, id: 2 }),
      pool.run('count', { log: log.cells, id: 3 }, { key: 'k' }),
      pool.run('count', { log: log.cells, id: 4 }, { priority: 2 }),
    ];
    expect(pool.stats().queuedByPriority).toEqual({ '0': 2, '1': 1, '2': 1 });
    // Joins the keyed run (id 3) with priority 5: it now runs first.
    runs.push(pool.run('count', { log: log.cells, id: 99 }, { key: 'k', priority: 5 }));
    expect(pool.stats().queuedByPriority).toEqual({ '0': 1, '1': 1, '2': 1, '5': 1 });
    await release();
    expect((await Promise.all(runs)).map((r) => r.id)).toEqual([1, 2, 3, 4, 3]);
    expect(log.entries()).toEqual([3, 4, 1, 2]);
  });

  test('a sharer with a lower or equal priority changes nothing', async () => {
    const { pool, gate, log, release } = blockedPool({ priorityAging });
    await gate.started();
    const runs = [
      pool.run('count', { log: log.cells, id: 1 }, { key: 'k', priority: 3 }),
      pool.run('count', { log: log.cells, id: 2 }, { priority: 3 }),
      pool.run('count', { log: log.cells, id: 3 }, { key: 'k', priority: -4 }),
      pool.run('count', { log: log.cells, id: 4 }, { key: 'k', priority: 3 }),
    ];
    expect(pool.stats().queuedByPriority).toEqual({ '3': 2 });
    await release();
    await Promise.all(runs);
    expect(log.entries()).toEqual([1, 2]);
  });
});

test('a raised execution keeps its submission order among the runs of its new priority', async () => {
  const { pool, gate, log, release } = blockedPool();
  await gate.started();
  const runs = [
    pool.run('count', { log: log.cells, id: 1 }, { key: 'k' }),
    pool.run('count', { log: log.cells, id: 2 }, { priority: 5 }),
  ];
  // Submitted before id 2, so at priority 5 it goes ahead of it.
  runs.push(pool.run('count', { log: log.cells, id: 3 }, { key: 'k', priority: 5 }));
  await release();
  await Promise.all(runs);
  expect(log.entries()).toEqual([1, 2]);
});

describe('PriorityQueue.raise', () => {
  interface Entry extends QueueEntry {
    id: number;
  }
  const entry = (id: number, priority: number): Entry => ({ id, priority, key: 0, seq: 0, queued: false });
  const drain = (queue: PriorityQueue<Entry>): number[] => {
    const ids: number[] = [];
    for (let e = queue.pop(); e !== undefined; e = queue.pop()) ids.push(e.id);
    return ids;
  };

  test('moves a queued entry up to where its new priority puts it, in a deep heap', () => {
    const queue = new PriorityQueue<Entry>(1_000, 1_000);
    const entries = Array.from({ length: 200 }, (_, i) => entry(i, i % 3));
    for (const e of entries) queue.push(e);
    expect(queue.raise(entries[150]!, 2)).toBe(true);
    expect(entries[150]!.priority).toBe(2);
    const order = drain(queue);
    expect(order).toHaveLength(200);
    const priorityTwo = entries.filter((e) => e.priority === 2).map((e) => e.id);
    // Priority 2 first, by submission number: 150 (priority 0 until raised) sits between 149 and 152.
    expect(order.slice(0, priorityTwo.length)).toEqual(priorityTwo.sort((a, b) => a - b));
  });

  test('refuses entries not queued (popped, removed) and priorities not higher', () => {
    const queue = new PriorityQueue<Entry>(10, 1_000);
    const [a, b, c] = [entry(1, 0), entry(2, 0), entry(3, 1)];
    queue.push(a);
    queue.push(b);
    queue.push(c);
    expect(queue.raise(c, 1)).toBe(false);
    expect(queue.raise(c, 0)).toBe(false);
    expect(queue.raise(a, Number.NaN)).toBe(false);
    expect(queue.pop()).toBe(c);
    expect(queue.raise(c, 9)).toBe(false);
    expect(queue.remove(a)).toBe(true);
    expect(queue.raise(a, 9)).toBe(false);
    expect(queue.countByPriority()).toEqual(new Map([[0, 1]]));
    expect(drain(queue)).toEqual([2]);
  });
});
