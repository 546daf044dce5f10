import { expect, test } from 'vitest';
import { TesseraError } from '../src/index.ts';
import type * as thrower from './fixtures/thrower.ts';
import { makePool } from './helpers.ts';

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  const error = await promise.then(
    () => expect.unreachable('the task should have failed'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error & Record<string, unknown>;
}

test('a custom error comes back with its name, message, stack, code, cause and own properties', async () => {
  const pool = makePool<typeof thrower>('thrower.ts');
  const error = await rejection(pool.run('quota'));
  expect(error.name).toBe('QuotaError');
  expect(error.message).toBe('quota exceeded');
  expect(error.code).toBe('E_QUOTA');
  expect(error.limit).toBe(3);
  expect(error.details).toEqual({ user: 'ada', tags: ['a', 'b'] });
  // The task's own error, not wrapped in a tessera error.
  expect(error).not.toBeInstanceOf(TesseraError);
  // The stack is the worker's, pointing into the fixture.
  expect(error.stack).toContain('quota exceeded');
  expect(error.stack).toContain('thrower.ts');
  // The cause is itself an error with its message.
  expect(error.cause).toBeInstanceOf(Error);
  expect((error.cause as Error).message).toBe('disk full');
  expect((error.cause as Error).stack).toContain('thrower.ts');
  // Own enumerable properties are all there, and nothing the task did not set.
  expect(Object.keys(error).sort()).toEqual(['code', 'details', 'limit']);
});

test('built-in error classes keep instanceof, also when an async task rejects', async () => {
  const pool = makePool<typeof thrower>('thrower.ts');
  const error = await rejection(pool.run('rejectType', 'xyz'));
  expect(error).toBeInstanceOf(TypeError);
  expect(error.name).toBe('TypeError');
  expect(error.message).toBe('bad input: xyz');
  expect(error.stack).toContain('thrower.ts');
});

test('a thrown non-Error value comes back as that value', async () => {
  const pool = makePool<typeof thrower>('thrower.ts');
  await expect(pool.run('throwString')).rejects.toBe('a plain string');
});

test('a task error does not hurt the thread: the next task runs on it', async () => {
  const pool = makePool<typeof thrower & typeof import('./fixtures/echo.ts')>('errors-and-echo.ts');
  const before = await pool.run('threadId');
  await expect(pool.run('quota')).rejects.toMatchObject({ code: 'E_QUOTA' });
  expect(await pool.run('threadId')).toBe(before);
  expect(pool.stats()).toMatchObject({ completed: 2, failed: 1 });
});

test('a non-Error cause and an uncloneable property do not stop the error from coming back', async () => {
  const pool = makePool<typeof thrower>('thrower.ts');
  const error = await rejection(pool.run('oddError'));
  expect(error).toBeInstanceOf(RangeError);
  expect(error.message).toBe('odd');
  expect(error.cause).toBe('a plain-text cause');
  expect(error.retry).toBe(false);
  // A function cannot cross threads; the property is still there, in some form.
  expect(Object.keys(error)).toContain('callback');
});
