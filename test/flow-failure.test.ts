/**
 * Failure policy per node: `'fail'` (default) cancels what has not started, lets running nodes finish,
 * and rejects with FlowFailedError carrying the report; `'continue'` skips only the failed node's
 * descendants. An input builder's throw or garbage fails its node alone, typed.
 */
import { expect, test } from 'vitest';
import { defineFlow, FlowFailedError, FlowInputError, TaskInputError, type FlowEvent } from '../src/index.ts';
import { Gate, makePool, nextTurn, record, within } from './helpers.ts';

type Tasks = typeof import('./fixtures/flow.ts');

/** What the flow rejects with; a flow that resolves gives its report, which every instanceof check then refuses. */
function rejection(promise: Promise<unknown>): Promise<unknown> {
  return within(promise.catch((error: Error) => error), 10_000, 'the flow') as Promise<unknown>;
}

test("'fail': the flow waits for running nodes, cancels the rest, rejects with the first failure and the report", async () => {
  const pool = makePool<Tasks>('flow.ts', { maxThreads: 2, minThreads: 2 });
  const gate = new Gate();
  const events: FlowEvent[] = [];
  const flow = defineFlow<Tasks>()
    .node('slow', { task: 'block', input: { cells: gate.cells, v: 1 } })
    .node('broken', { task: 'fail', input: { message: 'boom' } })
    .node('afterBroken', { task: 'value', after: ['broken'], input: { v: 2 } })
    .node('afterSlow', { task: 'value', after: ['slow'], input: { v: 3 } });
  let brokenFinished!: () => void;
  const broken = new Promise<void>((resolve) => (brokenFinished = resolve));
  const onEvent = (event: FlowEvent): void => {
    events.push(event);
    if (event.type === 'finished' && event.node === 'broken') brokenFinished();
  };
  const settled = record(pool.flow(flow, undefined, { onEvent }));
  await within(broken, 10_000, 'the failing node');
  await within(gate.started(1), 10_000, 'slow starting');
  await nextTurn();
  expect(settled.status).toBe('pending'); // slow still runs: the flow waits for it
  gate.open();
  const error = (await rejection(settled.promise)) as FlowFailedError;
  expect(error).toBeInstanceOf(FlowFailedError);
  expect(error.code).toBe('TESSERA_FLOW_FAILED');
  expect(error.node).toBe('broken');
  expect((error.cause as Error).message).toBe('boom');
  expect(error.report.status).toBe('failed');
  const { nodes } = error.report;
  expect(nodes.slow).toMatchObject({ status: 'completed', result: 1 });
  expect(nodes.broken!.status).toBe('failed');
  expect((nodes.broken!.error as Error).message).toBe('boom');
  expect(nodes.afterBroken).toEqual({ task: 'value', status: 'cancelled' });
  expect(nodes.afterSlow).toEqual({ task: 'value', status: 'cancelled' });
  expect(error.report.results).toEqual({ slow: 1 });
  expect(events.some((e) => e.node === 'afterSlow' || e.node === 'afterBroken')).toBe(false);
  await within(pool.onIdle(), 10_000, 'the pool going idle');
});

test("'continue': descendants of the failed node are skipped, the other branches run, the flow resolves", async () => {
  const pool = makePool<Tasks>('flow.ts');
  const flow = defineFlow<Tasks>()
    .node('root', { task: 'value', input: { v: 1 } })
    .node('optional', { task: 'fail', after: ['root'], input: { message: 'no subtitles' }, onFailure: 'continue' })
    .node('needsOptional', { task: 'value', after: ['optional'], input: { v: 9 } })
    .node('deeper', { task: 'value', after: ['needsOptional', 'root'], input: { v: 9 } })
    .node('main', { task: 'sum', after: ['root'], input: ({ root }) => [root, 1] });
  const report = await within(pool.flow(flow), 10_000, 'the flow');
  expect(report.status).toBe('completed');
  expect(report.nodes.optional.status).toBe('failed');
  expect((report.nodes.optional.error as Error).message).toBe('no subtitles');
  expect(report.nodes.needsOptional).toEqual({ task: 'value', status: 'skipped' });
  expect(report.nodes.deeper.status).toBe('skipped');
  expect(report.results).toEqual({ root: 1, main: 2 });
  expect(report.results.needsOptional).toBeUndefined();
});

test('an input builder that throws fails its node with FlowInputError; the flow rejects, typed', async () => {
  const pool = makePool<Tasks>('flow.ts');
  const thrown = new Error('bad parent result');
  const flow = defineFlow<Tasks>()
    .node('a', { task: 'value', input: { v: 1 } })
    .node('b', {
      task: 'value',
      after: ['a'],
      input: () => {
        throw thrown;
      },
    })
    .node('c', { task: 'value', after: ['b'], input: { v: 3 } });
  const error = (await rejection(pool.flow(flow))) as FlowFailedError;
  expect(error.node).toBe('b');
  expect(error.cause).toBeInstanceOf(FlowInputError);
  expect((error.cause as FlowInputError).node).toBe('b');
  expect((error.cause as FlowInputError).cause).toBe(thrown);
  expect(error.report.nodes.c!.status).toBe('cancelled');
  expect(pool.stats().accepted).toBe(1); // b never reached the pool
});

test('an input builder that returns garbage: that node rejects with TaskInputError, a neighbour flow is untouched', async () => {
  const pool = makePool<Tasks>('flow.ts');
  const hostile = new Proxy({}, { get: () => { throw new Error('trap'); }, ownKeys: () => { throw new Error('trap'); } });
  const bad = defineFlow<Tasks>().node('n', { task: 'value', input: () => ({ v: () => 1 }) as never });
  const worse = defineFlow<Tasks>().node('n', { task: 'value', input: () => hostile as never, onFailure: 'continue' });
  const good = defineFlow<Tasks>().node('n', { task: 'value', input: { v: 5 } });
  const [badError, worseReport, goodReport] = await within(
    Promise.all([rejection(pool.flow(bad)), pool.flow(worse), pool.flow(good)]),
    10_000,
    'three flows',
  );
  expect((badError as FlowFailedError).cause).toBeInstanceOf(TaskInputError);
  expect(worseReport.nodes.n.error).toBeInstanceOf(TaskInputError);
  expect(goodReport.results.n).toBe(5);
});

test('a throwing onEvent is ignored and reported once as a TesseraWarning; the flow completes', async () => {
  const pool = makePool<Tasks>('flow.ts');
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warning.name === 'TesseraWarning' && warnings.push(warning);
  process.on('warning', onWarning);
  try {
    const flow = defineFlow<Tasks>()
      .node('a', { task: 'value', input: { v: 1 } })
      .node('b', { task: 'value', after: ['a'], input: { v: 2 } });
    let calls = 0;
    const report = await within(
      pool.flow(flow, undefined, {
        onEvent: () => {
          calls++;
          throw new Error('listener broke');
        },
      }),
      10_000,
      'the flow',
    );
    expect(report.results).toEqual({ a: 1, b: 2 });
    expect(calls).toBe(4);
    const rejecting = await pool.flow(flow, undefined, { onEvent: () => Promise.reject(new Error('async listener broke')) });
    expect(rejecting.status).toBe('completed');
    await nextTurn();
    expect(warnings.map((w) => w.message.includes('onEvent'))).toEqual([true, true]);
  } finally {
    process.off('warning', onWarning);
  }
});
