/**
 * Issue 7, "Every accepted run settles exactly once": one test per symptom seen on main, each written
 * to the promise rather than to the code that broke it. See also hostile-values.test.ts (values the
 * main thread must survive), chaos.test.ts and property.test.ts.
 */
import { createHook } from 'node:async_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  createPool,
  ModuleLoadError,
  PartitionError,
  PoolClosedError,
  TesseraError,
  type Partitioner,
  type Pool,
} from '../src/index.ts';
import type * as Chaos from './fixtures/chaos-tasks.ts';
import type * as Crash from './fixtures/crash.ts';
import type * as Items from './fixtures/items.ts';
import {
  Gate,
  Rng,
  SharedLog,
  allSettledWithin,
  claimsIdle,
  codeOf,
  fixture,
  hostFaults,
  makePool,
  nextTurn,
  record,
  seedFrom,
  show,
  track,
  turns,
  until,
  within,
  type Settlement,
  type Stats,
} from './helpers.ts';

/** Generous bound on anything that must settle: a guard against hangs, never a timing assertion. */
const HANG = 10_000;

function unsettled(settlements: readonly Settlement[]): number {
  return settlements.filter((s) => s.count !== 1).length;
}

// -------------------------------------------------------------------------------------------------
describe('1. close() and onIdle() resolve only once every accepted run has settled', () => {
  it('onIdle() right after 50 tiny runs on 2 threads: every run has already settled (100 rounds)', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 2, minThreads: 2 });
    await pool.ready();
    const bad: string[] = [];
    for (let round = 0; round < 100; round++) {
      const runs = Array.from({ length: 50 }, (_, i) => record(pool.run('double', i)));
      await pool.onIdle();
      const left = unsettled(runs);
      if (left > 0) bad.push(`round ${round}: ${left} of 50 runs unsettled when onIdle() resolved (stats ${JSON.stringify(pool.stats())})`);
      await allSettledWithin(
        runs.map((r) => r.promise),
        HANG,
        `round ${round}'s runs`,
      );
      expect(runs.map((r) => r.value)).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
    }
    expect(bad).toEqual([]);
  });

  it('close() right after 50 tiny runs on 2 threads: every run has settled, nothing is left running (30 rounds)', async () => {
    const bad: string[] = [];
    for (let round = 0; round < 30; round++) {
      const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 2, minThreads: 2 });
      const runs = Array.from({ length: 50 }, (_, i) => record(pool.run('double', i)));
      await within(pool.close(), HANG, `round ${round}'s close()`);
      const stats = pool.stats();
      const left = unsettled(runs);
      if (left > 0 || stats.running !== 0 || stats.queued !== 0) {
        bad.push(`round ${round}: ${left} of 50 runs unsettled after close() resolved; stats ${JSON.stringify(stats)}`);
        continue;
      }
      expect(runs.map((r) => r.value)).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
      expect(stats).toMatchObject({ threads: 0, completed: 50, failed: 0 });
    }
    expect(bad).toEqual([]);
  });

  it('close() right after pool.map of an array: the map has settled when close() resolves, nothing is left running (10 rounds)', async () => {
    const bad: string[] = [];
    const items = Array.from({ length: 2_000 }, (_, i) => i);
    for (let round = 0; round < 10; round++) {
      const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 2, minThreads: 2 });
      const mapped = record(pool.map('double', items, round % 2 === 0 ? { chunkSize: 10 } : {}));
      await within(pool.close(), HANG, `round ${round}'s close()`);
      const stats = pool.stats();
      if (mapped.count !== 1 || stats.running !== 0 || stats.queued !== 0) {
        bad.push(`round ${round}: the map was ${mapped.status} when close() resolved; stats ${JSON.stringify(stats)}`);
      } else if (mapped.status === 'fulfilled') {
        expect(mapped.value).toEqual(items.map((i) => i * 2));
      }
    }
    expect(bad).toEqual([]);
  });

  it('an array map called before close() was accepted: close() finishes it, and it resolves with every result', async () => {
    // README: close() "finishes everything accepted". The whole array was handed over while the pool
    // was open, so the map is accepted work; PoolClosedError is for calls made after close().
    const items = Array.from({ length: 2_000 }, (_, i) => i);
    for (const options of [{ chunkSize: 10 }, {}]) {
      const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 2, minThreads: 2 });
      const mapped = record(pool.map('double', items, options));
      await within(pool.close(), HANG, 'close()');
      expect(mapped.status, show(mapped.reason)).toBe('fulfilled');
      expect(mapped.value).toEqual(items.map((i) => i * 2));
    }
  });

  it('close() at a random moment under mixed load: every accepted run has settled, as its kind must, when close() resolves', async () => {
    const seed = seedFrom('CHAOS_SEED');
    const rng = new Rng(seed);
    const bad: string[] = [];
    for (let round = 0; round < 8; round++) {
      const log = new SharedLog(4_000);
      const pool = track(
        createPool<typeof Chaos>({
          module: fixture('chaos-tasks.ts'),
          maxThreads: 2,
          minThreads: 2,
          abortGrace: 5,
          maxQueue: Infinity,
          partitions: { psum: sumPartitioner(log) },
        }),
      );
      // An array map accepted before close() is finished by it, like any accepted run (see the test above).
      type Expect = { kind: 'ok'; value: unknown } | { kind: 'code'; code: string } | { kind: 'closed' } | { kind: 'timeout' };
      const submitted: Array<{ s: Settlement; expect: Expect; label: string }> = [];
      let closing: Promise<void> | undefined;
      const total = 60 + rng.int(120);
      const closeAt = rng.int(total);
      let id = 0;
      for (let op = 0; op < total; op++) {
        if (op === closeAt) closing = pool.close();
        if (rng.chance(0.1)) await turns(rng.int(3));
        const closed = closing !== undefined;
        const what = rng.weighted({ ok: 70, fail: 10, map: 6, psum: 6, nap: 4, failLater: 4 });
        let s: Settlement;
        let expectation: Expect;
        switch (what) {
          case 'ok': {
            const value = rng.int(1_000);
            s = record(pool.run('ok', { log: log.cells, id: id++, value }, { priority: rng.int(3) }));
            expectation = { kind: 'ok', value: value * 2 };
            break;
          }
          case 'fail':
          case 'failLater':
            s = record(pool.run(what, { log: log.cells, id: id++, kind: 'plain' }));
            expectation = { kind: 'code', code: 'E_PLAIN' };
            break;
          case 'map': {
            const items = Array.from({ length: 1 + rng.int(300) }, (_, i) => i);
            s = record(pool.map('double', items));
            expectation = { kind: 'ok', value: items.map((i) => i * 2) };
            break;
          }
          case 'psum': {
            const n = 1 + rng.int(10_000);
            s = record(pool.run('psum', { n }));
            expectation = { kind: 'ok', value: (n * (n - 1)) / 2 };
            break;
          }
          case 'nap':
            s = record(pool.run('nap', { log: log.cells, id: id++ }, { timeout: 1 + rng.int(5) }));
            expectation = { kind: 'timeout' };
            break;
        }
        submitted.push({ s, expect: closed ? { kind: 'closed' } : expectation, label: `${what} #${op}` });
      }
      closing ??= pool.close();
      await within(closing, HANG, `round ${round}'s close()`);
      // Read at once: no waiting between close() resolving and the check.
      const left = submitted.filter((x) => x.s.count !== 1);
      const stats = pool.stats();
      if (left.length > 0 || stats.running !== 0 || stats.queued !== 0) {
        bad.push(
          `seed ${seed} round ${round}: ${left.length} unsettled after close() resolved (${left
            .slice(0, 5)
            .map((x) => x.label)
            .join(', ')}); stats ${JSON.stringify(stats)}`,
        );
        continue;
      }
      for (const { s, expect: e, label } of submitted) {
        const where = `seed ${seed} round ${round} ${label}`;
        if (e.kind === 'ok') {
          if (s.status !== 'fulfilled') bad.push(`${where}: expected a result, got ${show(s.reason)}`);
          else expect(s.value, where).toEqual(e.value);
        } else if (e.kind === 'code') {
          if (codeOf(s.reason) !== e.code) bad.push(`${where}: expected a rejection with ${e.code}, got ${s.status} ${show(s.reason)}`);
        } else if (e.kind === 'timeout') {
          if (codeOf(s.reason) !== 'TESSERA_TASK_TIMEOUT') bad.push(`${where}: expected TaskTimeoutError, got ${s.status} ${show(s.reason)}`);
        } else if (!(s.reason instanceof PoolClosedError)) {
          bad.push(`${where}: submitted after close(), expected PoolClosedError, got ${s.status} ${show(s.reason)}`);
        }
      }
    }
    expect(bad, `seed ${seed} (replay with CHAOS_SEED=${seed})`).toEqual([]);
  });

  it('destroy() while close() is stopping the threads: once both resolve, no thread is left (found by the property test)', async () => {
    for (let round = 0; round < 3; round++) {
      const pool = track(createPool<typeof Chaos>({ module: fixture('chaos-tasks.ts'), minThreads: 1, maxThreads: 2, abortGrace: 0, maxBatch: 1 }));
      await pool.ready();
      const runs = [
        record(pool.run('ok', { value: 1 })),
        record(pool.run('fail', { kind: 'plain' })),
        record(pool.run('ok', { value: 2 })),
        record(pool.run('ok', { value: 3 })),
      ];
      const closing = pool.close();
      await within(pool.onIdle(), HANG, 'onIdle()');
      const destroying = pool.destroy();
      await within(Promise.all([closing, destroying]), HANG, 'close() and destroy()');
      expect(runs.map((r) => r.count)).toEqual([1, 1, 1, 1]);
      expect(pool.stats(), `round ${round}`).toMatchObject({ queued: 0, running: 0, threads: 0 });
    }
  });
});

