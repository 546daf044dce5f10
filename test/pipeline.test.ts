import { describe, expect, expectTypeOf, it } from 'vitest';
import { AbortError, InvalidOptionRangeError, InvalidOptionTypeError, PipelineStageError, PoolClosedError, SourceError, type Pool } from '../src/index.ts';
import { Gate, makePool, turns, until, within } from './helpers.ts';
import type * as Tasks from './fixtures/pipeline-tasks.ts';

type P = Pool<typeof Tasks>;
const pool2 = (options = {}): P => makePool('pipeline-tasks.ts', { maxThreads: 2, minThreads: 2, ...options });

function* counting(count: number, reads: { n: number; finished: boolean }): Generator<number> {
  try {
    for (let i = 0; i < count; i++) {
      reads.n++;
      yield i;
    }
  } finally {
    reads.finished = true;
  }
}

async function drain<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

describe('pool.pipeline', () => {
  it('passes items through its stages and yields the last results in input order', async () => {
    const pool = pool2();
    async function* source(): AsyncGenerator<number> {
      for (let i = 0; i < 3_000; i++) yield i;
    }
    const results = pool.pipeline(source(), [{ task: 'inc', concurrency: 3 }, { task: 'double', concurrency: 1, buffer: 0 }, { task: 'spell' }]);
    expectTypeOf(results).toEqualTypeOf<AsyncIterable<string>>();
    expect(await drain(results)).toEqual(Array.from({ length: 3_000 }, (_, i) => `#${(i + 1) * 2}`));
  });

  it("makes each stage's input with its `input` function", async () => {
    const pool = pool2();
    const out = await drain(pool.pipeline([5, 6, 7], [{ task: 'inc' }, { task: 'failOn', input: (value: number, index) => ({ value: value * 10 + index, bad: -1 }) }]));
    expect(out).toEqual([60, 71, 82]);
  });

  it('with `ordered: false` yields results as they finish, before an older item that is still running', async () => {
    const pool = pool2();
    const gate = new Gate();
    const open = new Gate();
    open.open();
    // A timeout makes each run travel alone: untimed runs queued together may share one message to a
    // thread, and one would then wait behind the blocked item 0 whatever the pipeline does.
    const stages = [{ task: 'block', timeout: 60_000, input: (value: number) => ({ cells: value === 0 ? gate.cells : open.cells, value }) }] as const;
    const seen: number[] = [];
    for await (const value of pool.pipeline([0, 1, 2, 3, 4, 5], stages, { ordered: false })) {
      seen.push(value as number);
      if (seen.length === 5) gate.open();
    }
    expect(seen.slice(0, 5).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(seen[5]).toBe(0);
  });

  it('throws PipelineStageError with the item and stage, stops reading its source, and leaves the pool idle', async () => {
    const pool = pool2();
    const reads = { n: 0, finished: false };
    const stages = [{ task: 'inc' }, { task: 'failOn', input: (value: number) => ({ value, bad: 40 }), concurrency: 1 }] as const;
    const error = await drain(pool.pipeline(counting(100_000, reads), stages)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PipelineStageError);
    expect(error).toMatchObject({ code: 'TESSERA_PIPELINE_STAGE', index: 39, stage: 1, taskName: 'failOn' });
    expect((error as Error).cause).toBeInstanceOf(RangeError);
    expect(reads.finished).toBe(true);
    expect(reads.n).toBeLessThan(100);
    expect(pool.stats()).toMatchObject({ running: 0, queued: 0 });
    await within(pool.onIdle(), 10_000, 'onIdle after the failure');
    expect(await pool.run('inc', 1)).toBe(2);
  });

  it("throws PipelineStageError when a stage's `input` function throws", async () => {
    const pool = pool2();
    const stages = [
      {
        task: 'inc',
        input: (value: number) => {
          if (value === 3) throw new TypeError('no threes');
          return value;
        },
      },
    ] as const;
    const error = await drain(pool.pipeline([1, 2, 3, 4], stages)).catch((e: unknown) => e);
    expect(error).toMatchObject({ index: 2, stage: 0, taskName: 'inc' });
    expect((error as Error).cause).toEqual(new TypeError('no threes'));
  });

  it('throws SourceError when its source throws', async () => {
    const pool = pool2();
    async function* source(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      throw new Error('socket closed');
    }
    const error = await drain(pool.pipeline(source(), [{ task: 'inc' }])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(error).toMatchObject({ index: 2, cause: new Error('socket closed') });
  });

  it('breaking out of the loop stops reading, drops what has not started, and leaves the pool usable and idle', async () => {
    const pool = pool2();
    const reads = { n: 0, finished: false };
    let seen = 0;
    for await (const _ of pool.pipeline(counting(1_000_000, reads), [{ task: 'inc' }, { task: 'double' }])) if (++seen === 25) break;
    expect(reads.finished).toBe(true);
    expect(reads.n).toBeLessThan(100);
    const stats = pool.stats();
    expect([stats.running, stats.queued, stats.completed + stats.failed]).toEqual([0, 0, stats.accepted]);
    await within(pool.onIdle(), 10_000, 'onIdle after break');
    expect(await pool.run('double', 4)).toBe(8);
  });

  it('aborting its signal stops it with AbortError, also while a stage runs', async () => {
    const pool = pool2({ abortGrace: 10 });
    const gate = new Gate();
    const controller = new AbortController();
    const iterator = pool.pipeline([1, 2, 3], [{ task: 'block', input: (value: number) => ({ cells: gate.cells, value }) }], { signal: controller.signal })[Symbol.asyncIterator]();
    const first = iterator.next();
    await gate.started(1);
    controller.abort('enough');
    const error = await within(first, 10_000, 'the aborted pipeline').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).reason).toBe('enough');
    expect(await pool.run('inc', 1)).toBe(2);
  });

  it('stops with PoolClosedError when the pool closes', async () => {
    const pool = pool2();
    const reads = { n: 0, finished: false };
    const iterator = pool.pipeline(counting(1_000_000, reads), [{ task: 'inc' }])[Symbol.asyncIterator]();
    await iterator.next();
    const closed = pool.close();
    await expect(drain({ [Symbol.asyncIterator]: () => iterator })).rejects.toThrow(PoolClosedError);
    await closed;
    expect(reads.finished).toBe(true);
  });

  it('refuses bad stages and options with a typed error from the first step', async () => {
    const pool = pool2();
    await expect(drain(pool.pipeline([1], [] as never))).rejects.toThrow(InvalidOptionTypeError);
    await expect(drain(pool.pipeline([1], [{ task: 'inc', concurrency: 0 }]))).rejects.toThrow(InvalidOptionRangeError);
    await expect(drain(pool.pipeline([1], [{ task: 'inc', buffer: -1 }]))).rejects.toThrow('Expected `stages[0].buffer` to be an integer >= 0, got `-1` (number)');
    await expect(drain(pool.pipeline([1], [{ task: 'inc', signal: new AbortController().signal } as never]))).rejects.toThrow(/stages\[0\]\.signal/);
    await expect(drain(pool.pipeline([1], [{ task: 'inc' }], { ordered: 'yes' } as never))).rejects.toThrow('Expected `ordered` to be a boolean');
    await expect(drain(pool.pipeline(7 as never, [{ task: 'inc' }]))).rejects.toThrow(/Expected `items` to be an array, an iterable or an async iterable/);
    expect(pool.stats().accepted).toBe(0);
  });
});

