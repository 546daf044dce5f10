import { describe, expect, it } from 'vitest';
import { MapItemError, TaskInputError, type Pool } from '../src/index.ts';
import { makePool } from './helpers.ts';
import type * as Items from './fixtures/items.ts';

describe('pool.map over an array', () => {
  it('returns every result in input order', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 2, minThreads: 2 });
    const input = Array.from({ length: 20_000 }, (_, i) => i);
    const out = await pool.map('double', input);
    expect(out).toEqual(input.map((n) => n * 2));
  });

  it('carries many items per message (far fewer tasks than items)', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 2, minThreads: 2 });
    const input = Array.from({ length: 5_000 }, (_, i) => i);
    await pool.map('double', input);
    const { completed } = pool.stats();
    expect(completed).toBeGreaterThan(0);
    expect(completed).toBeLessThan(input.length / 10);
  });

  it('honours a fixed chunk size', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 2, minThreads: 2 });
    const out = await pool.map('double', [1, 2, 3, 4, 5, 6, 7], { chunkSize: 3 });
    expect(out).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(pool.stats().completed).toBe(3);
  });

  it('spreads a short array over the threads', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 2, minThreads: 2 });
    await pool.ready();
    const threads = await pool.map('whichThread', [0, 1, 2, 3]);
    expect(threads).toHaveLength(4);
    expect(pool.stats().completed).toBeGreaterThanOrEqual(2);
  });

  it('maps an empty array to an empty array', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts');
    await expect(pool.map('double', [])).resolves.toEqual([]);
  });

  it('rejects with MapItemError naming the failing index, the task error as cause', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 2, minThreads: 2 });
    const input = Array.from({ length: 1_000 }, (_, value) => ({ value, bad: 637 }));
    const error = await pool.map('failOn', input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MapItemError);
    expect((error as MapItemError).code).toBe('TESSERA_MAP_ITEM');
    expect((error as MapItemError).index).toBe(637);
    expect((error as MapItemError).cause).toBeInstanceOf(RangeError);
    expect(((error as MapItemError).cause as Error).message).toBe('item 637 is bad');
    // The pool stays usable.
    await expect(pool.map('double', [1, 2])).resolves.toEqual([2, 4]);
  });

  it('cancels the chunks that had not started after the first failure', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 1, minThreads: 1 });
    const cells = new Int32Array(new SharedArrayBuffer(4));
    const items = Array.from({ length: 400 }, (_, value) => ({ cells, value, bad: 0 }));
    // Item 0 fails in the first chunk; with a fixed chunk size and a wide window many chunks are queued.
    const failing = pool.map('failOn', items, { chunkSize: 10, window: 40 });
    await expect(failing).rejects.toBeInstanceOf(MapItemError);
    await pool.onIdle();
    // 40 chunks of 10 were submitted at once. The first stopped at its first item; the thread it freed
    // may have taken one more chunk before the failure was seen; the other 38 never ran.
    expect(Atomics.load(cells, 0)).toBeLessThanOrEqual(1 + 10);
  });

  it('rejects uncloneable items with TaskInputError', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts');
    await expect(pool.map('double', [1, (() => 2) as unknown as number])).rejects.toBeInstanceOf(TaskInputError);
  });

  it('rejects bad options without throwing', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts');
    await expect(pool.map('double', [1], { chunkSize: 0 })).rejects.toThrow(/Expected `chunkSize` to be an integer >= 1, got `0` \(number\)/);
  });

  it('aborting its signal cancels every chunk', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 2, minThreads: 2 });
    const controller = new AbortController();
    const input = Array.from({ length: 50_000 }, (_, i) => i);
    const mapped = pool.map('double', input, { signal: controller.signal, chunkSize: 100 });
    controller.abort(new Error('stop'));
    await expect(mapped).rejects.toMatchObject({ code: 'TESSERA_ABORTED' });
    await pool.onIdle();
    await expect(pool.map('double', [3])).resolves.toEqual([6]);
  });
});