/**
 * A partitioner of `psum` whose merge checks that it was handed the parts split made for this very
 * run: the same part objects (the array itself may be a copy), all of them, in order, each split's
 * parts merged once.
 */
function sumPartitioner(log?: SharedLog, onSplit?: (parts: unknown[]) => void): Partitioner<{ n: number }, number> {
  let nextId = 1_000_000;
  let nextSplit = 0;
  const madeBy = new WeakMap<object, { split: number; index: number; of: number }>();
  const merged = new Set<number>();
  return {
    task: 'part',
    split: (input, count) => {
      const split = nextSplit++;
      const step = Math.ceil(input.n / count);
      const parts = Array.from({ length: count }, (_, i) => ({
        from: Math.min(input.n, i * step),
        to: Math.min(input.n, (i + 1) * step),
        ...(log ? { log: log.cells, id: nextId++ } : {}),
      }));
      parts.forEach((part, index) => madeBy.set(part, { split, index, of: count }));
      onSplit?.(parts);
      return parts;
    },
    merge: (results: Array<{ from: number; to: number; sum: number }>, input, parts: Array<{ from: number; to: number }>) => {
      if (!Array.isArray(parts) || parts.length === 0) throw new Error(`merge was handed ${show(parts)} as its parts`);
      const origin = parts.map((part) => madeBy.get(part));
      const first = origin[0];
      if (first === undefined || origin.some((o, i) => o === undefined || o.split !== first.split || o.index !== i)) {
        throw new Error('merge was not handed the parts one split made, in order');
      }
      if (parts.length !== first.of) throw new Error(`merge was handed ${parts.length} of the ${first.of} parts split made`);
      if (merged.has(first.split)) throw new Error(`the parts of split ${first.split} were merged twice`);
      merged.add(first.split);
      if (results.length !== parts.length) throw new Error(`merge got ${results.length} results for ${parts.length} parts`);
      results.forEach((r, i) => {
        if (r.from !== parts[i]!.from || r.to !== parts[i]!.to) throw new Error(`result ${i} is not part ${i}'s`);
      });
      if (parts[parts.length - 1]!.to !== input.n) throw new Error('merge was handed another run’s parts');
      return results.reduce((total, r) => total + r.sum, 0);
    },
  };
}

