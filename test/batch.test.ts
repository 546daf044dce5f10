import { describe, expect, it } from 'vitest';
import { AbortError, InvalidOptionRangeError, InvalidOptionTypeError, PoolClosedError, PoolDestroyedError, SourceError, TaskTimeoutError, type BatchProgress, type Pool } from '../src/index.ts';
import { Gate, makePool, turns, until, within } from './helpers.ts';
import type * as Tasks from './fixtures/batch-tasks.ts';

type P = Pool<typeof Tasks>;
const pool2 = (): P => makePool('batch-tasks.ts', { maxThreads: 2, minThreads: 2 });

describe('pool.batch', () => {
  it('gives every outcome in input order, each item with its own error, and counts them', async () => {
    const pool = pool2();
    const items = Array.from({ length: 2_000 }, (_, i) => i);
    const batch = await pool.batch('even', items);
    expect(batch.results).toHaveLength(2_000);
    batch.results.forEach((result, i) => {
      if (i % 2 === 0) expect(result).toEqual({ status: 'fulfilled', value: i });
      else {
        expect(result.status).toBe('rejected');
        const reason = (result as PromiseRejectedResult).reason as Error;
        expect(reason).toBeInstanceOf(RangeError);
        expect(reason.message).toBe(`${i} is odd`);
      }
    });
    expect([batch.fulfilled, batch.rejected, batch.aborted, batch.timedOut]).toEqual([1_000, 1_000, 0, 0]);
  });

  it('times out one item without touching the others', async () => {
    const pool = pool2();
    const items = [0, 1, 2, 3, 4].map((value) => ({ value, spin: value === 2 }));
    const batch = await within(pool.batch('spinIf', items, { timeout: 300 }), 20_000, 'the batch');
    expect(batch.results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((batch.results[2] as PromiseRejectedResult).reason).toBeInstanceOf(TaskTimeoutError);
    expect([batch.fulfilled, batch.rejected, batch.timedOut]).toEqual([4, 1, 1]);
    expect(await pool.run('double', 21)).toBe(42);
  });

  it('reads an async iterable no further ahead than its concurrency', async () => {
    const pool = makePool<typeof Tasks>('batch-tasks.ts');
    const gate = new Gate();
    let reads = 0;
    async function* source(): AsyncGenerator<{ cells: Int32Array; value: number }> {
      for (let value = 0; value < 50; value++) {
        reads++;
        yield { cells: gate.cells, value };
      }
    }
    const batch = pool.batch('block', source(), { concurrency: 3 });
    await gate.started(1);
    await until(() => reads === 3, 10_000, 'three items read');
    await turns(10);
    // One runs, two wait in the queue: the window is full, so nothing more is read.
    expect(reads).toBe(3);
    gate.open();
    const result = await batch;
    expect(result.fulfilled).toBe(50);
    expect(result.results.map((r) => (r as PromiseFulfilledResult<number>).value)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('rejects with SourceError when its source throws, once the runs it started have settled', async () => {
    const pool = pool2();
    let finished = 0;
    function* source(): Generator<number> {
      for (let i = 0; i < 10; i++) yield i;
      throw new Error('disk gone');
    }
    const error = await pool.batch('double', source()).then(
      () => undefined,
      (e: unknown) => {
        finished = pool.stats().running;
        return e;
      },
    );
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).code).toBe('TESSERA_SOURCE');
    expect((error as SourceError).index).toBe(10);
    expect(((error as SourceError).cause as Error).message).toBe('disk gone');
    expect(finished).toBe(0);
  });

  it('reads a hostile array item by item: a throwing getter is a SourceError naming its index', async () => {
    const pool = pool2();
    const items = new Proxy([1, 2, 3, 4, 5], {
      get(target, key, receiver) {
        if (key === '3') throw new Error('trap');
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const error = await pool.batch('double', items).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).index).toBe(3);
  });

  it('on abort runs no item that had not started and resolves with every item marked', async () => {
    const pool = makePool<typeof Tasks>('batch-tasks.ts', { abortGrace: 10 });
    const gate = new Gate();
    const controller = new AbortController();
    const items = Array.from({ length: 10 }, (_, value) => ({ cells: gate.cells, value }));
    const batch = pool.batch('block', items, { signal: controller.signal, concurrency: 3 });
    await gate.started(1);
    controller.abort(new Error('user left'));
    const result = await within(batch, 20_000, 'the aborted batch');
    expect(result.results).toHaveLength(10);
    expect([result.fulfilled, result.rejected, result.aborted]).toEqual([0, 10, 10]);
    for (const r of result.results) expect(((r as PromiseRejectedResult).reason as AbortError).reason).toEqual(new Error('user left'));
    expect(gate.startedCount).toBe(1);
    expect(await pool.run('double', 2)).toBe(4);
  });

  it('reports coalesced progress ending with the final counts, and survives an onProgress that throws', async () => {
    const pool = pool2();
    const seen: BatchProgress[] = [];
    const progress = await pool.batch('even', Array.from({ length: 3_000 }, (_, i) => i), { onProgress: (p) => void seen.push(p), concurrency: 64 });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThan(3_000);
    expect(seen.at(-1)).toEqual({ done: 3_000, total: 3_000, fulfilled: 1_500, rejected: 1_500 });
    expect(progress.fulfilled).toBe(1_500);
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const result = await pool.batch('double', [1, 2, 3], {
        onProgress: () => {
          throw new Error('progress bar broke');
        },
      });
      expect(result.fulfilled).toBe(3);
      await turns(2);
    } finally {
      process.off('warning', onWarning);
    }
    const ours = warnings.filter((w) => w.name === 'TesseraWarning' && w.message.includes('batch'));
    expect(ours).toHaveLength(1);
    expect(ours[0]!.message).toContain('progress bar broke');
  });

  it('refuses bad arguments with a typed error before running anything', async () => {
    const pool = pool2();
    await expect(pool.batch('double', [1], { concurrency: 0 })).rejects.toThrow(InvalidOptionRangeError);
    await expect(pool.batch('double', [1], { concurrency: 0 })).rejects.toThrow('Expected `concurrency` to be an integer >= 1, got `0` (number)');
    await expect(pool.batch('double', [1], { key: 'k' } as never)).rejects.toThrow(InvalidOptionTypeError);
    await expect(pool.batch('double', 42 as never)).rejects.toThrow(/Expected `items` to be an array, an iterable or an async iterable/);
    expect(pool.stats().accepted).toBe(0);
  });

  it('finishes a batch of an array when the pool closes; a batch of a stream stops with PoolClosedError', async () => {
    const pool = makePool<typeof Tasks>('batch-tasks.ts');
    const gate = new Gate();
    const array = pool.batch('block', Array.from({ length: 6 }, (_, value) => ({ cells: gate.cells, value })), { concurrency: 2 });
    let reads = 0;
    async function* stream(): AsyncGenerator<number> {
      for (let i = 0; ; i++) {
        reads++;
        yield i;
      }
    }
    const streamed = pool.batch('double', stream());
    await gate.started(1);
    const closed = pool.close();
    // Its runs that had not started are dropped: it does not wait for the gate.
    await expect(streamed).rejects.toThrow(PoolClosedError);
    const readsAtStop = reads;
    expect(readsAtStop).toBeLessThanOrEqual(2 * 1 + 1);
    gate.open();
    const result = await array;
    expect(result.fulfilled).toBe(6);
    await closed;
    expect(reads).toBe(readsAtStop);
  });

  it('rejects with PoolDestroyedError when the pool is destroyed', async () => {
    const pool = makePool<typeof Tasks>('batch-tasks.ts');
    const gate = new Gate();
    const batch = pool.batch('block', Array.from({ length: 4 }, (_, value) => ({ cells: gate.cells, value })));
    await gate.started(1);
    void pool.destroy();
    await expect(batch).rejects.toThrow(PoolDestroyedError);
  });
});
