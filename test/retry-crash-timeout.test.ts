import { expect, test } from 'vitest';
import { TaskTimeoutError, WorkerCrashError } from '../src/index.ts';
import { makePool } from './helpers.ts';
import { Attempts } from './retry-helpers.ts';
import type * as tasks from './fixtures/retry.ts';

test('a run whose thread exited is retried by default on a fresh thread', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  await expect(pool.run('exits', attempts.input(0, 1), { retry: { attempts: 2, backoff: 'fixed', delay: 0 } })).resolves.toEqual({ attempts: 2 });
  expect(pool.stats()).toMatchObject({ completed: 1, failed: 0, retries: 1 });
});

test('a run that timed out is retried by default; the timeout applies to each attempt', async () => {
  const pool = makePool<typeof tasks>('retry.ts', { abortGrace: 0 });
  const attempts = new Attempts();
  await expect(pool.run('hangs', attempts.input(0, 1), { timeout: 200, retry: { attempts: 2, backoff: 'fixed', delay: 0 } })).resolves.toEqual({ attempts: 2 });
  const error = await pool.run('hangs', attempts.input(1, 5), { timeout: 100, retry: { attempts: 2, backoff: 'fixed', delay: 0 } }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TaskTimeoutError);
  expect(error).toMatchObject({ attempts: 2 });
  expect((error as { errors: unknown[] }).errors[0]).toBeInstanceOf(TaskTimeoutError);
  expect(attempts.of(1)).toBe(2);
});

test('a crash is final without a policy, as before', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  await expect(pool.run('exits', new Attempts().input(0, 1))).rejects.toBeInstanceOf(WorkerCrashError);
});
