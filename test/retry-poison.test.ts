import { expect, test } from 'vitest';
import { PoisonTaskError, WorkerCrashError } from '../src/index.ts';
import { makePool } from './helpers.ts';
import { Attempts } from './retry-helpers.ts';
import type * as tasks from './fixtures/retry.ts';

test('an input that killed its thread poisonAfter times fails with PoisonTaskError, though attempts remain', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  const error = await pool.run('exits', attempts.input(0, 100), { retry: { attempts: 10, backoff: 'fixed', delay: 0, poisonAfter: 2 } }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PoisonTaskError);
  const poison = error as PoisonTaskError;
  expect(poison.code).toBe('TESSERA_POISON_TASK');
  expect(poison.taskName).toBe('exits');
  expect(poison.attempts).toBe(2);
  expect(poison.crashes).toHaveLength(2);
  for (const crash of poison.crashes) expect(crash).toMatchObject({ reason: 'exit', exitCode: 7 });
  expect(poison.crashes[0]).toBeInstanceOf(WorkerCrashError);
  expect(attempts.of(0)).toBe(2);
  // The pool still works.
  await expect(pool.run('flaky', attempts.input(1, 0))).resolves.toEqual({ attempts: 1 });
});

test('crashes under poisonAfter (default 3) are retried as any failure', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  // The default poisonAfter is 3: two exits among four attempts are not poison.
  await expect(pool.run('exits', attempts.input(0, 2), { retry: { attempts: 4, backoff: 'fixed', delay: 0 } })).resolves.toEqual({ attempts: 3 });
});
