import { expect, test } from 'vitest';
import type * as tasks from './fixtures/progress.ts';
import { makePool } from './helpers.ts';

test('a task reporting 1,000,000 times in a tight loop delivers few callbacks, the last value included', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  const seen: number[] = [];
  const result = await pool.run('tight', { n: 1_000_000 }, { onProgress: (value: number) => seen.push(value) });
  expect(result).toBe(1_000_000);
  expect(seen.length).toBeGreaterThan(0);
  expect(seen.length).toBeLessThan(1_000);
  expect(seen.at(-1)).toBe(1_000_000);
});

test('a task reporting once per event-loop turn is throttled too', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  const seen: number[] = [];
  expect(await pool.run('steps', { n: 5_000 }, { onProgress: (value: number) => seen.push(value) })).toBe('done');
  expect(seen.length).toBeLessThan(5_000);
  expect(seen.at(-1)).toBe(5_000);
});
