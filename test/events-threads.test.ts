/** pool.events: thread start, recycle and exit with its reason, from the Worker's own events. */
import { once } from 'node:events';
import { expect, test } from 'vitest';
import type { ThreadExitEvent } from '../src/index.ts';
import { Gate, makePool } from './helpers.ts';
import type * as tasks from './fixtures/observed.ts';

/** Resolves with the first threadExit event for which `match` holds. */
function exitWhere(pool: { events: { on(e: 'threadExit', l: (e: ThreadExitEvent) => void): unknown } }, match: (e: ThreadExitEvent) => boolean): Promise<ThreadExitEvent> {
  return new Promise((resolve) => pool.events.on('threadExit', (event) => match(event) && resolve(event)));
}

test('threadStart for each thread; a thread killed by its task exits with reason crash and its exit code', async () => {
  const pool = makePool<typeof tasks>('observed.ts');
  const started: number[] = [];
  pool.events.on('threadStart', (event) => started.push(event.threadId));
  const exited = exitWhere(pool, () => true);
  await pool.ready();
  expect(started).toHaveLength(1);
  await expect(pool.run('exit', 3)).rejects.toMatchObject({ code: 'TESSERA_WORKER_CRASH' });
  expect(await exited).toEqual({ threadId: started[0], reason: 'crash', exitCode: 3 });
  // Its replacement starts.
  await pool.run('echo', 1);
  expect(started).toHaveLength(2);
  expect(pool.stats().threadExits).toMatchObject({ crash: 1, retire: 0, idle: 0 });
});

test('a thread terminated because its run timed out exits with reason cancel', async () => {
  const pool = makePool<typeof tasks>('observed.ts', { abortGrace: 0 });
  await pool.ready();
  const exited = exitWhere(pool, () => true);
  await expect(pool.run('hang', {}, { timeout: 20 })).rejects.toMatchObject({ code: 'TESSERA_TASK_TIMEOUT' });
  expect((await exited).reason).toBe('cancel');
  expect(pool.stats().threadExits.cancel).toBe(1);
});

test('recycling: threadRecycle, then threadExit with reason retire', async () => {
  const pool = makePool<typeof tasks>('observed.ts', { maxTasksPerThread: 2 });
  const recycled: number[] = [];
  pool.events.on('threadRecycle', (event) => recycled.push(event.threadId));
  const exited = exitWhere(pool, (event) => event.reason === 'retire');
  await pool.ready();
  for (let i = 0; i < 3; i++) await pool.run('echo', i);
  const exit = await exited;
  expect(recycled).toContain(exit.threadId);
  expect(pool.stats().threadExits.retire).toBeGreaterThanOrEqual(1);
});

test('a thread reaped after idleTimeout exits with reason idle', async () => {
  const pool = makePool<typeof tasks>('observed.ts', { maxThreads: 2, minThreads: 1, idleTimeout: 10 });
  await pool.ready();
  const exited = exitWhere(pool, () => true);
  // Two blocked runs: a second thread starts.
  const gate = new Gate();
  const blocked = [pool.run('block', { cells: gate.cells }), pool.run('block', { cells: gate.cells })];
  await gate.started(2);
  gate.open();
  await Promise.all(blocked);
  expect((await exited).reason).toBe('idle');
});

test('close() stops the threads with reason close', async () => {
  const pool = makePool<typeof tasks>('observed.ts');
  await pool.ready();
  const exited = once(pool.events, 'threadExit') as Promise<[ThreadExitEvent]>;
  await pool.close();
  const [event] = await exited;
  expect(event.reason).toBe('close');
  expect(pool.stats().threadExits).toMatchObject({ close: 1, crash: 0 });
});
