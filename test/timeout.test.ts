import { expect, test } from 'vitest';
import { TaskTimeoutError, TesseraError } from '../src/index.ts';
import type * as lifecycle from './fixtures/lifecycle.ts';
import { Gate, makePool, waitForCell } from './helpers.ts';

test('a hung task rejects with TaskTimeoutError, and the pool keeps working on a new thread', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts', { abortGrace: 0 });
  const before = await pool.run('threadId');
  const error = await pool.run('hang', {}, { timeout: 100 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TaskTimeoutError);
  expect(error).toBeInstanceOf(TesseraError);
  expect(error).toMatchObject({ code: 'TESSERA_TASK_TIMEOUT', name: 'TaskTimeoutError', timeout: 100 });
  expect((error as Error).message).toContain('100 ms');
  const after = await pool.run('threadId');
  expect(after).not.toBe(before);
  expect(await pool.run('echo', 'ok')).toBe('ok');
  expect(pool.stats()).toMatchObject({ completed: 3, failed: 1, running: 0 });
});

test('the timeout counts from when the task starts on a thread, not from when it was queued', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts', { abortGrace: 0 });
  // The hung task holds the only thread for at least 200 ms; the fast task queues behind it.
  const hung = pool.run('hang', {}, { timeout: 200 });
  const fast = pool.run('echo', 'made it', { timeout: 200 });
  expect(pool.stats().queued).toBe(1);
  // When the hung task times out, the fast one has been waiting longer than its own timeout...
  await expect(hung).rejects.toBeInstanceOf(TaskTimeoutError);
  // ...yet it succeeds: its clock only starts when it runs.
  expect(await fast).toBe('made it');
});

test('a task blocked behind a gate for longer than its timeout still succeeds once it runs', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts', { maxThreads: 2, minThreads: 2, abortGrace: 0 });
  const gate = new Gate();
  const blockers = [pool.run('block', { cells: gate.cells }), pool.run('block', { cells: gate.cells })];
  await gate.started(2);
  const queued = pool.run('echo', 'late but fine', { timeout: 150 });
  // Both threads are blocked. Prove that more than 150 ms pass while it waits, without a sleep: a task
  // with the same timeout, started after it was queued, times out in another pool.
  const clock = makePool<typeof lifecycle>('lifecycle.ts', { abortGrace: 0 });
  await expect(clock.run('hang', {}, { timeout: 150 })).rejects.toBeInstanceOf(TaskTimeoutError);
  expect(pool.stats().queued).toBe(1);
  gate.open();
  await Promise.all(blockers);
  expect(await queued).toBe('late but fine');
});

test('a cooperative task sees context.signal abort when its timeout passes', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts', { abortGrace: 10_000 });
  const before = await pool.run('threadId');
  const cells = new Int32Array(new SharedArrayBuffer(8));
  await expect(pool.run('wait', { cells }, { timeout: 50 })).rejects.toBeInstanceOf(TaskTimeoutError);
  await waitForCell(cells, 1, (v) => v === 1);
  // It settled within the grace period: same thread.
  expect(await pool.run('threadId')).toBe(before);
});

test('a task that finishes in time is not affected by its timeout', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts');
  expect(await pool.run('echo', 'quick', { timeout: 10_000 })).toBe('quick');
  expect(pool.stats()).toMatchObject({ completed: 1, failed: 0 });
});
