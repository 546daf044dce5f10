/**
 * A flow's signal and timeout stop it: running nodes are aborted, the rest cancelled, the flow
 * rejects (AbortError / FlowTimeoutError) with the report; nothing stays pending and the pool stays usable.
 */
import { expect, test } from 'vitest';
import { AbortError, defineFlow, FlowFailedError, FlowTimeoutError, PoolDestroyedError, type FlowReport } from '../src/index.ts';
import { Gate, makePool, within } from './helpers.ts';

type Tasks = typeof import('./fixtures/flow.ts');

function blockedFlow(gate: Gate) {
  return defineFlow<Tasks>()
    .node('running', { task: 'block', input: { cells: gate.cells, v: 1 } })
    .node('waiting', { task: 'value', after: ['running'], input: { v: 2 } });
}

/** What the flow rejects with; a flow that resolves gives its report, which every instanceof check then refuses. */
function rejection(promise: Promise<unknown>): Promise<Error & { report?: FlowReport }> {
  return within(promise.catch((error: Error) => error), 10_000, 'the flow') as Promise<Error & { report?: FlowReport }>;
}

test('aborting the signal aborts running nodes and cancels the rest; AbortError carries the reason and the report', async () => {
  const pool = makePool<Tasks>('flow.ts');
  const gate = new Gate();
  const controller = new AbortController();
  const flowing = pool.flow(blockedFlow(gate), undefined, { signal: controller.signal });
  await within(gate.started(1), 10_000, 'the first node starting');
  controller.abort('user left');
  const error = await rejection(flowing);
  expect(error).toBeInstanceOf(AbortError);
  expect((error as AbortError).reason).toBe('user left');
  const report = error.report!;
  expect(report.status).toBe('cancelled');
  expect(report.nodes.running!.status).toBe('cancelled');
  expect(report.nodes.running!.error).toBeInstanceOf(AbortError);
  expect(report.nodes.waiting).toEqual({ task: 'value', status: 'cancelled' });
  await within(pool.onIdle(), 10_000, 'the pool going idle');
  // The pool goes on: the same flow runs to the end once nothing blocks it.
  gate.open();
  expect((await within(pool.flow(blockedFlow(gate)), 10_000, 'the next flow')).results).toEqual({ running: 1, waiting: 2 });
});

test('an already aborted signal rejects at once and runs nothing', async () => {
  const pool = makePool<Tasks>('flow.ts');
  const error = await rejection(pool.flow(blockedFlow(new Gate()), undefined, { signal: AbortSignal.abort('no') }));
  expect(error).toBeInstanceOf(AbortError);
  expect(error.report!.nodes.running!.status).toBe('cancelled');
  expect(pool.stats().accepted).toBe(0);
});

test('an abort while the pool is still starting runs nothing', async () => {
  const pool = makePool<Tasks>('flow.ts');
  const controller = new AbortController();
  const flowing = pool.flow(blockedFlow(new Gate()), undefined, { signal: controller.signal });
  controller.abort();
  expect(await rejection(flowing)).toBeInstanceOf(AbortError);
  await pool.ready();
  expect(pool.stats().accepted).toBe(0);
});

test('the flow timeout stops it with FlowTimeoutError and the report', async () => {
  const pool = makePool<Tasks>('flow.ts');
  const gate = new Gate();
  const error = await rejection(pool.flow(blockedFlow(gate), undefined, { timeout: 200 }));
  expect(error).toBeInstanceOf(FlowTimeoutError);
  expect((error as FlowTimeoutError).code).toBe('TESSERA_FLOW_TIMEOUT');
  expect((error as FlowTimeoutError).timeout).toBe(200);
  expect(error.report!.nodes.waiting!.status).toBe('cancelled');
  expect(error.report!.nodes.running!.status).toBe('cancelled');
  await within(pool.onIdle(), 10_000, 'the pool going idle');
});

test('a flow that finishes in time clears its timer and signal listener', async () => {
  const pool = makePool<Tasks>('flow.ts');
  const controller = new AbortController();
  const flow = defineFlow<Tasks>().node('n', { task: 'value', input: { v: 1 } });
  const report = await within(pool.flow(flow, undefined, { signal: controller.signal, timeout: 60_000 }), 10_000, 'the flow');
  expect(report.results.n).toBe(1);
  controller.abort(); // after the flow settled: changes nothing, throws nothing
  expect(report.status).toBe('completed');
});

test('destroying the pool mid-flow rejects the flow; nothing hangs', async () => {
  const pool = makePool<Tasks>('flow.ts');
  const gate = new Gate();
  const flowing = pool.flow(blockedFlow(gate));
  await within(gate.started(1), 10_000, 'the first node starting');
  void pool.destroy();
  const error = (await rejection(flowing)) as FlowFailedError;
  expect(error).toBeInstanceOf(FlowFailedError);
  expect(error.cause).toBeInstanceOf(PoolDestroyedError);
  expect(error.report.nodes.waiting!.status).toBe('cancelled');
});
