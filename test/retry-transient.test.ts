import { expect, test } from 'vitest';
import { makePool } from './helpers.ts';
import { Attempts } from './retry-helpers.ts';
import type * as tasks from './fixtures/retry.ts';

test('a run that fails twice and then succeeds resolves once, after three attempts counted on the threads', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  const result = await pool.run('flaky', attempts.input(0, 2), { retry: { attempts: 3, backoff: 'fixed', delay: 0 } });
  expect(result).toEqual({ attempts: 3 });
  expect(attempts.of(0)).toBe(3);
  expect(pool.stats()).toMatchObject({ accepted: 1, completed: 1, failed: 0, retries: 2, retrying: 0 });
});

test('the pool-level `retries` policy for a task name applies; a run\'s own `retry` replaces it', async () => {
  const pool = makePool<typeof tasks>('retry.ts', { retries: { flaky: { attempts: 2, backoff: 'fixed', delay: 0 } } });
  const attempts = new Attempts();
  await expect(pool.run('flaky', attempts.input(0, 1))).resolves.toEqual({ attempts: 2 });
  // { attempts: 1 } turns retries off for this run.
  await expect(pool.run('flaky', attempts.input(1, 1), { retry: { attempts: 1 } })).rejects.toThrow('transient 1');
  expect(attempts.of(1)).toBe(1);
});

test('the pool-level `retry` applies to every run without a policy of its own or its name\'s', async () => {
  const pool = makePool<typeof tasks>('retry.ts', { retry: { attempts: 4, backoff: 'exponential', delay: 0 } });
  const attempts = new Attempts();
  await expect(pool.run('flaky', attempts.input(0, 3))).resolves.toEqual({ attempts: 4 });
});

test('without a policy nothing is retried', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  await expect(pool.run('flaky', attempts.input(0, 1))).rejects.toThrow('transient 1');
  expect(attempts.of(0)).toBe(1);
  expect(pool.stats()).toMatchObject({ failed: 1, retries: 0 });
});

test('a keyed execution is retried once for all its sharers', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  const retry = { attempts: 3, backoff: 'fixed' as const, delay: 0 };
  const first = pool.run('flaky', attempts.input(0, 2), { key: 'k', retry });
  const second = pool.run('flaky', attempts.input(0, 2), { key: 'k' });
  const [a, b] = await Promise.all([first, second]);
  expect(a).toBe(b);
  expect(a).toEqual({ attempts: 3 });
  expect(attempts.of(0)).toBe(3);
});
