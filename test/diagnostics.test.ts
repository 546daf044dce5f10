/** node:diagnostics_channel: the run's TracingChannel and the thread channels, as a tracer sees them. */
import diagnostics from 'node:diagnostics_channel';
import { afterEach, expect, test } from 'vitest';
import { channelNames, type RunTraceContext } from '../src/index.ts';
import { makePool } from './helpers.ts';
import type * as tasks from './fixtures/observed.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Records every event of the run's tracing channel, as [event, context]. */
function traceRuns(): Array<[string, RunTraceContext]> {
  const seen: Array<[string, RunTraceContext]> = [];
  const handlers = {
    start: (context: RunTraceContext) => seen.push(['start', context]),
    end: (context: RunTraceContext) => seen.push(['end', context]),
    asyncStart: (context: RunTraceContext) => seen.push(['asyncStart', context]),
    asyncEnd: (context: RunTraceContext) => seen.push(['asyncEnd', context]),
    error: (context: RunTraceContext) => seen.push(['error', context]),
  };
  const channel = diagnostics.tracingChannel<unknown, RunTraceContext>(channelNames.run);
  channel.subscribe(handlers);
  cleanups.push(() => channel.unsubscribe(handlers));
  return seen;
}

test('a run publishes start and end in the caller\'s call, asyncStart and asyncEnd when it settles, one context throughout', async () => {
  const seen = traceRuns();
  const pool = makePool<typeof tasks>('observed.ts');
  await pool.ready();
  const running = pool.run('echo', 7, { priority: 3 });
  // start and end are published synchronously, inside run().
  expect(seen.map(([event]) => event)).toEqual(['start', 'end']);
  expect(await running).toBe(7);
  expect(seen.map(([event]) => event)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
  const context = seen[0]![1];
  expect(seen.every(([, c]) => c === context)).toBe(true);
  expect(context).toMatchObject({ pool, name: 'echo', priority: 3, chunk: false, result: 7 });
});

test('a failed run publishes error with the rejection before asyncStart and asyncEnd', async () => {
  const seen = traceRuns();
  const pool = makePool<typeof tasks>('observed.ts');
  const error = await pool.run('quota').catch((e: unknown) => e);
  expect(seen.map(([event]) => event)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
  expect(seen[2]![1].error).toBe(error);
});

test('the dispatch channel carries the run\'s context with its wait', async () => {
  traceRuns();
  const dispatched: RunTraceContext[] = [];
  const onDispatch = (message: unknown): void => void dispatched.push(message as RunTraceContext);
  diagnostics.subscribe(channelNames.dispatch, onDispatch);
  cleanups.push(() => diagnostics.unsubscribe(channelNames.dispatch, onDispatch));
  const pool = makePool<typeof tasks>('observed.ts');
  await pool.run('echo', 1);
  expect(dispatched).toHaveLength(1);
  expect(dispatched[0]).toMatchObject({ pool, name: 'echo', waitMs: expect.any(Number) });
});

test('thread channels: start and exit (with reason and exit code), told apart by pool', async () => {
  const starts: Array<{ pool: object; threadId: number }> = [];
  const exits: Array<{ pool: object; threadId: number; reason: string; exitCode: number }> = [];
  const onStart = (message: unknown): void => void starts.push(message as (typeof starts)[number]);
  const onExit = (message: unknown): void => void exits.push(message as (typeof exits)[number]);
  diagnostics.subscribe(channelNames.threadStart, onStart);
  diagnostics.subscribe(channelNames.threadExit, onExit);
  cleanups.push(() => diagnostics.unsubscribe(channelNames.threadStart, onStart), () => diagnostics.unsubscribe(channelNames.threadExit, onExit));
  const pool = makePool<typeof tasks>('observed.ts');
  const other = makePool<typeof tasks>('observed.ts');
  await Promise.all([pool.ready(), other.ready()]);
  await expect(pool.run('exit', 5)).rejects.toMatchObject({ code: 'TESSERA_WORKER_CRASH' });
  await pool.run('echo', 1);
  expect(starts.filter((s) => s.pool === pool)).toHaveLength(2);
  expect(starts.filter((s) => s.pool === other)).toHaveLength(1);
  expect(exits.filter((e) => e.pool === pool)).toEqual([{ pool, threadId: starts.find((s) => s.pool === pool)!.threadId, reason: 'crash', exitCode: 5 }]);
});

test('no subscriber: a run carries no trace context', async () => {
  const pool = makePool<typeof tasks>('observed.ts');
  const settled: unknown[] = [];
  pool.events.on('taskSettle', (event) => settled.push(event));
  expect(await pool.run('echo', 1)).toBe(1);
  expect(diagnostics.tracingChannel(channelNames.run).start.hasSubscribers).toBe(false);
  expect(settled).toHaveLength(1);
});
