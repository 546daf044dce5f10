import { describe, expect, it } from 'vitest';
import { createPool, InvalidOptionTypeError, type Partitioner, type Pool } from '../src/index.ts';
import { fixture, track } from './helpers.ts';
import type * as Ranges from './fixtures/ranges.ts';

function cut(n: number, parts: number): Array<{ from: number; to: number }> {
  const step = Math.ceil(n / parts);
  return Array.from({ length: parts }, (_, i) => ({ from: Math.min(n, i * step), to: Math.min(n, (i + 1) * step) }));
}

function sumPool(parts: number[], extra: Partial<Partitioner> = {}): Pool<typeof Ranges> {
  return track(
    createPool<typeof Ranges>({
      module: fixture('ranges.ts'),
      minThreads: 2,
      maxThreads: 2,
      partitions: {
        sum: {
          task: 'sumRange',
          split: (input, free) => {
            parts.push(free);
            return cut(input.n, free);
          },
          merge: (results: Array<{ sum: number }>) => results.reduce((total, r) => total + r.sum, 0),
          ...extra,
        },
      },
    }),
  );
}

describe('partitioned runs (split/merge)', () => {
  it('splits over the free threads and merges the parts', async () => {
    const parts: number[] = [];
    const pool = sumPool(parts);
    await pool.ready();
    await expect(pool.run('sum', { n: 100_000 })).resolves.toBe((100_000 * 99_999) / 2);
    expect(parts).toEqual([2]);
  });

  it('is admitted as one unit: priority and queue limits see one task', async () => {
    const parts: number[] = [];
    const pool = sumPool(parts);
    await pool.ready();
    const results = await Promise.all([pool.run('sum', { n: 10 }), pool.run('sum', { n: 20 }), pool.run('sum', { n: 30 })]);
    expect(results).toEqual([45, 190, 435]);
    expect(parts).toHaveLength(3);
  });

  it('rejects with the first failing part and keeps the pool usable', async () => {
    const pool = sumPool([], {
      task: 'sumUnless',
      split: (input: { n: number }, free: number) => cut(input.n, free).map((r) => ({ ...r, bad: 7 })),
      merge: (results: number[]) => results.reduce((a, b) => a + b, 0),
    });
    await expect(pool.run('sum', { n: 100 })).rejects.toThrow('range holds 7');
    await expect(pool.run('sumRange', { from: 0, to: 4 })).resolves.toMatchObject({ sum: 6 });
  });

  it('rejects when split or merge throws', async () => {
    const pool = sumPool([], {
      split: () => {
        throw new TypeError('cannot split');
      },
    });
    await expect(pool.run('sum', { n: 10 })).rejects.toThrow('cannot split');
    const merging = sumPool([], {
      merge: () => {
        throw new Error('cannot merge');
      },
    });
    await expect(merging.run('sum', { n: 10 })).rejects.toThrow('cannot merge');
  });

  it('validates the partitions option at construction', () => {
    expect(() =>
      createPool<typeof Ranges>({ module: fixture('ranges.ts'), partitions: { sum: { split: 1 } as unknown as Partitioner } }),
    ).toThrow(InvalidOptionTypeError);
  });

  it('destroy rejects a partitioned run whose parts are pending', async () => {
    const pool = sumPool([]);
    const rejected = expect(pool.run('sum', { n: 50_000_000 })).rejects.toMatchObject({ code: 'TESSERA_POOL_DESTROYED' });
    await pool.destroy();
    await rejected;
  });
});
