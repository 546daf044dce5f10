import { expect, test } from 'vitest';
import { AbortError } from '../src/index.ts';
import { makePool, record, turns } from './helpers.ts';
import { Attempts, useHeldTimers } from './retry-helpers.ts';
import type * as tasks from './fixtures/retry.ts';

test('an abort during the backoff rejects at once with AbortError, clears the timer, and the run never runs again', async () => {
  const timers = useHeldTimers();
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  const controller = new AbortController();
  const run = record(pool.run('flaky', attempts.input(0, 5), { signal: controller.signal, retry: { attempts: 5, delay: 60_000 } }));
  await timers.scheduled(1);
  await turns(2);
  expect(run.status).toBe('pending');
  controller.abort('enough');
  await turns(1);
  expect(run.status).toBe('rejected');
  expect(run.reason).toBeInstanceOf(AbortError);
  expect(run.reason).toMatchObject({ reason: 'enough', attempts: 1 });
  expect((run.reason as { errors: Error[] }).errors.map((e) => e.message)).toEqual(['transient 1']);
  expect(timers.pending).toHaveLength(0);
  expect(timers.held[0]!.cleared).toBe(true);
  expect(pool.stats()).toMatchObject({ retrying: 0, failed: 1, accepted: 1 });
  await pool.onIdle();
  expect(attempts.of(0)).toBe(1);
});

test('a keyed execution waiting to retry is abandoned when its last sharer aborts', async () => {
  const timers = useHeldTimers();
  const pool = makePool<typeof tasks>('retry.ts');
  const controller = new AbortController();
  const run = record(pool.run('flaky', new Attempts().input(0, 5), { key: 'k', signal: controller.signal, retry: { attempts: 5 } }));
  await timers.scheduled(1);
  controller.abort();
  await turns(1);
  expect(run.reason).toBeInstanceOf(AbortError);
  expect(timers.pending).toHaveLength(0);
  expect(pool.stats()).toMatchObject({ retrying: 0, failed: 1 });
});