// -------------------------------------------------------------------------------------------------
describe('2. partitioned runs: split contract and abort', () => {
  function partsPool(split: Partitioner<{ n: number }, number>['split'], log: SharedLog, options: { abortGrace?: number } = {}) {
    return track(
      createPool<typeof Chaos>({
        module: fixture('chaos-tasks.ts'),
        maxThreads: 2,
        minThreads: 2,
        ...options,
        partitions: {
          psum: {
            task: 'part',
            split,
            merge: (results: Array<{ sum: number }>) => results.reduce((total, r) => total + r.sum, 0),
          },
        },
      }),
    );
  }

  it('split returning more parts than it was asked for rejects with PartitionError (TESSERA_PARTITION); no part runs', async () => {
    const log = new SharedLog();
    const asked: number[] = [];
    const pool = partsPool((input, parts) => {
      asked.push(parts);
      return Array.from({ length: parts + 3 }, (_, i) => ({ from: i, to: i + 1, log: log.cells, id: i }));
    }, log);
    await pool.ready();
    const error = await within(
      pool.run('psum', { n: 10 }).catch((e: unknown) => e),
      HANG,
      'the over-split run',
    );
    expect(error).toBeInstanceOf(PartitionError);
    expect(error).toBeInstanceOf(TesseraError);
    expect(error).toMatchObject({ code: 'TESSERA_PARTITION', name: 'PartitionError', taskName: 'psum' });
    expect(asked).toEqual([2]);
    await pool.onIdle();
    expect(log.entries()).toEqual([]);
    expect(pool.stats()).toMatchObject({ queued: 0, running: 0 });
    expect(await pool.run('ok', { value: 4 })).toBe(8);
  });

  it('split returning something other than an array rejects with PartitionError', async () => {
    const log = new SharedLog();
    const pool = partsPool(() => ({ length: 2, 0: { from: 0, to: 1 }, 1: { from: 1, to: 2 } }) as never, log);
    await expect(within(pool.run('psum', { n: 2 }), HANG, 'the run')).rejects.toMatchObject({ code: 'TESSERA_PARTITION' });
    expect(await pool.run('ok', { value: 1 })).toBe(2);
  });

  it('aborting a run whose split returned more parts than free slots: nothing is left running, no part starts after the abort', async () => {
    const log = new SharedLog();
    const gate = new Gate();
    const pool = partsPool(
      (input, parts) => Array.from({ length: parts * 3 }, (_, i) => ({ from: i, to: i + 1, log: log.cells, id: i, cells: gate.cells })),
      log,
      { abortGrace: 0 },
    );
    await pool.ready();
    const controller = new AbortController();
    const run = record(pool.run('psum', { n: 6 }, { signal: controller.signal }));
    // Either the split was refused at once (PartitionError), or its first parts hold both threads.
    await within(Promise.race([run.promise.catch(() => {}), gate.started(2)]), HANG, 'the run to start or be refused');
    const startedBeforeAbort = log.entries().length;
    controller.abort(new Error('stop'));
    await within(run.promise.catch(() => {}), HANG, 'the aborted run');
    expect(run.status).toBe('rejected');
    expect([AbortError, PartitionError].some((E) => run.reason instanceof E), show(run.reason)).toBe(true);
    gate.open();
    await within(pool.onIdle(), HANG, 'onIdle()');
    await turns(5);
    expect(pool.stats()).toMatchObject({ queued: 0, running: 0 });
    // Parts that had not started when the run was aborted never start.
    expect(log.entries().length).toBe(startedBeforeAbort);
    expect(await within(pool.run('ok', { value: 21 }), HANG, 'a later run')).toBe(42);
  });

  it('aborting a run while its parts run: AbortError, its threads are freed, nothing is left running', async () => {
    const log = new SharedLog();
    const gate = new Gate();
    const pool = partsPool(
      (input, parts) => Array.from({ length: parts }, (_, i) => ({ from: i, to: i + 1, log: log.cells, id: i, cells: gate.cells })),
      log,
      { abortGrace: 0 },
    );
    await pool.ready();
    const controller = new AbortController();
    const reason = new Error('stop');
    const run = pool.run('psum', { n: 2 }, { signal: controller.signal }).catch((e: unknown) => e);
    await within(gate.started(2), HANG, 'both parts to start');
    controller.abort(reason);
    const error = await within(run, HANG, 'the aborted run');
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).reason).toBe(reason);
    await within(pool.onIdle(), HANG, 'onIdle()');
    expect(pool.stats()).toMatchObject({ queued: 0, running: 0 });
    // The parts were blocked on a gate that never opened: only terminating their threads frees them.
    expect(await within(pool.run('ok', { value: 5 }), HANG, 'a later run')).toBe(10);
    expect([...log.counts().values()].every((n) => n === 1)).toBe(true);
  });
});

