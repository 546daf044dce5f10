import { expect, test } from 'vitest';
import { PoolClosedError, PoolDestroyedError } from '../src/index.ts';
import type * as keyed from './fixtures/keyed.ts';
import { Gate, SharedLog, claimsIdle, idleStatsProblem, makePool, record, turns, type Stats } from './helpers.ts';

test('destroy() rejects every sharer, queued or running, with PoolDestroyedError, once', async () => {
  const pool = makePool<typeof keyed>('keyed.ts');
  const gate = new Gate();
  const log = new SharedLog();
  const controller = new AbortController();
  const settlements = [
    record(pool.run('block', { cells: gate.cells }, { key: 'running' })),
    record(pool.run('block', { cells: gate.cells }, { key: 'running', signal: controller.signal })),
  ];
  await gate.started();
  settlements.push(
    record(pool.run('count', { log: log.cells, id: 1 }, { key: 'queued', signal: controller.signal })),
    record(pool.run('count', { log: log.cells, id: 2 }, { key: 'queued' })),
    record(pool.run('count', { log: log.cells, id: 3 }, { key: 'queued', priority: 4 })),
  );
  await pool.destroy();
  await Promise.allSettled(settlements.map((s) => s.promise));
  for (const s of settlements) {
    expect(s.status).toBe('rejected');
    expect(s.reason).toBeInstanceOf(PoolDestroyedError);
  }
  // Aborting afterwards, and more turns, change nothing.
  controller.abort();
  await turns(3);
  expect(settlements.map((s) => s.count)).toEqual([1, 1, 1, 1, 1]);
  expect(log.entries()).toEqual([]);
  await expect(pool.run('count', { log: log.cells, id: 4 }, { key: 'queued' })).rejects.toBeInstanceOf(PoolDestroyedError);
});

test('close() waits for a shared execution, whose sharers all settle first; a keyed run after close() is refused', async () => {
  const pool = makePool<typeof keyed>('keyed.ts');
  const gate = new Gate();
  const first = record(pool.run('block', { cells: gate.cells, value: 'v' }, { key: 'k' }));
  await gate.started();
  const second = record(pool.run('block', { cells: gate.cells }, { key: 'k' }));
  const closed = record(pool.close());
  // Even a key in flight admits no one once closing.
  await expect(pool.run('block', { cells: gate.cells }, { key: 'k' })).rejects.toBeInstanceOf(PoolClosedError);
  await turns(3);
  expect(closed.status).toBe('pending');
  expect([first.status, second.status]).toEqual(['pending', 'pending']);
  gate.open();
  await closed.promise;
  // Both sharers' own handlers ran before close() resolved.
  expect([first.status, first.value, second.status, second.value]).toEqual(['fulfilled', 'v', 'fulfilled', 'v']);
  expect([first.count, second.count]).toEqual([1, 1]);
  expect(gate.startedCount).toBe(1);
  expect(pool.stats()).toMatchObject({ accepted: 1, completed: 1, shared: 1 });
});

test('a kept result is not served after close(): PoolClosedError like any run', async () => {
  const pool = makePool<typeof keyed>('keyed.ts');
  const log = new SharedLog();
  await pool.run('count', { log: log.cells, id: 1 }, { key: 'k', keyTtl: 60_000 });
  expect((await pool.run('count', { log: log.cells, id: 2 }, { key: 'k' })).id).toBe(1);
  await pool.close();
  await expect(pool.run('count', { log: log.cells, id: 3 }, { key: 'k' })).rejects.toBeInstanceOf(PoolClosedError);
  expect(log.entries()).toEqual([1]);
});

test('onIdle() resolves after every sharer settled, and the stats then reconcile', async () => {
  const pool = makePool<typeof keyed>('keyed.ts', { maxBatch: 1 });
  const gate = new Gate();
  const log = new SharedLog();
  const blocked = pool.run('block', { cells: gate.cells });
  await gate.started();
  const aborted = new AbortController();
  const settlements = [
    record(pool.run('count', { log: log.cells, id: 1 }, { key: 'a' })),
    record(pool.run('count', { log: log.cells, id: 2 }, { key: 'a', signal: aborted.signal })),
    record(pool.run('countThenFail', { log: log.cells, id: 3 }, { key: 'a' })),
    record(pool.run('countThenFail', { log: log.cells, id: 4 }, { key: 'a' })),
    record(pool.run('count', { log: log.cells, id: 5 }, { key: 'b', keyTtl: 1_000 })),
  ];
  aborted.abort();
  const idle = pool.onIdle().then(() => settlements.map((s) => s.status));
  gate.open();
  await blocked;
  expect(await idle).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
  expect(await claimsIdle(pool)).toBe(true);
  const stats = pool.stats() as Stats;
  expect(idleStatsProblem(stats)).toBeUndefined();
  expect(stats).toMatchObject({ accepted: 4, completed: 3, failed: 1, shared: 2 });
  expect(settlements.map((s) => s.count)).toEqual([1, 1, 1, 1, 1]);
  expect(log.entries()).toEqual([1, 3, 5]);
});
