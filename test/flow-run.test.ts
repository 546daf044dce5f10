/**
 * Flows on real threads: a node starts as soon as its parents completed, with their results;
 * independent nodes run at once; the report holds every node's result and timing; a flow is reusable.
 */
import { expect, test } from 'vitest';
import { defineFlow, type FlowEvent } from '../src/index.ts';
import { Gate, makePool, SharedLog, within } from './helpers.ts';

type Tasks = typeof import('./fixtures/flow.ts');

test('a diamond: the child gets exactly its parents\' results, after both completed', async () => {
  const pool = makePool<Tasks>('flow.ts', { maxThreads: 2, minThreads: 2 });
  const order = new SharedLog();
  const flow = defineFlow<Tasks, { base: number }>()
    .node('root', { task: 'log', input: (_, { base }) => ({ cells: order.cells, id: 1, v: base }) })
    .node('left', { task: 'log', after: ['root'], input: ({ root }) => ({ cells: order.cells, id: 2, v: root * 2 }) })
    .node('right', { task: 'log', after: ['root'], input: ({ root }) => ({ cells: order.cells, id: 3, v: root * 3 }) })
    .node('join', {
      task: 'sum',
      after: ['left', 'right'],
      input: (parents) => {
        // Exactly its declared parents, nothing else.
        expect(Object.keys(parents).sort()).toEqual(['left', 'right']);
        return [parents.left, parents.right];
      },
    });
  const report = await within(pool.flow(flow, { base: 10 }), 10_000, 'the flow');
  expect(report.status).toBe('completed');
  expect(report.results).toEqual({ root: 10, left: 20, right: 30, join: 50 });
  const logged = order.entries();
  expect(logged[0]).toBe(1);
  expect(logged.slice(1).sort()).toEqual([2, 3]);
  for (const name of ['root', 'left', 'right', 'join'] as const) {
    const node = report.nodes[name];
    expect(node.status).toBe('completed');
    expect(node.finishedAt! >= node.startedAt!).toBe(true);
    expect(node.ms).toBeGreaterThanOrEqual(0);
  }
  // The join started after both its parents finished.
  expect(report.nodes.join.startedAt!).toBeGreaterThanOrEqual(Math.max(report.nodes.left.finishedAt!, report.nodes.right.finishedAt!));
  expect(report.ms).toBeGreaterThanOrEqual(0);
});

test('independent nodes run in parallel: both block on one gate at the same time', async () => {
  const pool = makePool<Tasks>('flow.ts', { maxThreads: 2, minThreads: 2 });
  const gate = new Gate();
  const flow = defineFlow<Tasks>()
    .node('a', { task: 'block', input: { cells: gate.cells, v: 1 } })
    .node('b', { task: 'block', input: { cells: gate.cells, v: 2 } })
    .node('c', { task: 'sum', after: ['a', 'b'], input: ({ a, b }) => [a, b] });
  const running = pool.flow(flow);
  // Only resolves if both run at once on the two threads; then the gate lets them go.
  await within(gate.started(2), 10_000, 'both roots starting');
  gate.open();
  const report = await within(running, 10_000, 'the flow');
  expect(report.results.c).toBe(3);
});

test('a node starts as soon as its own parents are done, not when its level is', async () => {
  const pool = makePool<Tasks>('flow.ts', { maxThreads: 2, minThreads: 2 });
  const gate = new Gate();
  const order = new SharedLog();
  // slow blocks one thread; fast -> after-fast must run on the other meanwhile (no per-level barrier).
  const flow = defineFlow<Tasks>()
    .node('slow', { task: 'block', input: { cells: gate.cells, v: 1 } })
    .node('fast', { task: 'log', input: { cells: order.cells, id: 1 } })
    .node('afterFast', { task: 'log', after: ['fast'], input: { cells: order.cells, id: 2 } })
    .node('last', { task: 'sum', after: ['slow', 'afterFast'], input: ({ slow, afterFast }) => [slow, afterFast] });
  const running = pool.flow(flow);
  await within(order.length(2), 10_000, 'fast and afterFast running while slow blocks');
  expect(gate.startedCount).toBe(1);
  gate.open();
  expect((await within(running, 10_000, 'the flow')).results.last).toBe(3);
});

test('a flow is reusable: two runs at once with different inputs, each its own report', async () => {
  const pool = makePool<Tasks>('flow.ts', { maxThreads: 2, minThreads: 2 });
  const flow = defineFlow<Tasks, number>()
    .node('x', { task: 'value', input: (_, v) => ({ v }) })
    .node('y', { task: 'sum', after: ['x'], input: ({ x }, v) => [x, v] });
  const [one, two] = await within(Promise.all([pool.flow(flow, 1), pool.flow(flow, 5)]), 10_000, 'two flows');
  expect(one.results).toEqual({ x: 1, y: 2 });
  expect(two.results).toEqual({ x: 5, y: 10 });
});

test('node run options apply: a node with retry succeeds after failures', async () => {
  const pool = makePool<Tasks>('flow.ts');
  const calls = new Int32Array(new SharedArrayBuffer(4));
  const flow = defineFlow<Tasks>()
    .node('flaky', { task: 'flaky', input: { calls, failFirst: 2, v: 7 }, run: { retry: { attempts: 3, delay: 0 }, priority: 5 } })
    .node('after', { task: 'sum', after: ['flaky'], input: ({ flaky }) => [flaky, 1] });
  const report = await within(pool.flow(flow), 10_000, 'the flow');
  expect(report.results.after).toBe(8);
  expect(Atomics.load(calls, 0)).toBe(3);
  expect(pool.stats().retries).toBe(2);
});

test('events: started and finished for every node, parents finished before children start', async () => {
  const pool = makePool<Tasks>('flow.ts');
  const events: FlowEvent[] = [];
  const flow = defineFlow<Tasks>()
    .node('a', { task: 'value', input: { v: 1 } })
    .node('b', { task: 'value', after: ['a'], input: { v: 2 } })
    .node('c', { task: 'none' });
  await within(pool.flow(flow, undefined, { onEvent: (event) => void events.push(event) }), 10_000, 'the flow');
  const seen = events.map((e) => `${e.type} ${e.node}`);
  expect(seen.filter((e) => e.startsWith('started')).sort()).toEqual(['started a', 'started b', 'started c']);
  expect(seen.filter((e) => e.startsWith('finished')).sort()).toEqual(['finished a', 'finished b', 'finished c']);
  expect(seen.indexOf('finished a')).toBeLessThan(seen.indexOf('started b'));
  for (const event of events) if (event.type === 'finished') expect(event.status).toBe('completed');
});

test('an empty flow resolves with an empty report; a literal input needs no builder', async () => {
  const pool = makePool<Tasks>('flow.ts');
  const empty = await pool.flow(defineFlow<Tasks>());
  expect(empty.status).toBe('completed');
  expect(Object.keys(empty.nodes)).toEqual([]);
  const report = await pool.flow(defineFlow<Tasks>().node('n', { task: 'none' }));
  expect(report.results.n).toBe('none');
});

test('a node named __proto__ is a node like any other', async () => {
  const pool = makePool<Tasks>('flow.ts');
  const flow = defineFlow<Tasks>()
    .node('__proto__', { task: 'value', input: { v: 4 } })
    .node('child', { task: 'sum', after: ['__proto__'], input: (parents) => [parents.__proto__, 1] });
  const report = await within(pool.flow(flow), 10_000, 'the flow');
  expect(report.results.child).toBe(5);
  expect(Object.keys(report.results)).toEqual(['__proto__', 'child']);
});
