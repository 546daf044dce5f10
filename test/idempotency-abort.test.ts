import { expect, test } from 'vitest';
import { AbortError } from '../src/index.ts';
import type * as keyed from './fixtures/keyed.ts';
import { blockedPool as sharedBlockedPool, Gate, makePool, record, SharedLog, waitForCell } from './helpers.ts';

const blockedPool = (options: { abortGrace?: number } = {}) => sharedBlockedPool<typeof keyed>('keyed.ts', { maxBatch: 1, ...options });

test('aborting one sharer of a queued execution rejects it alone, at once; the others get the result', async () => {
  const { pool, gate, log, release } = blockedPool();
  await gate.started();
  const one = new AbortController();
  const two = new AbortController();
  const a = record(pool.run('count', { log: log.cells, id: 1 }, { key: 'k', signal: one.signal }));
  const b = record(pool.run('count', { log: log.cells, id: 2 }, { key: 'k', signal: two.signal }));
  const c = record(pool.run('count', { log: log.cells, id: 3 }, { key: 'k' }));
  const reason = new Error('this caller gave up');
  one.abort(reason);
  await expect(a.promise).rejects.toBeInstanceOf(AbortError);
  expect((a.reason as AbortError).reason).toBe(reason);
  // Still queued for the others.
  expect(pool.stats()).toMatchObject({ queued: 1, failed: 0 });
  expect(b.status).toBe('pending');
  await release();
  expect((await b.promise).id).toBe(1);
  expect((await c.promise).id).toBe(1);
  expect(log.entries()).toEqual([1]);
  expect([a.count, b.count, c.count]).toEqual([1, 1, 1]);
});

test('when every sharer of a queued execution aborts, it leaves the queue and never runs', async () => {
  const { pool, gate, log, release } = blockedPool();
  await gate.started();
  const one = new AbortController();
  const two = new AbortController();
  const a = pool.run('count', { log: log.cells, id: 1 }, { key: 'k', signal: one.signal });
  const b = pool.run('count', { log: log.cells, id: 2 }, { key: 'k', signal: two.signal });
  const other = pool.run('count', { log: log.cells, id: 3 });
  one.abort();
  await expect(a).rejects.toBeInstanceOf(AbortError);
  expect(pool.stats().queued).toBe(2);
  two.abort('last one');
  await expect(b).rejects.toMatchObject({ code: 'TESSERA_ABORTED', reason: 'last one' });
  expect(pool.stats()).toMatchObject({ queued: 1, accepted: 3, failed: 1 });
  await release();
  expect((await other).id).toBe(3);
  expect(log.entries()).toEqual([3]);
  // Settled: a new run with the key runs.
  expect((await pool.run('count', { log: log.cells, id: 4 }, { key: 'k' })).id).toBe(4);
});

test('a first run without a signal keeps the execution: the others abort alone', async () => {
  const { pool, gate, log, release } = blockedPool();
  await gate.started();
  const controller = new AbortController();
  const first = pool.run('count', { log: log.cells, id: 1 }, { key: 'k' });
  const later = pool.run('count', { log: log.cells, id: 2 }, { key: 'k', signal: controller.signal });
  controller.abort();
  await expect(later).rejects.toBeInstanceOf(AbortError);
  expect(pool.stats().queued).toBe(1);
  await release();
  expect((await first).id).toBe(1);
  expect(log.entries()).toEqual([1]);
});

test('aborting one sharer of a running execution leaves it running for the others', async () => {
  const pool = makePool<typeof keyed>('keyed.ts');
  const gate = new Gate();
  const one = new AbortController();
  const a = pool.run('block', { cells: gate.cells, value: 'done' }, { key: 'k', signal: one.signal });
  await gate.started();
  const b = pool.run('block', { cells: gate.cells, value: 'ignored' }, { key: 'k', signal: new AbortController().signal });
  one.abort();
  await expect(a).rejects.toBeInstanceOf(AbortError);
  expect(pool.stats().running).toBe(1);
  gate.open();
  expect(await b).toBe('done');
  expect(gate.startedCount).toBe(1);
  expect(pool.stats()).toMatchObject({ completed: 1, failed: 0 });
});

test('when every sharer of a running execution aborts, it is stopped as an aborted run (its context.signal aborts)', async () => {
  const pool = makePool<typeof keyed>('keyed.ts');
  const cells = new Int32Array(new SharedArrayBuffer(8));
  const one = new AbortController();
  const two = new AbortController();
  const a = pool.run('wait', { cells }, { key: 'k', signal: one.signal });
  await waitForCell(cells, 0, (v) => v === 1);
  const b = pool.run('wait', { cells }, { key: 'k', signal: two.signal });
  one.abort(new Error('first'));
  await expect(a).rejects.toBeInstanceOf(AbortError);
  expect(Atomics.load(cells, 1)).toBe(0);
  two.abort(new Error('second'));
  await expect(b).rejects.toMatchObject({ code: 'TESSERA_ABORTED', reason: new Error('second') });
  // The task saw its context.signal abort and stopped within the grace: the thread stays.
  await waitForCell(cells, 1, (v) => v === 1);
  await pool.onIdle();
  expect(pool.stats()).toMatchObject({ running: 0, accepted: 1, completed: 0, failed: 1, shared: 1 });
});

test('a spinning execution that every sharer abandons is terminated after abortGrace, and the pool goes on', async () => {
  const pool = makePool<typeof keyed>('keyed.ts', { abortGrace: 0 });
  const gate = new Gate();
  const one = new AbortController();
  const two = new AbortController();
  const a = pool.run('hang', { cells: gate.cells }, { key: 'k', signal: one.signal });
  await gate.started();
  const b = pool.run('hang', { cells: gate.cells }, { key: 'k', signal: two.signal });
  one.abort();
  two.abort();
  await expect(a).rejects.toBeInstanceOf(AbortError);
  await expect(b).rejects.toBeInstanceOf(AbortError);
  const log = new SharedLog();
  expect((await pool.run('count', { log: log.cells, id: 7 }, { key: 'k' })).id).toBe(7);
  expect(gate.startedCount).toBe(1);
});

test('a sharer whose abort event a listener before ours swallowed still never makes the execution run', async () => {
  const { pool, gate, log, release } = blockedPool();
  await gate.started();
  const controller = new AbortController();
  // Registered first, so our listener never hears the abort.
  controller.signal.addEventListener('abort', (event) => event.stopImmediatePropagation());
  const swallowed = record(pool.run('count', { log: log.cells, id: 1 }, { key: 'k', signal: controller.signal }));
  controller.abort('swallowed');
  expect(pool.stats().queued).toBe(1);
  await release();
  await expect(swallowed.promise).rejects.toMatchObject({ code: 'TESSERA_ABORTED', reason: 'swallowed' });
  await pool.onIdle();
  expect(log.entries()).toEqual([]);
  expect(swallowed.count).toBe(1);
  expect(pool.stats()).toMatchObject({ failed: 1, queued: 0 });
});

test('a sharer whose signal aborted before it joined is rejected at once and does not join', async () => {
  const { pool, gate, log, release } = blockedPool();
  await gate.started();
  const first = pool.run('count', { log: log.cells, id: 1 }, { key: 'k' });
  await expect(pool.run('count', { log: log.cells, id: 2 }, { key: 'k', signal: AbortSignal.abort('late') })).rejects.toMatchObject({
    code: 'TESSERA_ABORTED',
    reason: 'late',
  });
  expect(pool.stats().shared).toBe(0);
  await release();
  expect((await first).id).toBe(1);
});
