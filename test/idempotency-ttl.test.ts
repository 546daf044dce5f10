import { afterEach, expect, test } from 'vitest';
import { KeyRegistry, setClockForTests } from '../src/idempotency.ts';
import { noRunOptions } from '../src/options.ts';
import type * as keyed from './fixtures/keyed.ts';
import { Gate, SharedLog, makePool } from './helpers.ts';

/** The registry's clock, driven by the test: kept results expire when `time` passes, never by waiting. */
let time = 1_000;
setClockForTests(() => time);
afterEach(() => {
  time = 1_000;
});

function keyedPool(options: { maxKeys?: number } = {}) {
  const pool = makePool<typeof keyed>('keyed.ts', options);
  const log = new SharedLog();
  const count = (id: number, key: string, keyTtl?: number) =>
    pool.run('count', { log: log.cells, id }, keyTtl === undefined ? { key } : { key, keyTtl });
  return { pool, log, count };
}

test('within keyTtl a settled result answers the key at once, without running; after it, the key runs again', async () => {
  const { pool, log, count } = keyedPool();
  const first = await count(1, 'k', 500);
  expect(first.id).toBe(1);
  time += 499;
  const kept = count(2, 'k');
  // Nothing was admitted: no thread is involved.
  expect(pool.stats()).toMatchObject({ accepted: 1, queued: 0, running: 0, shared: 1 });
  expect(await kept).toBe(first);
  time += 1; // exactly keyTtl after it settled: expired
  expect((await count(3, 'k')).id).toBe(3);
  expect(log.entries()).toEqual([1, 3]);
  expect(pool.stats()).toMatchObject({ accepted: 2, completed: 2, shared: 1 });
});

test('the first run defines keyTtl: a sharer that asks for one does not make the result kept', async () => {
  const pool = makePool<typeof keyed>('keyed.ts');
  const gate = new Gate();
  const first = pool.run('block', { cells: gate.cells, value: 'a' }, { key: 'k' });
  await gate.started();
  const joined = pool.run('block', { cells: gate.cells, value: 'b' }, { key: 'k', keyTtl: 60_000 });
  gate.open();
  expect(await Promise.all([first, joined])).toEqual(['a', 'a']);
  expect(await pool.run('block', { cells: gate.cells, value: 'c' }, { key: 'k' })).toBe('c');
  expect(gate.startedCount).toBe(2);
});

test('failures are not kept: the next run with the key runs again', async () => {
  const pool = makePool<typeof keyed>('keyed.ts');
  const log = new SharedLog();
  await expect(pool.run('countThenFail', { log: log.cells, id: 1 }, { key: 'k', keyTtl: 60_000 })).rejects.toThrow('failed 1');
  await expect(pool.run('countThenFail', { log: log.cells, id: 2 }, { key: 'k', keyTtl: 60_000 })).rejects.toThrow('failed 2');
  expect(log.entries()).toEqual([1, 2]);
  expect(pool.stats()).toMatchObject({ failed: 2, shared: 0 });
});

test('an aborted or timed-out execution is not kept either', async () => {
  const pool = makePool<typeof keyed>('keyed.ts', { abortGrace: 0 });
  const gate = new Gate();
  await expect(pool.run('hang', { cells: gate.cells }, { key: 'k', keyTtl: 60_000, timeout: 20 })).rejects.toMatchObject({
    code: 'TESSERA_TASK_TIMEOUT',
  });
  const controller = new AbortController();
  const aborted = pool.run('hang', { cells: gate.cells }, { key: 'k', keyTtl: 60_000, signal: controller.signal });
  await gate.started(2);
  controller.abort();
  await expect(aborted).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });
  expect(gate.startedCount).toBe(2);
  expect(pool.stats().shared).toBe(0);
});

test('kept results are scoped per task name', async () => {
  const { pool, log, count } = keyedPool();
  await count(1, 'k', 1_000);
  await expect(pool.run('countThenFail', { log: log.cells, id: 2 }, { key: 'k' })).rejects.toThrow('failed 2');
  expect(log.entries()).toEqual([1, 2]);
});

test('at most maxKeys results are kept: the least recently used goes first', async () => {
  const { pool, log, count } = keyedPool({ maxKeys: 2 });
  await count(1, 'a', 1_000);
  await count(2, 'b', 1_000);
  // Reading 'a' makes it the most recently used, so keeping 'c' evicts 'b'.
  expect((await count(3, 'a')).id).toBe(1);
  await count(4, 'c', 1_000);
  expect((await count(5, 'a')).id).toBe(1);
  expect((await count(6, 'c')).id).toBe(4);
  expect((await count(7, 'b')).id).toBe(7);
  expect(log.entries()).toEqual([1, 2, 4, 7]);
  expect(pool.stats().shared).toBe(3);
});

test('maxKeys 0 keeps nothing; keyTtl Infinity keeps until evicted', async () => {
  const none = keyedPool({ maxKeys: 0 });
  await none.count(1, 'k', 60_000);
  expect((await none.count(2, 'k', 60_000)).id).toBe(2);

  const { log, count } = keyedPool({ maxKeys: 1 });
  await count(1, 'k', Infinity);
  time += 1e15;
  expect((await count(2, 'k')).id).toBe(1);
  await count(3, 'other', 10);
  expect((await count(4, 'k')).id).toBe(4);
  expect(log.entries()).toEqual([1, 3, 4]);
});

test('an expired result is never served: each expired key runs again', async () => {
  const { log, count } = keyedPool({ maxKeys: 100 });
  for (let id = 1; id <= 5; id++) await count(id, `k${id}`, 10);
  time += 10;
  await count(6, 'fresh', 10);
  // Each expired key runs again rather than answering with a stale result.
  for (let id = 1; id <= 5; id++) expect((await count(10 + id, `k${id}`)).id).toBe(10 + id);
  expect((await count(99, 'fresh')).id).toBe(6);
  expect(log.entries()).toEqual([1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15]);
});

/** The registry alone: what the pool cannot show (how many results it holds). */
function keep(registry: KeyRegistry, name: string, key: string, keyTtl: number, value: unknown): Promise<unknown> {
  const run = { ...noRunOptions, key, keyTtl };
  const { execution, promise } = registry.start({ name, input: undefined, priority: 0 }, run);
  execution.finish(true, value);
  return promise;
}

test('the registry drops expired results from its old end as it keeps new ones: no timer, bounded', async () => {
  const registry = new KeyRegistry(100, () => {});
  for (let i = 0; i < 50; i++) expect(await keep(registry, 'task', `k${i}`, 10, i)).toBe(i);
  expect(registry.kept).toBe(50);
  time += 10;
  await keep(registry, 'task', 'fresh', 10, 'fresh');
  expect(registry.kept).toBe(1);
  expect(registry.join('task', { ...noRunOptions, key: 'k1' })).toBeUndefined();
  expect(await registry.join('task', { ...noRunOptions, key: 'fresh' })).toBe('fresh');
  for (let i = 0; i < 500; i++) await keep(registry, 'task', `many${i}`, 1_000, i);
  expect(registry.kept).toBe(100);
});

test('task names and keys cannot run into each other', async () => {
  const registry = new KeyRegistry(10, () => {});
  await keep(registry, 'a:b', 'c', 1_000, 'first');
  expect(registry.join('a', { ...noRunOptions, key: 'b:c' })).toBeUndefined();
  expect(registry.join('a:', { ...noRunOptions, key: 'b:c' })).toBeUndefined();
  expect(await registry.join('a:b', { ...noRunOptions, key: 'c' })).toBe('first');
});
