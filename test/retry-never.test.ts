import { expect, test } from 'vitest';
import {
  AbortError,
  PoolClosedError,
  RetryHookError,
  TaskInputError,
  TaskTimeoutError,
  UnknownTaskError,
  UnrecoverableError,
  WorkerCrashError,
} from '../src/index.ts';
import { retriedByDefault } from '../src/retry.ts';
import { makePool } from './helpers.ts';
import { Attempts } from './retry-helpers.ts';
import type * as tasks from './fixtures/retry.ts';

const retry = { attempts: 5, backoff: 'fixed' as const, delay: 0 };

test('UnrecoverableError thrown by a task fails the run at once, rebuilt as its class', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  const error = await pool.run('fatal', attempts.input(0, 10), { retry }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnrecoverableError);
  expect(error).toMatchObject({ code: 'TESSERA_UNRECOVERABLE', message: 'fatal 1', attempts: 1, errors: [] });
  expect(attempts.of(0)).toBe(1);
  expect(pool.stats().retries).toBe(0);
});

test('an error carrying the code TESSERA_UNRECOVERABLE is unrecoverable too, and keeps its name', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  const error = await pool.run('markedFatal', attempts.input(0, 10), { retry }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnrecoverableError);
  expect(error).toMatchObject({ name: 'TypeError', message: 'marked 1' });
  expect(attempts.of(0)).toBe(1);
});

test('retryOn cannot retry an UnrecoverableError: it is not asked', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  let asked = 0;
  await expect(pool.run('fatal', attempts.input(0, 10), { retry: { ...retry, retryOn: () => (asked++, true) } })).rejects.toBeInstanceOf(UnrecoverableError);
  expect(asked).toBe(0);
  expect(attempts.of(0)).toBe(1);
});

test('an unknown task, bad input and a closed pool are refused once, with a policy', async () => {
  const pool = makePool<typeof tasks>('retry.ts', { retry });
  await pool.ready();
  await expect(pool.run('nope' as 'flaky', new Attempts().input(0, 0))).rejects.toBeInstanceOf(UnknownTaskError);
  await expect(pool.run('flaky', { cells: new Attempts().cells, index: 0, failures: 0, log: (() => {}) as never })).rejects.toBeInstanceOf(TaskInputError);
  expect(pool.stats().retries).toBe(0);
  await pool.close();
  await expect(pool.run('flaky', new Attempts().input(0, 0))).rejects.toBeInstanceOf(PoolClosedError);
});

test('an aborted run is not retried', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const controller = new AbortController();
  controller.abort('stop');
  await expect(pool.run('flaky', new Attempts().input(0, 0), { retry, signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
  expect(pool.stats().retries).toBe(0);
});

test('the default classification', () => {
  expect(retriedByDefault(new Error('task'))).toBe(true);
  expect(retriedByDefault('a thrown string')).toBe(true);
  expect(retriedByDefault(new WorkerCrashError('exit', 1))).toBe(true);
  expect(retriedByDefault(new TaskTimeoutError(5))).toBe(true);
  expect(retriedByDefault(new AbortError('x'))).toBe(false);
  expect(retriedByDefault(new UnrecoverableError('x'))).toBe(false);
  expect(retriedByDefault(new TaskInputError('function'))).toBe(false);
});

test('retryOn decides instead of the default: it can refuse a task error', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  const asked: Array<[string, number]> = [];
  const retryOn = (error: unknown, attempt: number) => {
    asked.push([(error as Error).message, attempt]);
    return attempt < 2;
  };
  await expect(pool.run('flaky', attempts.input(0, 10), { retry: { ...retry, retryOn } })).rejects.toThrow('transient 2');
  expect(asked).toEqual([
    ['transient 1', 1],
    ['transient 2', 2],
  ]);
  expect(attempts.of(0)).toBe(2);
});

test('a retryOn that throws or returns no boolean fails the run with RetryHookError; the host lives on', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const boom = new Error('hook');
  const threw = await pool.run('flaky', new Attempts().input(0, 10), { retry: { ...retry, retryOn: () => { throw boom; } } }).catch((e: unknown) => e);
  expect(threw).toBeInstanceOf(RetryHookError);
  expect(threw).toMatchObject({ code: 'TESSERA_RETRY_HOOK', hook: 'retryOn', cause: boom, attempts: 1 });
  expect((threw as RetryHookError).errors.map((e) => (e as Error).message)).toEqual(['transient 1']);
  const garbage = await pool.run('flaky', new Attempts().input(0, 10), { retry: { ...retry, retryOn: (() => 'yes') as never } }).catch((e: unknown) => e);
  expect(garbage).toMatchObject({ code: 'TESSERA_RETRY_HOOK', hook: 'retryOn' });
  expect((garbage as Error).message).toContain('not a boolean');
});

test('a backoff function that returns NaN fails the run with RetryHookError', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const error = await pool.run('flaky', new Attempts().input(0, 10), { retry: { attempts: 3, backoff: () => Number.NaN } }).catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'TESSERA_RETRY_HOOK', hook: 'backoff' });
  expect(pool.stats()).toMatchObject({ failed: 1, retries: 0, retrying: 0 });
});

test('a run with transfer is not retried: its buffers left on the first attempt', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  const payload = new ArrayBuffer(16);
  const input = { ...attempts.input(0, 1), payload };
  const error = await pool.run('flaky', input, { retry, transfer: [payload] }).catch((e: unknown) => e);
  // The task's own error after one attempt, not a TaskInputError from sending a detached buffer again.
  expect(error).not.toBeInstanceOf(TaskInputError);
  expect(error).toMatchObject({ message: 'transient 1' });
  expect(payload.byteLength).toBe(0);
  expect(attempts.of(0)).toBe(1);
  expect(pool.stats().retries).toBe(0);
});
