import { expect, test } from 'vitest';
import { Gate, makePool, SharedLog } from './helpers.ts';
import { Attempts, useHeldTimers } from './retry-helpers.ts';
import type * as tasks from './fixtures/retry.ts';

test('a retry goes back through the queue with its own priority', async () => {
  const timers = useHeldTimers();
  // No prefetch: nothing waits at the blocked thread, so the queue alone orders what follows.
  const pool = makePool<typeof tasks>('retry.ts', { prefetch: 0 });
  const attempts = new Attempts();
  const log = new SharedLog();
  const retry = { attempts: 2, backoff: 'fixed' as const, delay: 0 };
  // Id 1 fails once at priority 5 and waits on its (held) backoff.
  const retried = pool.run('flaky', attempts.input(1, 1, log.cells), { priority: 5, retry });
  await timers.scheduled(1);
  // The only thread is blocked; ids 2 (priority 0) and 3 (priority 10) queue behind it.
  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells });
  await gate.started();
  const low = pool.run('flaky', attempts.input(2, 0, log.cells), { priority: 0 });
  const high = pool.run('flaky', attempts.input(3, 0, log.cells), { priority: 10 });
  expect(pool.stats()).toMatchObject({ queued: 2, retrying: 1 });
  timers.fireAll();
  expect(pool.stats()).toMatchObject({ queued: 3, retrying: 0 });
  gate.open();
  await Promise.all([retried, blocked, low, high]);
  expect(log.entries()).toEqual([1, 3, 1, 2]);
});
