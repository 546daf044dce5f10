import { expect, test } from 'vitest';
import { PoolDestroyedError } from '../src/index.ts';
import { makePool, record, turns } from './helpers.ts';
import { Attempts, useHeldTimers } from './retry-helpers.ts';
import type * as tasks from './fixtures/retry.ts';

test('destroy() rejects a run waiting to retry with PoolDestroyedError and clears its timer', async () => {
  const timers = useHeldTimers();
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  const run = record(pool.run('flaky', attempts.input(0, 1), { retry: { attempts: 2 } }));
  await timers.scheduled(1);
  await pool.destroy();
  await turns(1);
  expect(run.status).toBe('rejected');
  expect(run.reason).toBeInstanceOf(PoolDestroyedError);
  expect(timers.held[0]!.cleared).toBe(true);
  expect(pool.stats()).toMatchObject({ retrying: 0, failed: 1, accepted: 1 });
  expect(attempts.of(0)).toBe(1);
});

test('a retryOn that destroys the pool settles the run once, with PoolDestroyedError', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  const run = record(
    pool.run('flaky', new Attempts().input(0, 5), {
      retry: {
        attempts: 5,
        retryOn: () => {
          void pool.destroy();
          return true;
        },
      },
    }),
  );
  await run.promise.catch(() => {});
  await turns(2);
  expect(run.count).toBe(1);
  expect(run.reason).toBeInstanceOf(PoolDestroyedError);
  expect(pool.stats()).toMatchObject({ retrying: 0, retries: 0, failed: 1 });
});
