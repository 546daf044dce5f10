import { getEventListeners } from 'node:events';
import { expect, test } from 'vitest';
import { AbortError, TesseraError } from '../src/index.ts';
import type * as lifecycle from './fixtures/lifecycle.ts';
import { blockedPool as sharedBlockedPool, makePool, SharedLog } from './helpers.ts';

const blockedPool = () => sharedBlockedPool<typeof lifecycle>('lifecycle.ts');

test('aborting a queued task rejects it with AbortError carrying signal.reason, and it never runs', async () => {
  const { pool, gate, log, release } = blockedPool();
  await gate.started();
  const controller = new AbortController();
  const before = pool.run('count', { log: log.cells, id: 1 });
  const doomed = pool.run('count', { log: log.cells, id: 2 }, { signal: controller.signal, priority: 3 });
  const after = pool.run('count', { log: log.cells, id: 3 });
  expect(pool.stats()).toMatchObject({ queued: 3, queuedByPriority: { '0': 2, '3': 1 } });

  const reason = new Error('user cancelled');
  controller.abort(reason);
  const error = await doomed.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AbortError);
  expect(error).toBeInstanceOf(TesseraError);
  expect(error).toMatchObject({ code: 'TESSERA_ABORTED', name: 'AbortError' });
  expect((error as AbortError).reason).toBe(reason);
  // Removed from the queue at once, while the thread is still blocked.
  expect(pool.stats()).toMatchObject({ queued: 2, queuedByPriority: { '0': 2 }, failed: 1 });
  expect(gate.startedCount).toBe(1);

  await release();
  expect((await Promise.all([before, after])).map((r) => r.id)).toEqual([1, 3]);
  expect(log.entries()).toEqual([1, 3]);
});

test('the default reason (a DOMException) and non-Error reasons come through as given', async () => {
  const { pool, gate, log, release } = blockedPool();
  await gate.started();
  const plain = new AbortController();
  const custom = new AbortController();
  const a = pool.run('count', { log: log.cells, id: 1 }, { signal: plain.signal });
  const b = pool.run('count', { log: log.cells, id: 2 }, { signal: custom.signal });
  plain.abort();
  custom.abort('just a string');
  const errorA = (await a.catch((e: unknown) => e)) as AbortError;
  expect(errorA).toBeInstanceOf(AbortError);
  expect(errorA.reason).toBe(plain.signal.reason);
  expect((errorA.reason as DOMException).name).toBe('AbortError');
  const errorB = (await b.catch((e: unknown) => e)) as AbortError;
  expect(errorB.reason).toBe('just a string');
  expect(pool.stats().queued).toBe(0);
  await release();
  expect(log.entries()).toEqual([]);
});

test('an already-aborted signal rejects at once, without queueing', async () => {
  const { pool, gate, log, release } = blockedPool();
  await gate.started();
  const reason = new Error('too late');
  const run = pool.run('count', { log: log.cells, id: 1 }, { signal: AbortSignal.abort(reason) });
  expect(pool.stats().queued).toBe(0);
  const error = await run.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AbortError);
  expect((error as AbortError).reason).toBe(reason);
  await release();
  expect(log.entries()).toEqual([]);
});

test('an already-aborted signal rejects even when a thread is free', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts');
  await pool.ready();
  const log = new SharedLog();
  await expect(pool.run('count', { log: log.cells, id: 1 }, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
  expect(log.entries()).toEqual([]);
  expect((await pool.run('count', { log: log.cells, id: 2 })).id).toBe(2);
});

test('aborting after the task finished changes nothing', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts');
  const controller = new AbortController();
  expect(await pool.run('echo', 'done', { signal: controller.signal })).toBe('done');
  controller.abort();
  expect(pool.stats()).toMatchObject({ completed: 1, failed: 0 });
  expect(await pool.run('echo', 'still fine')).toBe('still fine');
});

test('one signal aborts every queued task that uses it', async () => {
  const { pool, gate, log, release } = blockedPool();
  await gate.started();
  const controller = new AbortController();
  const runs = [1, 2, 3].map((id) => pool.run('count', { log: log.cells, id }, { signal: controller.signal }));
  const survivor = pool.run('count', { log: log.cells, id: 4 });
  controller.abort();
  const settled = await Promise.allSettled(runs);
  expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
  expect(pool.stats().queued).toBe(1);
  await release();
  expect((await survivor).id).toBe(4);
  expect(log.entries()).toEqual([4]);
});

test('settled tasks remove their abort listener from a long-lived signal', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts');
  const controller = new AbortController();
  for (let i = 0; i < 30; i++) expect(await pool.run('echo', i, { signal: controller.signal })).toBe(i);
  await expect(pool.run('hang', {}, { signal: controller.signal, timeout: 20 })).rejects.toMatchObject({ code: 'TESSERA_TASK_TIMEOUT' });
  expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
});
