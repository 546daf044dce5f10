import { expect, test } from 'vitest';
import { AbortError, proxy, TaskTimeoutError } from '../src/index.ts';
import type * as tasks from './fixtures/progress.ts';
import { makePool, waitForCell } from './helpers.ts';

test('abort while a callback is pending: the run rejects, the call rejects in the task, the pool goes idle', async () => {
  const pool = makePool<typeof tasks>('progress.ts', { abortGrace: 10_000 });
  const never = proxy(() => new Promise<never>(() => {}));
  const cells = new Int32Array(new SharedArrayBuffer(8));
  const controller = new AbortController();
  const run = pool.run('pending', { wait: never, cells }, { signal: controller.signal });
  await waitForCell(cells, 0, (v) => v === 1);
  controller.abort('stop');
  await expect(run).rejects.toBeInstanceOf(AbortError);
  // Inside the task, the pending call rejected with the abort's reason, so it could return.
  await waitForCell(cells, 1, (v) => v === 1);
  await pool.onIdle();
  expect(await pool.run('tight', { n: 3 })).toBe(3);
});

test('timeout while a callback is pending settles the run and never hangs close()', async () => {
  const pool = makePool<typeof tasks>('progress.ts', { abortGrace: 0 });
  const never = proxy(() => new Promise<never>(() => {}));
  const cells = new Int32Array(new SharedArrayBuffer(8));
  await expect(pool.run('pending', { wait: never, cells }, { timeout: 50 })).rejects.toBeInstanceOf(TaskTimeoutError);
  await pool.close();
});