// -------------------------------------------------------------------------------------------------
describe('3. concurrent partitioned runs', () => {
  it('two concurrent runs with the same input object both succeed; merge gets its own run’s parts', async () => {
    const splits: unknown[][] = [];
    const pool = track(
      createPool<typeof Chaos>({
        module: fixture('chaos-tasks.ts'),
        maxThreads: 2,
        minThreads: 2,
        partitions: { psum: sumPartitioner(undefined, (parts) => splits.push(parts)) },
      }),
    );
    await pool.ready();
    const input = { n: 100_000 };
    const expected = (input.n * (input.n - 1)) / 2;
    const both = await within(Promise.all([pool.run('psum', input), pool.run('psum', input)]), HANG, 'the two runs');
    expect(both).toEqual([expected, expected]);
    expect(splits).toHaveLength(2);
    // And many at once, same input, some queued behind the others.
    const many = await within(Promise.all(Array.from({ length: 20 }, () => pool.run('psum', input))), HANG, 'twenty runs');
    expect(many).toEqual(Array.from({ length: 20 }, () => expected));
  });
});

// -------------------------------------------------------------------------------------------------
describe('4. threads that die do not leak their cancel MessagePort', () => {
  it('after many process.exit crashes, no more MessagePorts are held than threads that ended normally leave', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const ports: WeakRef<object>[] = [];
    const hook = createHook({
      init(_id, type, _trigger, resource) {
        if (type === 'MESSAGEPORT') ports.push(new WeakRef(resource as object));
      },
    }).enable();
    const held = async (): Promise<number> => {
      for (let i = 0; i < 4; i++) {
        gc();
        await nextTurn();
      }
      return ports.filter((p) => p.deref() !== undefined).length;
    };
    const active = (): number => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    try {
      // Control: what a thread that starts and ends normally leaves held (Node's loader hooks keep a
      // port per thread that registered tsx). Pools destroyed and dropped: they hold nothing.
      const controlThreads = 6;
      const start = await held();
      for (let i = 0; i < controlThreads; i++) {
        const pool = createPool<typeof Crash>({ module: fixture('crash.ts'), maxThreads: 1, minThreads: 1 });
        expect(await within(pool.run('echo', i), HANG, 'a control run')).toBe(i);
        await pool.destroy();
      }
      const perThread = ((await held()) - start) / controlThreads;

      const pool: Pool<typeof Crash> = makePool('crash.ts', { maxThreads: 1, minThreads: 1 });
      expect(await pool.run('echo', 0)).toBe(0);
      const activeBefore = active();
      const before = await held();
      const crashes = 16;
      for (let i = 0; i < crashes; i++) {
        await expect(within(pool.run('exit', 1), HANG, 'a crash')).rejects.toMatchObject({ code: 'TESSERA_WORKER_CRASH' });
      }
      expect(await pool.run('echo', 1)).toBe(1);
      const after = await held();
      expect(active(), 'active MessagePort handles back to the baseline').toBeLessThanOrEqual(activeBefore);
      // A leaked cancel port is one more port held per crash than a normal thread's end leaves.
      const perCrash = (after - before) / crashes;
      expect(perCrash, `ports held per crash (a normal thread leaves ${perThread})`).toBeLessThanOrEqual(perThread + 0.5);
    } finally {
      hook.disable();
    }
  });
});

