import { expect, test } from 'vitest';
import { makePool } from './helpers.ts';
import { Attempts } from './retry-helpers.ts';
import type * as tasks from './fixtures/retry.ts';

test('when the attempts run out, the last error rejects, carrying how many attempts ran and the earlier errors', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  const error = (await pool.run('flaky', attempts.input(0, 10), { retry: { attempts: 3, backoff: 'fixed', delay: 0 } }).catch((e: unknown) => e)) as Error & {
    attempts: number;
    errors: Error[];
    code: string;
  };
  expect(attempts.of(0)).toBe(3);
  expect(error).toBeInstanceOf(Error);
  expect(error.message).toBe('transient 3');
  expect(error.code).toBe('E_TRANSIENT');
  expect(error.attempts).toBe(3);
  expect(error.errors.map((e) => e.message)).toEqual(['transient 1', 'transient 2']);
  // Annotations are not enumerable: the error's own data stays as the task threw it.
  expect(Object.keys(error)).not.toContain('attempts');
  expect(pool.stats()).toMatchObject({ accepted: 1, completed: 0, failed: 1, retries: 2, retrying: 0 });
});
