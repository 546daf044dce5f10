/** pool.events: task lifecycle events, and listeners that misbehave. */
import { expect, test } from 'vitest';
import type { TaskDispatchEvent, TaskRetryEvent, TaskSettleEvent } from '../src/index.ts';
import { Gate, makePool } from './helpers.ts';
import { Attempts } from './retry-helpers.ts';
import type * as tasks from './fixtures/observed.ts';

test('taskDispatch and taskSettle for each run, with its outcome and timings', async () => {
  const pool = makePool<typeof tasks>('observed.ts', { prefetch: 0 });
  const dispatched: TaskDispatchEvent[] = [];
  const settled: TaskSettleEvent[] = [];
  pool.events.on('taskDispatch', (event) => dispatched.push(event));
  pool.events.on('taskSettle', (event) => settled.push(event));
  await pool.ready();
  expect(await pool.run('echo', 1)).toBe(1);
  // The settle event came before the caller's continuation.
  expect(settled).toEqual([{ name: 'echo', outcome: 'completed', waitMs: expect.any(Number), runMs: expect.any(Number), error: undefined }]);
  const failure = await pool.run('quota').catch((e: unknown) => e);
  expect(settled[1]).toMatchObject({ name: 'quota', outcome: 'failed', error: failure });
  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells });
  await gate.started();
  const controller = new AbortController();
  const aborted = pool.run('echo', 2, { signal: controller.signal });
  controller.abort();
  await expect(aborted).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });
  // Aborted in the queue: it never left, so no timings.
  expect(settled[2]).toMatchObject({ name: 'echo', outcome: 'aborted', waitMs: undefined, runMs: undefined });
  gate.open();
  await blocked;
  await pool.onIdle();
  expect(dispatched.map((event) => event.name)).toEqual(['echo', 'quota', 'block']);
  expect(dispatched.every((event) => event.attempt === 1 && event.waitMs >= 0)).toBe(true);
  expect(settled).toHaveLength(4);
});

test('taskRetry for each failed attempt that is retried; the next attempt dispatches as attempt 2', async () => {
  const pool = makePool<typeof tasks>('observed.ts');
  const retries: TaskRetryEvent[] = [];
  const attemptsSeen: number[] = [];
  pool.events.on('taskRetry', (event) => retries.push(event));
  pool.events.on('taskDispatch', (event) => attemptsSeen.push(event.attempt));
  const attempts = new Attempts();
  await pool.run('flaky', attempts.input(0, 2), { retry: { attempts: 5, backoff: 'fixed', delay: 0 } });
  expect(retries.map((event) => [event.name, event.attempt, event.delayMs])).toEqual([
    ['flaky', 1, 0],
    ['flaky', 2, 0],
  ]);
  expect(retries[0]!.error).toBeInstanceOf(Error);
  expect(attemptsSeen).toEqual([1, 2, 3]);
  expect(pool.stats().tasks['flaky']).toMatchObject({ completed: 1, retried: 2 });
});

test('a listener that throws is reported as a TesseraWarning; its run and the neighbours settle as ever', async () => {
  const pool = makePool<typeof tasks>('observed.ts');
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  process.on('warning', onWarning);
  try {
    pool.events.on('taskSettle', () => {
      throw new Error('listener bug');
    });
    pool.events.on('taskDispatch', () => {
      throw new Error('listener bug');
    });
    expect(await Promise.all([pool.run('echo', 1), pool.run('echo', 2)])).toEqual([1, 2]);
    await pool.onIdle();
    // emitWarning delivers on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((w) => w.name === 'TesseraWarning' && /listener bug/.test(w.message)).length).toBeGreaterThanOrEqual(4);
    expect(pool.stats()).toMatchObject({ completed: 2, failed: 0 });
  } finally {
    process.off('warning', onWarning);
  }
});

test('an async listener that rejects is reported as a TesseraWarning, not an unhandled rejection', async () => {
  const pool = makePool<typeof tasks>('observed.ts');
  let onWarning!: (warning: Error) => void;
  const warned = new Promise<Error>((resolve) => {
    onWarning = (warning) => {
      if (warning.name === 'TesseraWarning' && /rejected \(Error: async listener bug\)/.test(warning.message)) resolve(warning);
    };
  });
  process.on('warning', onWarning);
  try {
    pool.events.on('taskSettle', async () => {
      throw new Error('async listener bug');
    });
    expect(await Promise.all([pool.run('echo', 1), pool.run('echo', 2)])).toEqual([1, 2]);
    expect((await warned).message).toContain('`taskSettle`');
    expect(await pool.run('echo', 3)).toBe(3);
  } finally {
    process.off('warning', onWarning);
  }
});

test('after removeAllListeners(), listeners added later hear every task event', async () => {
  const pool = makePool<typeof tasks>('observed.ts');
  pool.events.on('taskSettle', () => {});
  pool.events.removeAllListeners();
  const heard: string[] = [];
  pool.events.on('taskDispatch', (event) => heard.push(`dispatch ${event.name}`));
  pool.events.on('taskSettle', (event) => heard.push(`settle ${event.outcome}`));
  expect(await pool.run('echo', 1)).toBe(1);
  await pool.onIdle();
  expect(heard).toEqual(['dispatch echo', 'settle completed']);
  pool.events.removeAllListeners('taskSettle');
  pool.events.removeAllListeners('taskDispatch');
  pool.events.on('taskSettle', (event) => heard.push(`settle ${event.outcome}`));
  expect(await pool.run('echo', 2)).toBe(2);
  expect(heard).toEqual(['dispatch echo', 'settle completed', 'settle completed']);
});

test('a listener may destroy the pool from inside a settle: every run still settles once', async () => {
  const pool = makePool<typeof tasks>('observed.ts', { maxThreads: 2 });
  await pool.ready();
  pool.events.on('taskSettle', () => void pool.destroy());
  const runs = Array.from({ length: 20 }, (_, i) => pool.run('echo', i).then(() => 'ok', (e: unknown) => (e as { code?: string }).code));
  const outcomes = await Promise.all(runs);
  expect(outcomes.every((o) => o === 'ok' || o === 'TESSERA_POOL_DESTROYED')).toBe(true);
  expect(outcomes).toContain('ok');
  const { completed, failed, accepted } = pool.stats();
  expect(completed + failed).toBe(accepted);
});

test('no task listener: nothing is built (watching is false), and it follows listeners coming and going', () => {
  const pool = makePool<typeof tasks>('observed.ts');
  expect(pool.events.watching).toBe(false);
  const listener = (): void => {};
  pool.events.on('threadExit', listener);
  expect(pool.events.watching).toBe(false);
  pool.events.on('taskSettle', listener);
  expect(pool.events.watching).toBe(true);
  pool.events.off('taskSettle', listener);
  expect(pool.events.watching).toBe(false);
  pool.events.once('taskRetry', listener);
  expect(pool.events.watching).toBe(true);
  pool.events.removeAllListeners('taskRetry');
  expect(pool.events.watching).toBe(false);
});
