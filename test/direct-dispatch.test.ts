import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, expect, test } from 'vitest';
import type * as tasks from './fixtures/prefetch.ts';
import { Gate, SharedLog, makePool, turns } from './helpers.ts';

// Runs without a signal, timeout, progress, callbacks or transfers go straight to a thread's own
// port; piscina does not see them. These tests hold what that must not change: the process lives
// until their results are read, a run with a signal still waits for an idle thread (and runs once
// one is), and a thread busy with them is never taken for idle.

let open: Gate | undefined;
afterEach(() => open?.open());

/** Runs a few tiny tasks so the pool has measured tasks as short (and prefetches). */
async function warm(pool: ReturnType<typeof makePool<typeof tasks>>): Promise<void> {
  const log = new SharedLog();
  for (let id = 0; id < 3; id++) await pool.run('count', { log: log.cells, id });
}

/** One thread, its tasks timed as short, held by a blocked direct run until `gate` opens. */
async function heldPool() {
  const pool = makePool<typeof tasks>('prefetch.ts', { maxThreads: 1, minThreads: 1 });
  await warm(pool);
  const gate = (open = new Gate());
  const blocked = pool.run('block', { cells: gate.cells, value: 'first' });
  await gate.started();
  return { pool, gate, blocked, log: new SharedLog() };
}

test('a process whose only pending work is runs on threads stays alive until their results are read, then exits by itself', async () => {
  const script = fileURLToPath(new URL('./fixtures/direct-exit.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { timeout: 30_000 });
  expect(JSON.parse(stdout.trim())).toEqual({ results: [1, 2, 3], spun: true });
});

test('a run with a signal submitted while the only thread holds direct runs waits for it to be idle, then runs', async () => {
  const { pool, gate, blocked, log } = await heldPool();
  // A slot is free (one may wait at the thread), but a run with a signal may join no busy thread.
  const signalled = pool.run('count', { log: log.cells, id: 1 }, { signal: new AbortController().signal });
  const after = pool.run('count', { log: log.cells, id: 2 });
  await turns(5);
  expect(log.entries()).toEqual([]);
  gate.open();
  expect(await blocked).toBe('first');
  expect((await signalled).id).toBe(1);
  expect((await after).id).toBe(2);
  expect(log.entries()).toEqual([1, 2]);
  expect(pool.stats().threadExits).toMatchObject({ crash: 0, cancel: 0 });
});

test('aborting a run with a signal while it waits for an idle thread rejects it at once; no thread is stopped, the others finish', async () => {
  const { pool, gate, blocked, log } = await heldPool();
  const controller = new AbortController();
  const signalled = pool.run('count', { log: log.cells, id: 2 }, { signal: controller.signal });
  await turns(5);
  controller.abort(new Error('gave up'));
  await expect(signalled).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });
  gate.open();
  expect(await blocked).toBe('first');
  expect((await pool.run('count', { log: log.cells, id: 3 })).id).toBe(3);
  expect(log.entries()).toEqual([3]);
  expect(pool.stats().threadExits).toMatchObject({ crash: 0, cancel: 0 });
});

test('with idleTimeout 0, threads that run direct runs are not stopped; they stop once idle', async () => {
  const pool = makePool<typeof tasks>('prefetch.ts', { maxThreads: 2, minThreads: 1, idleTimeout: 0 });
  const exits: string[] = [];
  pool.events.on('threadExit', (event) => exits.push(event.reason));
  // Not warmed: untimed runs are not prefetched, so the second one starts a second thread.
  await pool.ready();
  const gate = (open = new Gate());
  const blocked = [pool.run('block', { cells: gate.cells, value: 'a' }), pool.run('block', { cells: gate.cells, value: 'b' })];
  await gate.started(2);
  // Many timer turns pass while both threads run: an idle check that fired now would stop one.
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  expect(exits).toEqual([]);
  gate.open();
  expect(await Promise.all(blocked)).toEqual(['a', 'b']);
  const reaped = new Promise<void>((resolve) => pool.events.on('threadExit', () => resolve()));
  await reaped;
  expect(exits).toEqual(['idle']);
  expect(pool.stats().threads).toBe(1);
});

test('a direct run that ends its thread is blamed; the one prefetched behind it runs on a new thread', async () => {
  const pool = makePool<typeof tasks>('prefetch.ts', { maxThreads: 1, minThreads: 1 });
  await warm(pool);
  const gate = (open = new Gate());
  const dying = pool.run('blockThenExit', { cells: gate.cells });
  await gate.started();
  const log = new SharedLog();
  const behind = pool.run('count', { log: log.cells, id: 7 });
  gate.open();
  await expect(dying).rejects.toMatchObject({ code: 'TESSERA_WORKER_CRASH' });
  expect((await behind).id).toBe(7);
  expect(log.entries()).toEqual([7]);
  expect(pool.stats().threadExits).toMatchObject({ crash: 1 });
});

test('a plain run submitted right behind a run that moves buffers never starts before it: when it ends the thread, the buffers were read', async () => {
  // The run with `transfer` goes through piscina's port, a plain one straight to the thread's own;
  // two ports keep no order between them, so a plain run joining the thread could start first.
  const pool = makePool<typeof tasks>('prefetch.ts', { maxThreads: 1, minThreads: 1 });
  await warm(pool);
  for (let round = 0; round < 25; round++) {
    const buffer = new ArrayBuffer(64 + round);
    const moved = pool.run('size', { buffer }, { transfer: [buffer] });
    const ending = pool.run('exit', 3);
    expect(await moved).toBe(64 + round);
    await expect(ending).rejects.toMatchObject({ code: 'TESSERA_WORKER_CRASH', exitCode: 3 });
  }
  expect(pool.stats().threadExits).toMatchObject({ crash: 25 });
});
