import { expect, test } from 'vitest';
import { TaskInputError, TaskResultError, TesseraError } from '../src/index.ts';
import type * as order from './fixtures/order.ts';
import { Gate, SharedLog, makePool } from './helpers.ts';

test('an uncloneable input (a function) rejects with TaskInputError naming the type', async () => {
  const pool = makePool('echo.ts');
  const error = await pool.run('echo', () => 1).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TaskInputError);
  expect(error).toBeInstanceOf(TesseraError);
  expect(error).toMatchObject({ code: 'TESSERA_TASK_INPUT', name: 'TaskInputError', valueType: 'function' });
  expect((error as Error).message).toContain('function');
  // The pool stays usable, on the same thread.
  expect(await pool.run('echo', { fine: true })).toEqual({ fine: true });
});

test.each([
  { label: 'a nested function', input: { deep: [1, { f: () => 2 }] }, type: 'function' },
  { label: 'a symbol', input: { s: Symbol('x') }, type: 'symbol' },
  { label: 'a WeakMap', input: new WeakMap(), type: 'WeakMap' },
  { label: 'a Promise', input: [Promise.resolve(1)], type: 'Promise' },
])('$label is reported as $type', async ({ input, type }) => {
  const pool = makePool('echo.ts');
  await expect(pool.run('echo', input)).rejects.toMatchObject({ code: 'TESSERA_TASK_INPUT', valueType: type });
});

test('cloneable inputs arrive intact (Map, Set, Date, typed arrays, nested objects, undefined)', async () => {
  const pool = makePool('echo.ts');
  const input = {
    map: new Map([['a', 1]]),
    set: new Set([1, 2]),
    date: new Date(0),
    bytes: new Uint8Array([1, 2, 3]),
    nested: { list: [1, 'two', null, undefined] },
    big: 10n,
  };
  expect(await pool.run('echo', input)).toEqual(input);
  expect(await pool.run('echo')).toBeUndefined();
});

test('an uncloneable input queued with others fails alone; its neighbours succeed', async () => {
  const pool = makePool<typeof order & { echo: (x: unknown) => unknown }>('order.ts', { abortGrace: 0 });
  // Let the queue drain in batches: occupy the thread, queue, then abort the occupant.
  const gate = new Gate();
  const controller = new AbortController();
  const occupant = pool.run('hang', { cells: gate.cells }, { signal: controller.signal });
  await gate.started();
  const log = new SharedLog();
  const before = [1, 2].map((id) => pool.run('count', { log: log.cells, id }));
  const bad = pool.run('count', { log: log.cells, id: 99, extra: () => 0 } as never);
  const after = [3, 4].map((id) => pool.run('count', { log: log.cells, id }));
  controller.abort();
  await expect(occupant).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });
  await expect(bad).rejects.toMatchObject({ code: 'TESSERA_TASK_INPUT', valueType: 'function' });
  expect((await Promise.all([...before, ...after])).map((r) => r.id)).toEqual([1, 2, 3, 4]);
  expect(log.counts()).toEqual(
    new Map([
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
    ]),
  );
});

test('an uncloneable result rejects with TaskResultError; the pool stays usable', async () => {
  const pool = makePool<typeof import('./fixtures/returns-function.ts')>('returns-function.ts');
  const error = await pool.run('makeFunction').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TaskResultError);
  expect(error).toBeInstanceOf(TesseraError);
  expect(error).toMatchObject({ code: 'TESSERA_TASK_RESULT', name: 'TaskResultError' });
  expect((error as Error).cause).toBeInstanceOf(Error);
  expect(await pool.run('ok')).toBe('ok');
  expect(pool.stats()).toMatchObject({ completed: 1, failed: 1 });
});
