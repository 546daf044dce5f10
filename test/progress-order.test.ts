import { expect, test } from 'vitest';
import type * as tasks from './fixtures/progress.ts';
import { makePool } from './helpers.ts';

test('progress values arrive in order, and the last one before the result', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  const seen: unknown[] = [];
  let settled = false;
  const run = pool.run('steps', { n: 200 }, { onProgress: (value) => seen.push(settled ? 'after settle' : value) });
  const result = await run.finally(() => (settled = true));
  expect(result).toBe('done');
  expect(seen.length).toBeGreaterThan(0);
  expect(seen.at(-1)).toBe(200);
  const numbers = seen as number[];
  for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBeGreaterThan(numbers[i - 1]!);
  // None after it settled either.
  await pool.close();
  expect(seen).not.toContain('after settle');
});

test('a reported object is copied when progress is called', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  const seen: unknown[] = [];
  expect(await pool.run('snapshot', undefined, { onProgress: (value) => seen.push(value) })).toBe('ok');
  expect(seen).toEqual([{ step: 'first' }]);
});

test('a task without onProgress may call context.progress: nothing happens', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  expect(await pool.run('steps', { n: 5 })).toBe('done');
});
