import { expect, test } from 'vitest';
import { PoolClosedError } from '../src/index.ts';
import type * as lifecycle from './fixtures/lifecycle.ts';
import { Gate, makePool } from './helpers.ts';

// vitest's transform supports `await using` (it lowers it for Node 20), so the real syntax is used.

test('`await using` closes the pool at the end of the block, after its tasks finished', async () => {
  const gate = new Gate();
  let escaped!: ReturnType<typeof makePool<typeof lifecycle>>;
  let result: unknown;
  {
    await using pool = makePool<typeof lifecycle>('lifecycle.ts');
    escaped = pool;
    expect(await pool.run('echo', 'inside')).toBe('inside');
    void pool.run('block', { cells: gate.cells, value: 'finished' }).then((v) => (result = v));
    await gate.started();
    // Let the task finish only as the block is left: disposal must wait for it.
    queueMicrotask(() => gate.open());
  }
  expect(result).toBe('finished');
  expect(escaped.stats()).toMatchObject({ threads: 0, completed: 2 });
  await expect(escaped.run('echo', 'outside')).rejects.toBeInstanceOf(PoolClosedError);
});

test('Symbol.asyncDispose is close(): a disposed pool rejects new runs with PoolClosedError', async () => {
  const pool = makePool<typeof lifecycle>('lifecycle.ts');
  expect(await pool.run('echo', 1)).toBe(1);
  await pool[Symbol.asyncDispose]();
  expect(pool.stats().threads).toBe(0);
  await expect(pool.run('echo', 2)).rejects.toMatchObject({ code: 'TESSERA_POOL_CLOSED' });
});

test('`await using` disposes also when the block throws', async () => {
  let escaped!: ReturnType<typeof makePool<typeof lifecycle>>;
  const run = async () => {
    await using pool = makePool<typeof lifecycle>('lifecycle.ts');
    escaped = pool;
    await pool.ready();
    throw new Error('block failed');
  };
  await expect(run()).rejects.toThrow('block failed');
  await expect(escaped.run('echo', 1)).rejects.toBeInstanceOf(PoolClosedError);
});