// -------------------------------------------------------------------------------------------------
describe('9. pool.map over an endless async source', () => {
  /** Reads past this many mean the map never stopped: the source then fails the iteration itself. */
  const RUNAWAY = 200_000;

  /**
   * Yields 0, 1, 2, … forever. It lets the event loop turn every 64 reads: a map that keeps reading
   * after it should have stopped would otherwise spin on microtasks and starve every timer, the
   * hang guards included. Past RUNAWAY reads it throws, so such a map fails instead of hanging.
   */
  function endless(reads: { count: number }): AsyncGenerator<number> {
    return (async function* () {
      for (let i = 0; ; i++) {
        if (++reads.count > RUNAWAY) throw new Error(`runaway: the map read ${RUNAWAY} items and kept reading`);
        if (i % 64 === 63) await nextTurn();
        yield i;
      }
    })();
  }

  /** A source whose first next() never resolves, nor does return(). */
  function stuck(reads: { count: number }): AsyncIterable<number> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          reads.count++;
          return new Promise<IteratorResult<number>>(() => {});
        },
        return: () => new Promise<IteratorResult<number>>(() => {}),
      }),
    };
  }

  async function drain(iterable: AsyncIterable<unknown>, onItem: (n: number) => void = () => {}): Promise<unknown> {
    let n = 0;
    try {
      for await (const _ of iterable) onItem(++n);
      return 'completed';
    } catch (error) {
      return error;
    }
  }

  it('an endless generator: aborting the signal rejects the iteration with AbortError and stops the reads', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 2, minThreads: 2 });
    const reads = { count: 0 };
    const controller = new AbortController();
    const reason = new Error('enough');
    const result = await within(
      drain(pool.map('double', endless(reads), { signal: controller.signal, chunkSize: 16 }), (n) => {
        if (n === 100) controller.abort(reason);
      }),
      HANG,
      'the aborted map',
    );
    expect(result).toBeInstanceOf(AbortError);
    expect((result as AbortError).reason).toBe(reason);
    const readsThen = reads.count;
    await turns(20);
    expect(reads.count).toBe(readsThen);
    await within(pool.onIdle(), HANG, 'onIdle()');
  });

  it('an endless generator: close() rejects the iteration with PoolClosedError, stops the reads, and resolves', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts', { maxThreads: 2, minThreads: 2 });
    const reads = { count: 0 };
    let closing: Promise<void> | undefined;
    const result = await within(
      drain(pool.map('double', endless(reads), { chunkSize: 16 }), (n) => {
        if (n === 100) closing = pool.close();
      }),
      HANG,
      'the map after close()',
    );
    expect(result).toBeInstanceOf(PoolClosedError);
    await within(closing!, HANG, 'close()');
    const readsThen = reads.count;
    await turns(20);
    expect(reads.count).toBe(readsThen);
  });

  it('a source whose next() never resolves: aborting the signal rejects the iteration with AbortError', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts');
    const reads = { count: 0 };
    const controller = new AbortController();
    const iteration = drain(pool.map('double', stuck(reads), { signal: controller.signal }));
    await until(() => reads.count > 0, HANG, 'the map to start reading');
    controller.abort(new Error('give up'));
    const result = await within(iteration, HANG, 'the aborted map over a stuck source');
    expect(result).toBeInstanceOf(AbortError);
    expect(reads.count).toBe(1);
  });

  it('a source whose next() never resolves: close() rejects the iteration with PoolClosedError and resolves', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts');
    const reads = { count: 0 };
    const iteration = drain(pool.map('double', stuck(reads)));
    await until(() => reads.count > 0, HANG, 'the map to start reading');
    const closing = pool.close();
    const result = await within(iteration, HANG, 'the map over a stuck source after close()');
    expect(result).toBeInstanceOf(PoolClosedError);
    await within(closing, HANG, 'close()');
    expect(reads.count).toBe(1);
  });
});

