import { expect, test } from 'vitest';
import { makePool } from './helpers.ts';
import { Attempts, useHeldTimers } from './retry-helpers.ts';
import type * as tasks from './fixtures/retry.ts';

test('stats count runs waiting to retry in `retrying` (not in queued or running), each retry in `retries`, and a run once in failed', async () => {
  const timers = useHeldTimers();
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  const retry = { attempts: 3 };
  const ok = pool.run('flaky', attempts.input(0, 1), { retry });
  const bad = pool.run('flaky', attempts.input(1, 9), { retry }).catch((e: unknown) => e);
  await timers.scheduled(2);
  expect(pool.stats()).toMatchObject({ accepted: 2, queued: 0, running: 0, retrying: 2, retries: 2, completed: 0, failed: 0 });
  timers.fireAll();
  await ok;
  await timers.scheduled(3);
  expect(pool.stats()).toMatchObject({ retrying: 1, retries: 3, completed: 1, failed: 0 });
  timers.fireAll();
  await bad;
  expect(pool.stats()).toMatchObject({ accepted: 2, retrying: 0, retries: 3, completed: 1, failed: 1 });
  expect(attempts.of(1)).toBe(3);
});
