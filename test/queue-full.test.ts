import { expect, test } from 'vitest';
import { QueueFullError, TesseraError } from '../src/index.ts';
import type * as order from './fixtures/order.ts';
import { Gate, SharedLog, makePool } from './helpers.ts';

test('with the thread busy and maxQueue tasks waiting, the next run rejects at once with QueueFullError', async () => {
  const pool = makePool<typeof order>('order.ts', { maxQueue: 2 });
  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells });
  await gate.started();
  const log = new SharedLog();
  const first = pool.run('count', { log: log.cells, id: 1 });
  const second = pool.run('count', { log: log.cells, id: 2 });
  expect(pool.stats().queued).toBe(2);
  const third = pool.run('count', { log: log.cells, id: 3 });
  // The thread is still blocked: the rejection cannot have waited for anything to run.
  const error = await third.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(QueueFullError);
  expect(error).toBeInstanceOf(TesseraError);
  expect(error).toMatchObject({ code: 'TESSERA_QUEUE_FULL', name: 'QueueFullError', maxQueue: 2 });
  expect(gate.startedCount).toBe(1);
  // A refused run was never accepted: it is not counted as a failed task.
  expect(pool.stats()).toMatchObject({ queued: 2, running: 1, failed: 0 });

  gate.open();
  await blocked;
  expect((await Promise.all([first, second])).map((r) => r.id)).toEqual([1, 2]);
  // The rejected task never ran.
  expect(log.entries()).toEqual([1, 2]);
  // Room again.
  expect((await pool.run('count', { log: log.cells, id: 4 })).id).toBe(4);
});

test('maxQueue: 0 admits a task only when a thread slot is free', async () => {
  const pool = makePool<typeof order>('order.ts', { maxQueue: 0 });
  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells, value: 'direct' });
  await gate.started();
  const log = new SharedLog();
  await expect(pool.run('count', { log: log.cells, id: 1 })).rejects.toMatchObject({ code: 'TESSERA_QUEUE_FULL', maxQueue: 0 });
  gate.open();
  expect(await blocked).toBe('direct');
  expect((await pool.run('count', { log: log.cells, id: 2 })).id).toBe(2);
});

test('aborted and finished tasks free their queue slots', async () => {
  const pool = makePool<typeof order>('order.ts', { maxQueue: 1 });
  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells });
  await gate.started();
  const log = new SharedLog();
  const controller = new AbortController();
  const aborted = pool.run('count', { log: log.cells, id: 1 }, { signal: controller.signal });
  await expect(pool.run('count', { log: log.cells, id: 2 })).rejects.toBeInstanceOf(QueueFullError);
  controller.abort();
  await expect(aborted).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });
  const admitted = pool.run('count', { log: log.cells, id: 3 });
  gate.open();
  await blocked;
  expect((await admitted).id).toBe(3);
  expect(log.entries()).toEqual([3]);
});

test('maxQueue: Infinity never rejects for a full queue', async () => {
  const pool = makePool<typeof order>('order.ts', { maxQueue: Infinity });
  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells });
  await gate.started();
  const log = new SharedLog(2_000);
  const runs = Array.from({ length: 1_500 }, (_, id) => pool.run('count', { log: log.cells, id }));
  expect(pool.stats().queued).toBe(1_500);
  gate.open();
  await blocked;
  expect((await Promise.all(runs)).length).toBe(1_500);
  expect(pool.stats().failed).toBe(0);
});
