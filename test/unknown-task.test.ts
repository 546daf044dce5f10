import { expect, test } from 'vitest';
import { TesseraError, UnknownTaskError } from '../src/index.ts';
import { makePool } from './helpers.ts';

const echoNames = ['add', 'echo', 'threadId'];

function check(error: unknown, name: string, available: string[]): void {
  expect(error).toBeInstanceOf(UnknownTaskError);
  expect(error).toBeInstanceOf(TesseraError);
  const e = error as UnknownTaskError;
  expect(e).toMatchObject({ code: 'TESSERA_UNKNOWN_TASK', name: 'UnknownTaskError', taskName: name });
  expect([...e.available].sort()).toEqual(available);
  expect(e.message).toContain(name);
  for (const task of available) expect(e.message).toContain(task);
}

test('before the module is loaded: rejects with UnknownTaskError listing the exported functions', async () => {
  const pool = makePool('echo.ts');
  // No ready() yet: the name is checked in the worker.
  check(await pool.run('nope', 1).catch((e: unknown) => e), 'nope', echoNames);
});

test('after ready(): rejects at once with the same error', async () => {
  const pool = makePool('echo.ts');
  expect([...(await pool.ready())].sort()).toEqual(echoNames);
  const run = pool.run('nope', 1);
  check(await run.catch((e: unknown) => e), 'nope', echoNames);
  expect(pool.stats().running).toBe(0);
  // Still usable.
  expect(await pool.run('echo', 'ok')).toBe('ok');
});

test('exports that are not functions are not tasks', async () => {
  const pool = makePool('typed.ts');
  await pool.ready();
  check(await pool.run('notATask').catch((e: unknown) => e), 'notATask', ['add', 'greet', 'noInput', 'optional']);
});

test('a module exporting no functions: ready() lists none and every name is unknown', async () => {
  const pool = makePool('no-functions.ts');
  const before = await pool.run('answer').catch((e: unknown) => e);
  check(before, 'answer', []);
  expect((before as Error).message).toContain('no functions');
  expect(await pool.ready()).toEqual([]);
  check(await pool.run('default').catch((e: unknown) => e), 'default', []);
});

test('inherited names are not tasks', async () => {
  const pool = makePool('echo.ts');
  await pool.ready();
  await expect(pool.run('toString')).rejects.toBeInstanceOf(UnknownTaskError);
  await expect(pool.run('constructor')).rejects.toBeInstanceOf(UnknownTaskError);
});
