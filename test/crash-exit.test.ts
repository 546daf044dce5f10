import { expect, test } from 'vitest';
import { TesseraError, WorkerCrashError } from '../src/index.ts';
import type * as crash from './fixtures/crash.ts';
import { Gate, SharedLog, makePool } from './helpers.ts';

test('process.exit(3) in a task rejects it with WorkerCrashError (reason exit, exitCode 3)', async () => {
  const pool = makePool<typeof crash>('crash.ts');
  const before = await pool.run('threadId');
  const error = await pool.run('exit', 3).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WorkerCrashError);
  expect(error).toBeInstanceOf(TesseraError);
  expect(error).toMatchObject({ code: 'TESSERA_WORKER_CRASH', name: 'WorkerCrashError', reason: 'exit', exitCode: 3 });
  expect((error as Error).message).toContain('code 3');
  // The thread was replaced and the pool works.
  const after = await pool.run('threadId');
  expect(after).not.toBe(before);
  expect(pool.stats()).toMatchObject({ threads: 1, failed: 1, completed: 2 });
});

test('process.exit(0) is a crash too: the task never returned', async () => {
  const pool = makePool<typeof crash>('crash.ts');
  await expect(pool.run('exit', 0)).rejects.toMatchObject({ code: 'TESSERA_WORKER_CRASH', reason: 'exit', exitCode: 0 });
  expect(await pool.run('threadId')).toEqual(expect.any(Number));
});

test.each([
  { label: 'maxBatch: 1', maxBatch: 1 },
  { label: 'batched', maxBatch: undefined },
])('$label: tasks queued with the crashing one all succeed, and none runs twice', async ({ maxBatch }) => {
  const pool = makePool<typeof crash>('crash.ts', { abortGrace: 0, ...(maxBatch === undefined ? {} : { maxBatch }) });
  // Occupy the thread with a task we then abort, so the queue drains in batches (nothing timed yet).
  const gate = new Gate();
  const controller = new AbortController();
  const occupant = pool.run('hang', { cells: gate.cells }, { signal: controller.signal });
  await gate.started();
  const log = new SharedLog();
  const before = [1, 2].map((id) => pool.run('count', { log: log.cells, id }));
  const crashing = pool.run('exit', 3);
  const after = [3, 4, 5, 6].map((id) => pool.run('count', { log: log.cells, id }));
  controller.abort();
  await expect(occupant).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });

  await expect(crashing).rejects.toMatchObject({ code: 'TESSERA_WORKER_CRASH', reason: 'exit', exitCode: 3 });
  const results = await Promise.all([...before, ...after]);
  expect(results.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(log.entries()).toEqual([1, 2, 3, 4, 5, 6]);
  expect([...log.counts().values()].every((n) => n === 1)).toBe(true);
  // 1 and 2 ran on the thread that died; 3 to 6 on its replacement.
  const [one, two, three, six] = [results[0]!, results[1]!, results[2]!, results[5]!];
  expect(one.thread).toBe(two.thread);
  expect(three.thread).not.toBe(one.thread);
  expect(six.thread).toBe(three.thread);
  expect(pool.stats()).toMatchObject({ completed: 6, failed: 2, running: 0, queued: 0 });
});

test('a crash on one thread does not disturb a task running on another', async () => {
  const pool = makePool<typeof crash>('crash.ts', { maxThreads: 2, minThreads: 2 });
  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells, value: 'untouched' });
  await gate.started();
  await expect(pool.run('exit', 7)).rejects.toMatchObject({ reason: 'exit', exitCode: 7 });
  gate.open();
  expect(await blocked).toBe('untouched');
});
