import { expect, test } from 'vitest';
import { WorkerCrashError } from '../src/index.ts';
import type * as crash from './fixtures/crash.ts';
import { SharedLog, makePool } from './helpers.ts';

const limits = { resourceLimits: { maxOldGenerationSizeMb: 16 } };

test('a task that runs out of memory rejects with WorkerCrashError (reason out-of-memory)', async () => {
  const pool = makePool<typeof crash>('crash.ts', limits);
  const before = await pool.run('threadId');
  const error = await pool.run('oom').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WorkerCrashError);
  // The exit code comes from the Worker's own exit event, which follows the out-of-memory error.
  expect(error).toMatchObject({ code: 'TESSERA_WORKER_CRASH', reason: 'out-of-memory', exitCode: expect.any(Number) });
  expect((error as Error).message).toContain('out of memory');
  // A normal task succeeds afterwards, on a replacement thread (with the same limits).
  const after = await pool.run('threadId');
  expect(after).not.toBe(before);
  expect(await pool.run('echo', 'fine')).toBe('fine');
});

test('tasks queued around the one that runs out of memory still succeed, each once', async () => {
  const pool = makePool<typeof crash>('crash.ts', limits);
  await pool.ready();
  const log = new SharedLog();
  const before = [1, 2].map((id) => pool.run('count', { log: log.cells, id }));
  const oom = pool.run('oom');
  const after = [3, 4].map((id) => pool.run('count', { log: log.cells, id }));
  await expect(oom).rejects.toMatchObject({ reason: 'out-of-memory' });
  expect((await Promise.all([...before, ...after])).map((r) => r.id)).toEqual([1, 2, 3, 4]);
  expect(log.entries()).toEqual([1, 2, 3, 4]);
});