describe('pool.pipeline back-pressure (counted reads, no timers)', () => {
  it('a slow last stage stops the source being read', async () => {
    const pool = pool2();
    const gate = new Gate();
    const reads = { n: 0, finished: false };
    const stages = [
      { task: 'inc', concurrency: 1, buffer: 1 },
      { task: 'block', timeout: 60_000, concurrency: 1, buffer: 1, input: (value: number) => ({ cells: gate.cells, value }) },
    ] as const;
    const results = drain(pool.pipeline(counting(200, reads), stages));
    await gate.started(1);
    // Stage 1 runs one item; stage 0 holds at most concurrency + buffer = 2 more, done and waiting.
    await until(() => reads.n === 3 && pool.stats().running === 1 && pool.stats().queued === 0, 10_000, 'the pipeline to fill');
    await turns(10);
    expect(reads.n).toBe(3);
    gate.open();
    expect(await results).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('a consumer that stops pulling stops the source being read', async () => {
    const pool = pool2();
    const reads = { n: 0, finished: false };
    const iterator = pool.pipeline(counting(10_000, reads), [{ task: 'inc', concurrency: 2, buffer: 1 }, { task: 'double', concurrency: 2, buffer: 1 }])[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: 2 });
    await until(() => pool.stats().running === 0 && pool.stats().queued === 0 && reads.n >= 7, 10_000, 'the pipeline to fill');
    await turns(10);
    // One yielded, 3 waiting for the consumer after stage 1, 3 done with stage 0 waiting for stage 1;
    // and when items finished out of order, the oldest not yet yielded may have gone one over a
    // stage's bound (input order: README, Pipelines), so at most one more per stage.
    const filled = reads.n;
    expect(filled).toBeGreaterThanOrEqual(7);
    expect(filled).toBeLessThanOrEqual(9);
    // Nothing more is read while the consumer does not pull.
    await turns(10);
    expect(reads.n).toBe(filled);
    await iterator.return!();
    expect(reads.finished).toBe(true);
  });

  it('in input order, a slow oldest item holds the others to the stages\u2019 bounds and then comes out first', async () => {
    const pool = pool2();
    const gate = new Gate();
    const open = new Gate();
    open.open();
    const reads = { n: 0, finished: false };
    const stages = [
      { task: 'block', timeout: 60_000, concurrency: 2, buffer: 1, input: (value: number) => ({ cells: value === 0 ? gate.cells : open.cells, value }) },
      { task: 'inc', concurrency: 1, buffer: 2 },
    ] as const;
    const results = drain(pool.pipeline(counting(100, reads), stages));
    await gate.started(1);
    await until(() => reads.n === 6 && pool.stats().running === 1 && pool.stats().queued === 0, 10_000, 'the pipeline to fill');
    await turns(10);
    // Stage 0 holds 3 (item 0 running), stage 1 holds 3 done and waiting for item 0.
    expect(reads.n).toBe(6);
    gate.open();
    expect(await results).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });
});