// -------------------------------------------------------------------------------------------------
describe('10. a module that calls process.exit at import', () => {
  it('ready() and runs reject with ModuleLoadError; nothing hangs', async () => {
    const pool = track(createPool({ module: fixture('hostile-exit-at-import.ts'), maxThreads: 1, minThreads: 1 }));
    const early = record(pool.run('never'));
    const error = await within(
      pool.ready().then(
        () => 'resolved',
        (e: unknown) => e,
      ),
      HANG,
      'ready()',
    );
    expect(error).toBeInstanceOf(ModuleLoadError);
    expect(error).toMatchObject({ code: 'TESSERA_MODULE_LOAD' });
    expect((error as Error).message).toContain('hostile-exit-at-import.ts');
    await within(early.promise.catch(() => {}), HANG, 'a run submitted before the load failed');
    expect(early.reason).toBeInstanceOf(ModuleLoadError);
    await expect(within(pool.run('never'), HANG, 'a run after the load failed')).rejects.toBeInstanceOf(ModuleLoadError);
    await within(pool.close(), HANG, 'close()');
    expect(hostFaults()).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------------
describe('the afterEach invariant itself', () => {
  it('a pool that is idle agrees with its stats', async () => {
    const pool: Pool<typeof Items> = makePool('items.ts');
    await Promise.all(Array.from({ length: 10 }, (_, i) => pool.run('double', i)));
    expect(await claimsIdle(pool)).toBe(true);
    const stats = pool.stats() as Stats;
    expect(stats).toMatchObject({ queued: 0, running: 0 });
  });
});
