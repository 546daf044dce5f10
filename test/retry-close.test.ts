import { expect, test } from 'vitest';
import { makePool, record, turns } from './helpers.ts';
import { Attempts, useHeldTimers } from './retry-helpers.ts';
import type * as tasks from './fixtures/retry.ts';

test('close() and onIdle() wait for a run waiting to retry, which then runs and settles first', async () => {
  const timers = useHeldTimers();
  const pool = makePool<typeof tasks>('retry.ts');
  const attempts = new Attempts();
  const order: string[] = [];
  const run = record(pool.run('flaky', attempts.input(0, 1), { retry: { attempts: 2 } }).then((v) => (order.push('run'), v)));
  await timers.scheduled(1);
  const idle = record(pool.onIdle().then(() => order.push('idle')));
  const closed = record(pool.close().then(() => order.push('close')));
  await turns(5);
  expect(run.status).toBe('pending');
  expect(idle.status).toBe('pending');
  expect(closed.status).toBe('pending');
  expect(pool.stats()).toMatchObject({ retrying: 1, running: 0, queued: 0 });
  timers.fireAll();
  await closed.promise;
  expect(run.value).toEqual({ attempts: 2 });
  expect(order).toEqual(['run', 'idle', 'close']);
});
