import { expect, test } from 'vitest';
import { PoolDestroyedError, TesseraError } from '../src/index.ts';
import type * as lifecycle from './fixtures/lifecycle.ts';
import { Gate, SharedLog, makePool } from './helpers.ts';

test('destroy() while busy rejects every queued and running task with PoolDestroyedError', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts', { maxThreads: 2, minThreads: 2 });
  const gate = new Gate();
  const running = [pool.run('block', { cells: gate.cells }), pool.run('hang', {})];
  await gate.started();
  const log = new SharedLog();
  const queued = [1, 2, 3].map((id) => pool.run('count', { log: log.cells, id }, { priority: id }));
  const withSignal = pool.run('echo', 'x', { signal: new AbortController().signal, timeout: 60_000 });
  expect(pool.stats().queued).toBe(4);

  const destroyed = pool.destroy();
  const settled = await Promise.allSettled([...running, ...queued, withSignal]);
  expect(settled.every((s) => s.status === 'rejected')).toBe(true);
  for (const s of settled) {
    const reason = (s as PromiseRejectedResult).reason as unknown;
    expect(reason).toBeInstanceOf(PoolDestroyedError);
    expect(reason).toBeInstanceOf(TesseraError);
    expect(reason).toMatchObject({ code: 'TESSERA_POOL_DESTROYED', name: 'PoolDestroyedError' });
  }
  await destroyed;
  expect(log.entries()).toEqual([]);
  expect(pool.stats()).toMatchObject({ threads: 0, queued: 0, running: 0, failed: 6, completed: 0 });
});

test('runs after destroy() reject with PoolDestroyedError; destroy() and close() then resolve', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts');
  await pool.ready();
  const first = pool.destroy();
  expect(pool.destroy()).toBe(first);
  await first;
  await expect(pool.run('echo', 1)).rejects.toBeInstanceOf(PoolDestroyedError);
  await pool.close();
  await pool.destroy();
});

test('destroy() of a pool that never ran anything', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts', { maxThreads: 2, minThreads: 2 });
  await pool.destroy();
  expect(pool.stats().threads).toBe(0);
});

test('onIdle() waiters are released by destroy()', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts');
  const gate = new Gate();
  const running = pool.run('block', { cells: gate.cells });
  await gate.started();
  const idle = pool.onIdle();
  const destroyed = pool.destroy();
  await expect(running).rejects.toBeInstanceOf(PoolDestroyedError);
  await idle;
  await destroyed;
});

test('destroy() while a crash is being handled still settles every task', async () => {
  const pool = makePool<typeof import('./fixtures/crash.ts')>('crash.ts');
  await pool.ready();
  const log = new SharedLog();
  const runs = [
    pool.run('count', { log: log.cells, id: 1 }),
    pool.run('exit', 5),
    pool.run('count', { log: log.cells, id: 2 }),
    pool.run('count', { log: log.cells, id: 3 }),
  ];
  const settled = Promise.allSettled(runs);
  // Destroy as soon as the crash is reported, while the tasks after it are being put back.
  await runs[1]!.catch(() => undefined);
  await pool.destroy();
  const outcomes = await settled;
  expect(outcomes[0]).toMatchObject({ status: 'fulfilled' });
  expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: { code: 'TESSERA_WORKER_CRASH' } });
  for (const outcome of outcomes.slice(2)) {
    // Each either ran before the destroy or was rejected by it; none is left pending or run twice.
    if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(PoolDestroyedError);
  }
  expect([...log.counts().values()].every((n) => n === 1)).toBe(true);
  expect(pool.stats()).toMatchObject({ queued: 0, running: 0, threads: 0 });
});

test('closed or destroyed before the module loaded: ready() says so, and does not blame the module', async () => {
  const closed = makePool('echo.ts');
  const closing = closed.ready();
  await closed.close();
  await expect(closing).rejects.toMatchObject({ code: 'TESSERA_POOL_CLOSED' });
  const destroyed = makePool('echo.ts');
  const destroying = destroyed.ready();
  await destroyed.destroy();
  await expect(destroying).rejects.toMatchObject({ code: 'TESSERA_POOL_DESTROYED' });
  // A module that fails to load is still ModuleLoadError.
  const broken = makePool('throws-at-import.ts');
  await expect(broken.ready()).rejects.toMatchObject({ code: 'TESSERA_MODULE_LOAD' });
});
