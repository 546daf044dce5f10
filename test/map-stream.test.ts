import { describe, expect, it } from 'vitest';
import { MapItemError, type Pool } from '../src/index.ts';
import { makePool } from './helpers.ts';
import type * as Items from './fixtures/items.ts';

async function* numbers(count: number, onRead?: (i: number) => void): AsyncGenerator<number> {
  for (let i = 0; i < count; i++) {
    onRead?.(i);
    yield i;
  }
}

describe('pool.map over a stream', () => {
  it('yields results in input order from an async iterable', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 2, minThreads: 2 });
    const out: number[] = [];
    for await (const value of pool.map('double', numbers(10_000))) out.push(value);
    expect(out).toEqual(Array.from({ length: 10_000 }, (_, i) => i * 2));
  });

  it('accepts a plain iterable (a Set) and gives an async iterable', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts');
    const out: number[] = [];
    for await (const value of pool.map('double', new Set([5, 6, 7]))) out.push(value);
    expect(out).toEqual([10, 12, 14]);
  });

  it('reads ahead only a bounded number of items', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 1, minThreads: 1 });
    let read = 0;
    let consumed = 0;
    let maxAhead = 0;
    for await (const _ of pool.map('double', numbers(5_000, () => read++), { chunkSize: 50, window: 4 })) {
      consumed++;
      maxAhead = Math.max(maxAhead, read - consumed);
    }
    expect(consumed).toBe(5_000);
    // window × chunkSize items at most, plus the chunk being read.
    expect(maxAhead).toBeLessThanOrEqual(4 * 50 + 50);
  });

  it('stops reading the source when the consumer breaks out', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts');
    let finished = false;
    async function* source(): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        finished = true;
      }
    }
    let seen = 0;
    for await (const _ of pool.map('double', source(), { chunkSize: 10 })) if (++seen === 25) break;
    expect(finished).toBe(true);
  });

  it('throws MapItemError with the index in the whole stream', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 2, minThreads: 2 });
    async function* items(): AsyncGenerator<{ value: number; bad: number }> {
      for (let value = 0; value < 3_000; value++) yield { value, bad: 2_222 };
    }
    const consume = async (): Promise<void> => {
      for await (const _ of pool.map('failOn', items())) {
        // drain
      }
    };
    const error = await consume().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MapItemError);
    expect((error as MapItemError).index).toBe(2_222);
  });
});

describe('pool.map input checks', () => {
  it('rejects something that is not iterable with a TypeError that says what to pass', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts');
    const consume = async (): Promise<void> => {
      for await (const _ of pool.map('double', 42 as unknown as AsyncIterable<number>)) {
        // unreachable
      }
    };
    await expect(consume()).rejects.toThrow(/Expected `items` to be an array, an iterable or an async iterable, got `42` \(number\)/);
  });
});
