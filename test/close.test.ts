import { expect, test } from 'vitest';
import { PoolClosedError, TesseraError } from '../src/index.ts';
import type * as lifecycle from './fixtures/lifecycle.ts';
import { Gate, SharedLog, makePool, nextTurn } from './helpers.ts';

test('close() while busy finishes running and queued tasks, then resolves; later runs reject', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts');
  const gate = new Gate();
  const events: string[] = [];
  const running = pool.run('block', { cells: gate.cells, value: 'running' }).then((v) => {
    events.push(`task ${v}`);
    return v;
  });
  await gate.started();
  const log = new SharedLog();
  const queued = [1, 2, 3].map((id) =>
    pool.run('count', { log: log.cells, id }).then((r) => {
      events.push(`task ${r.id}`);
      return r.id;
    }),
  );

  const closed = pool.close().then(() => events.push('closed'));
  const error = await pool.run('echo', 'too late').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PoolClosedError);
  expect(error).toBeInstanceOf(TesseraError);
  expect(error).toMatchObject({ code: 'TESSERA_POOL_CLOSED', name: 'PoolClosedError' });
  // Nothing was dropped while closing.
  await nextTurn();
  expect(events).toEqual([]);
  expect(pool.stats()).toMatchObject({ queued: 3, running: 1 });

  gate.open();
  expect(await running).toBe('running');
  expect(await Promise.all(queued)).toEqual([1, 2, 3]);
  await closed;
  expect(events).toEqual(['task running', 'task 1', 'task 2', 'task 3', 'closed']);
  expect(pool.stats()).toMatchObject({ threads: 0, completed: 4, failed: 0 });
  await expect(pool.run('echo', 'after')).rejects.toBeInstanceOf(PoolClosedError);
});

test('close() of an idle pool resolves and stops its threads', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts', { maxThreads: 2, minThreads: 2 });
  await pool.ready();
  expect(await pool.run('echo', 1)).toBe(1);
  await pool.close();
  expect(pool.stats().threads).toBe(0);
});

test('close() is idempotent: every call waits for the same shutdown', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts');
  const gate = new Gate();
  const running = pool.run('block', { cells: gate.cells, value: 'x' });
  await gate.started();
  const first = pool.close();
  const second = pool.close();
  expect(second).toBe(first);
  gate.open();
  await Promise.all([first, second, running]);
  await pool.close();
});

test('destroy() during close() rejects what is left, and close() still resolves', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts');
  const gate = new Gate();
  const running = pool.run('block', { cells: gate.cells });
  await gate.started();
  const queued = pool.run('echo', 'queued');
  const closed = pool.close();
  const destroyed = pool.destroy();
  await expect(running).rejects.toMatchObject({ code: 'TESSERA_POOL_DESTROYED' });
  await expect(queued).rejects.toMatchObject({ code: 'TESSERA_POOL_DESTROYED' });
  await destroyed;
  await closed;
});

test('timeouts and aborts still apply while closing', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts', { abortGrace: 0 });
  const hung = pool.run('hang', {}, { timeout: 50 });
  const controller = new AbortController();
  const queued = pool.run('echo', 'never', { signal: controller.signal });
  const closed = pool.close();
  controller.abort();
  await expect(queued).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });
  await expect(hung).rejects.toMatchObject({ code: 'TESSERA_TASK_TIMEOUT' });
  await closed;
});
