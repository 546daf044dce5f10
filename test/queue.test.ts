import { describe, expect, test } from 'vitest';
import { PriorityQueue, type QueueEntry } from '../src/queue.ts';

interface Entry extends QueueEntry {
  id: number;
}

function entry(id: number, priority = 0): Entry {
  return { id, priority, key: 0, seq: 0, queued: false };
}

function popAll(queue: PriorityQueue<Entry>): number[] {
  const out: number[] = [];
  for (let e = queue.pop(); e !== undefined; e = queue.pop()) out.push(e.id);
  return out;
}

describe('ordering', () => {
  test('higher priority pops first, FIFO among equal priorities', () => {
    const queue = new PriorityQueue<Entry>(100, 1_000);
    const plan: Array<[number, number]> = [
      [1, 0],
      [2, 3],
      [3, -1],
      [4, 3],
      [5, 0],
      [6, 7],
      [7, -1],
    ];
    for (const [id, priority] of plan) queue.push(entry(id, priority));
    expect(queue.size).toBe(7);
    expect(popAll(queue)).toEqual([6, 2, 4, 1, 5, 3, 7]);
    expect(queue.size).toBe(0);
    expect(queue.pop()).toBeUndefined();
  });

  test('FIFO holds over many equal entries (the heap is not stable by itself)', () => {
    const queue = new PriorityQueue<Entry>(10_000, 1_000);
    for (let i = 0; i < 1_000; i++) queue.push(entry(i, i % 2));
    const out = popAll(queue);
    const odd = Array.from({ length: 500 }, (_, i) => 2 * i + 1);
    const even = Array.from({ length: 500 }, (_, i) => 2 * i);
    expect(out).toEqual([...odd, ...even]);
  });

  test('fractional and negative priorities order correctly', () => {
    const queue = new PriorityQueue<Entry>(10, 1_000);
    queue.push(entry(1, 0.5));
    queue.push(entry(2, -0.5));
    queue.push(entry(3, 0.75));
    expect(popAll(queue)).toEqual([3, 1, 2]);
  });

  test('peek returns what pop will return, without removing it', () => {
    const queue = new PriorityQueue<Entry>(10, 1_000);
    queue.push(entry(1));
    queue.push(entry(2, 1));
    expect(queue.peek()?.id).toBe(2);
    expect(queue.size).toBe(2);
    expect(queue.pop()?.id).toBe(2);
    expect(queue.peek()?.id).toBe(1);
  });

  test('restore puts a popped entry back in its old place', () => {
    const queue = new PriorityQueue<Entry>(10, 1_000);
    for (let i = 0; i < 5; i++) queue.push(entry(i));
    const first = queue.pop()!;
    const second = queue.pop()!;
    queue.push(entry(5));
    queue.restore(second);
    queue.restore(first);
    expect(queue.size).toBe(6);
    expect(popAll(queue)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('no starvation', () => {
  test.each([
    { aging: 1, gap: 3 },
    { aging: 2, gap: 1 },
    { aging: 2, gap: 3 },
    { aging: 10, gap: 2 },
  ])('aging $aging, gap $gap: a low task is overtaken by at most gap * aging later tasks', ({ aging, gap }) => {
    const queue = new PriorityQueue<Entry>(1_000, aging);
    queue.push(entry(-1, 0));
    for (let i = 0; i < 200; i++) queue.push(entry(i, gap));
    const overtakers = popAll(queue).indexOf(-1);
    expect(overtakers).toBeGreaterThan(0);
    expect(overtakers).toBeLessThanOrEqual(gap * aging);
  });

  test('a steady stream (one in, one out) cannot hold a low task back beyond the bound', () => {
    const aging = 3;
    const queue = new PriorityQueue<Entry>(1_000, aging);
    // A backlog of high-priority work, then the low task, then more high-priority work keeps arriving.
    for (let i = 0; i < 5; i++) queue.push(entry(i, 1));
    queue.push(entry(-1, 0));
    let next = 5;
    let overtakers = 0;
    for (;;) {
      queue.push(entry(next++, 1));
      const popped = queue.pop()!;
      if (popped.id === -1) break;
      if (popped.id >= 5) overtakers++;
      expect(next).toBeLessThan(1_000);
    }
    expect(overtakers).toBeLessThanOrEqual(aging);
  });

  test('priorityAging Infinity is strict priority: the low task waits out the whole stream', () => {
    const queue = new PriorityQueue<Entry>(10_000, Infinity);
    queue.push(entry(-1, 0));
    for (let i = 0; i < 5_000; i++) queue.push(entry(i, 1));
    const out = popAll(queue);
    expect(out.indexOf(-1)).toBe(5_000);
    expect(out.slice(0, 5_000)).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
  });
});

describe('removal', () => {
  test('remove drops an entry at once from size and from the pop order', () => {
    const queue = new PriorityQueue<Entry>(10, 1_000);
    const entries = [0, 1, 2, 3].map((id) => entry(id));
    for (const e of entries) queue.push(e);
    expect(queue.remove(entries[1]!)).toBe(true);
    expect(queue.size).toBe(3);
    expect(queue.remove(entries[1]!)).toBe(false);
    expect(queue.countByPriority()).toEqual(new Map([[0, 3]]));
    expect(queue.peek()?.id).toBe(0);
    expect(queue.remove(entries[0]!)).toBe(true);
    expect(queue.peek()?.id).toBe(2);
    expect(popAll(queue)).toEqual([2, 3]);
  });

  test('removing a popped entry is refused', () => {
    const queue = new PriorityQueue<Entry>(10, 1_000);
    const e = entry(1);
    queue.push(e);
    queue.pop();
    expect(queue.remove(e)).toBe(false);
    expect(queue.size).toBe(0);
  });

  test('order stays right across many removals (the heap is rebuilt when mostly dead)', () => {
    const queue = new PriorityQueue<Entry>(10_000, 1_000);
    const entries = Array.from({ length: 1_000 }, (_, i) => entry(i, i % 5));
    for (const e of entries) queue.push(e);
    for (const e of entries) if (e.id % 10 !== 0) queue.remove(e);
    expect(queue.size).toBe(100);
    const kept = entries.filter((e) => e.id % 10 === 0);
    const expected = [...kept].sort((a, b) => b.priority - a.priority || a.id - b.id).map((e) => e.id);
    expect(popAll(queue)).toEqual(expected);
  });

  test('drain empties the queue and returns every live entry', () => {
    const queue = new PriorityQueue<Entry>(10, 1_000);
    const entries = [0, 1, 2].map((id) => entry(id, id));
    for (const e of entries) queue.push(e);
    queue.remove(entries[0]!);
    expect(queue.drain().map((e) => e.id).sort()).toEqual([1, 2]);
    expect(queue.size).toBe(0);
    expect(queue.pop()).toBeUndefined();
    expect(entries.every((e) => !e.queued)).toBe(true);
  });

  test('countByPriority counts live entries only', () => {
    const queue = new PriorityQueue<Entry>(10, 1_000);
    const entries = [entry(0, 1), entry(1, 1), entry(2, -3), entry(3, 0)];
    for (const e of entries) queue.push(e);
    queue.remove(entries[3]!);
    expect(queue.countByPriority()).toEqual(
      new Map([
        [1, 2],
        [-3, 1],
      ]),
    );
  });
});

describe('capacity', () => {
  test('isFull at capacity', () => {
    const queue = new PriorityQueue<Entry>(2, 1_000);
    expect(queue.capacity).toBe(2);
    queue.push(entry(0));
    expect(queue.isFull).toBe(false);
    queue.push(entry(1));
    expect(queue.isFull).toBe(true);
    queue.pop();
    expect(queue.isFull).toBe(false);
  });

  test('capacity 0 is always full', () => {
    expect(new PriorityQueue<Entry>(0, 1_000).isFull).toBe(true);
  });
});
