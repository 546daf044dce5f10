import { expect, test } from 'vitest';
import { InvalidOptionTypeError, proxy, TaskInputError } from '../src/index.ts';
import type * as tasks from './fixtures/progress.ts';
import { makePool } from './helpers.ts';

test('a task awaits a proxied main-thread function and gets its result', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  const calls: number[] = [];
  const fetch = proxy(async (x: number) => {
    calls.push(x);
    return { doubled: x * 2 };
  });
  const result = await pool.run('callback', { fetch, x: 21 });
  expect(result).toEqual({ got: { doubled: 42 }, kept: 21, type: 'function' });
  expect(calls).toEqual([21]);
  // The same marker serves another run, with a channel of its own.
  expect(await pool.run('callback', { fetch, x: 1 })).toMatchObject({ got: { doubled: 2 } });
});

test('a proxied function in a batch queue travels alone and still answers', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  const fetch = proxy((x: number) => x + 1);
  const runs = Array.from({ length: 20 }, (_, x) => pool.run('callback', { fetch, x }));
  const plain = Array.from({ length: 20 }, () => pool.run('tight', { n: 1 }));
  const results = await Promise.all(runs);
  expect(results.map((r) => (r as { got: number }).got)).toEqual(Array.from({ length: 20 }, (_, x) => x + 1));
  expect(await Promise.all(plain)).toEqual(Array(20).fill(1));
});

test('proxy refuses what is not a function; a marker nested deeper fails to clone', async () => {
  expect(() => proxy(1 as never)).toThrow(InvalidOptionTypeError);
  const pool = makePool<typeof tasks>('progress.ts');
  const error = await pool.run('callback', { nested: { fetch: proxy(() => 1) } } as never).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TaskInputError);
});

test('an input whose getter throws rejects with TaskInputError once proxy is in use', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  proxy(() => 1);
  const input = Object.defineProperty({}, 'x', {
    enumerable: true,
    get() {
      throw new Error('getter');
    },
  });
  await expect(pool.run('callback', input as never)).rejects.toBeInstanceOf(TaskInputError);
  expect(await pool.run('tight', { n: 2 })).toBe(2);
});
