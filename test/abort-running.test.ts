import { expect, test } from 'vitest';
import { AbortError } from '../src/index.ts';
import type * as lifecycle from './fixtures/lifecycle.ts';
import { Gate, makePool, waitForCell } from './helpers.ts';

test('aborting a spinning task terminates its thread; a replacement runs later tasks', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts', { abortGrace: 20 });
  const before = await pool.run('threadId');
  const gate = new Gate();
  const controller = new AbortController();
  const spinning = pool.run('hang', { cells: gate.cells }, { signal: controller.signal });
  await gate.started();
  expect(pool.stats()).toMatchObject({ running: 1, idleThreads: 0 });

  const reason = new Error('stop spinning');
  controller.abort(reason);
  const error = await spinning.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AbortError);
  expect(error).toMatchObject({ code: 'TESSERA_ABORTED' });
  expect((error as AbortError).reason).toBe(reason);

  // The only thread was stuck in `while (true)`: a later task can only run on a new one.
  const after = await pool.run('threadId');
  expect(after).not.toBe(before);
  expect(await pool.run('echo', 'alive')).toBe('alive');
  expect(pool.stats()).toMatchObject({ threads: 1, running: 0, failed: 1, completed: 3 });
});

test('a task queued behind the spinning one runs once it is aborted', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts', { abortGrace: 0 });
  const gate = new Gate();
  const controller = new AbortController();
  const spinning = pool.run('hang', { cells: gate.cells }, { signal: controller.signal });
  const queued = pool.run('echo', 'next');
  await gate.started();
  controller.abort();
  await expect(spinning).rejects.toBeInstanceOf(AbortError);
  expect(await queued).toBe('next');
});

test('a cooperative async task sees context.signal abort, and its thread is kept', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts', { abortGrace: 10_000 });
  const before = await pool.run('threadId');
  const cells = new Int32Array(new SharedArrayBuffer(8));
  const controller = new AbortController();
  const task = pool.run('wait', { cells }, { signal: controller.signal });
  // The task is running (it flagged cells[0]) and has not seen an abort (cells[1]).
  await waitForCell(cells, 0, (v) => v === 1);
  expect(Atomics.load(cells, 1)).toBe(0);
  controller.abort(new Error('please stop'));
  // The caller learns at once...
  await expect(task).rejects.toBeInstanceOf(AbortError);
  // ...the next task runs once the aborted one has let go of the thread...
  const after = await pool.run('threadId');
  // ...which it did by itself: it saw its signal abort, and settled within the grace period, so its
  // thread was not terminated.
  expect(Atomics.load(cells, 1)).toBe(1);
  expect(after).toBe(before);
});

test('a running task without a signal is not affected by aborts of others', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts', { maxThreads: 2, minThreads: 2, abortGrace: 0 });
  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells, value: 'survived' });
  const spinGate = new Gate();
  const controller = new AbortController();
  const spinning = pool.run('hang', { cells: spinGate.cells }, { signal: controller.signal });
  await Promise.all([gate.started(), spinGate.started()]);
  controller.abort();
  await expect(spinning).rejects.toBeInstanceOf(AbortError);
  gate.open();
  expect(await blocked).toBe('survived');
});

test('a cooperative task that rejects on abort: the caller still gets AbortError', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts', { abortGrace: 10_000 });
  const cells = new Int32Array(new SharedArrayBuffer(8));
  const controller = new AbortController();
  const reason = new Error('cancelled by caller');
  const task = pool.run('wait', { cells, reject: true }, { signal: controller.signal });
  await waitForCell(cells, 0, (v) => v === 1);
  controller.abort(reason);
  const error = await task.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AbortError);
  expect((error as AbortError).reason).toBe(reason);
  expect(await pool.run('echo', 'next')).toBe('next');
  expect(Atomics.load(cells, 1)).toBe(1);
  expect(pool.stats()).toMatchObject({ completed: 1, failed: 1 });
});
