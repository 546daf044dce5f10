/**
 * Property tests for issue 7 (fast-check).
 *
 * 1. Random sequences of pool operations (runs that resolve, throw, time out cooperatively or by
 *    spinning; runs held on a gate, with or without a signal; aborts; opening the gate; maps; close;
 *    destroy; waitForCapacity; turns of the event loop) are checked against a small reference model
 *    of what each promise must settle with, and of the final stats.
 * 2. Random pool options, run options and map options, garbage included (NaN, negatives, strings,
 *    objects, getters that throw, Proxies): valid ones work, anything else is refused with a typed
 *    error (TypeError/RangeError with code TESSERA_INVALID_OPTION, or a TesseraError); never a hang,
 *    never a synchronous throw from run/map, never another error.
 *
 * FC_SEED replays a run (fast-check prints the seed of a failure); FC_RUNS scales the model test;
 * FC_SHRINK=1 shrinks a failure (off by default: every shrink step starts real threads).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  createPool,
  PoolClosedError,
  PoolDestroyedError,
  TaskTimeoutError,
  TesseraError,
  type Pool,
  type PoolOptions,
} from '../src/index.ts';
import type * as Chaos from './fixtures/chaos-tasks.ts';
import {
  Gate,
  allSettledWithin,
  codeOf,
  fixture,
  hostFaults,
  makePool,
  nextTurn,
  record,
  show,
  track,
  within,
  type Settlement,
  type Stats,
} from './helpers.ts';

const HANG = 15_000;
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const shrink = process.env.FC_SHRINK === '1';
const params = (numRuns: number): { numRuns: number; seed?: number; endOnFailure: boolean } => ({
  numRuns,
  ...(seed === undefined ? {} : { seed }),
  endOnFailure: !shrink,
});

/** A typed error: a TesseraError, or a TypeError/RangeError with code TESSERA_INVALID_OPTION. */
function isTyped(error: unknown): boolean {
  if (error instanceof TesseraError) return true;
  return (error instanceof TypeError || error instanceof RangeError) && codeOf(error) === 'TESSERA_INVALID_OPTION';
}

function isOptionError(error: unknown): boolean {
  return (error instanceof TypeError || error instanceof RangeError) && codeOf(error) === 'TESSERA_INVALID_OPTION';
}

// -------------------------------------------------------------------------------------------------
// 1. Operation sequences against a reference model.

type Op =
  | { op: 'ok'; v: number }
  | { op: 'throw' }
  | { op: 'nap'; timeout: number }
  | { op: 'spin'; timeout: number }
  | { op: 'gated'; v: number; signal: boolean }
  | { op: 'abort'; target: number }
  | { op: 'open' }
  | { op: 'map'; items: number[]; chunkSize: number | undefined }
  | { op: 'idle' }
  | { op: 'close' }
  | { op: 'destroy' }
  | { op: 'capacity' }
  | { op: 'turn' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ op: fc.constant('ok' as const), v: fc.integer({ min: -1_000, max: 1_000 }) }) },
  { weight: 3, arbitrary: fc.constant({ op: 'throw' as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('nap' as const), timeout: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('spin' as const), timeout: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('gated' as const), v: fc.integer({ min: 0, max: 100 }), signal: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('abort' as const), target: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'open' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('map' as const),
      items: fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 300 }),
      chunkSize: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'idle' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'close' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'destroy' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'capacity' as const }) },
  { weight: 3, arbitrary: fc.constant({ op: 'turn' as const }) },
);

const poolArb = fc.record({
  maxThreads: fc.constantFrom(1, 2),
  abortGrace: fc.constantFrom(0, 5),
  maxBatch: fc.constantFrom(1, 8, 64),
});

/** An outcome the model allows. */
type Outcome = { ok: unknown } | { error: string };

function describeOutcome(o: Outcome): string {
  return 'ok' in o ? `resolves ${JSON.stringify(o.ok)}` : `rejects ${o.error}`;
}

/** The error kind the model names a rejection by. */
function errorKind(reason: unknown): string {
  if (reason instanceof PoolClosedError) return 'closed';
  if (reason instanceof PoolDestroyedError) return 'destroyed';
  if (reason instanceof AbortError) return 'aborted';
  if (reason instanceof TaskTimeoutError) return 'timeout';
  if (codeOf(reason) === 'E_PLAIN') return 'thrown';
  return `unexpected ${show(reason)}`;
}

interface Tracked {
  readonly label: string;
  readonly s: Settlement;
  /** Outcomes the model allows; the first is the one expected when nothing interferes. */
  allowed: Outcome[];
  /** A run (counted in stats when accepted), not a map or waitForCapacity. */
  readonly run: boolean;
  /** Submitted after close() or destroy(): refused at once, never accepted. */
  readonly refused: boolean;
  /** For gated runs with a signal. */
  readonly controller?: AbortController;
  readonly gated?: boolean;
}

async function runSequence(config: { maxThreads: number; abortGrace: number; maxBatch: number }, ops: readonly Op[]): Promise<void> {
  const pool: Pool<typeof Chaos> = makePool('chaos-tasks.ts', { ...config, minThreads: 1, maxQueue: Infinity });
  const gate = new Gate();
  let gateOpen = false;
  let state: 'open' | 'closed' | 'destroyed' = 'open';
  const tracked: Tracked[] = [];
  const signalled: Tracked[] = [];
  let closing: Promise<void> | undefined;
  let unsettledAtClose = -1;
  const ended: Promise<void>[] = [];

  const refusal = (): Outcome[] => [{ error: state === 'closed' ? 'closed' : 'destroyed' }];
  const add = (label: string, promise: Promise<unknown>, allowed: Outcome[], run: boolean, extra: Partial<Tracked> = {}): Tracked => {
    const refused = state !== 'open';
    const t: Tracked = { label, s: record(promise), allowed: refused ? refusal() : allowed, run, refused, ...extra };
    tracked.push(t);
    return t;
  };

  for (const [i, op] of ops.entries()) {
    const label = `#${i} ${JSON.stringify(op)}`;
    switch (op.op) {
      case 'ok':
        add(label, pool.run('ok', { value: op.v }), [{ ok: op.v * 2 }], true);
        break;
      case 'throw':
        add(label, pool.run('fail', { kind: 'plain' }), [{ error: 'thrown' }], true);
        break;
      case 'nap':
        add(label, pool.run('nap', {}, { timeout: op.timeout }), [{ error: 'timeout' }], true);
        break;
      case 'spin':
        add(label, pool.run('spin', {}, { timeout: op.timeout }), [{ error: 'timeout' }], true);
        break;
      case 'gated': {
        const controller = op.signal ? new AbortController() : undefined;
        const t = add(label, pool.run('block', { cells: gate.cells, value: op.v }, controller ? { signal: controller.signal } : {}), [{ ok: op.v }], true, {
          ...(controller ? { controller } : {}),
          gated: true,
        });
        if (controller && !t.refused) signalled.push(t);
        break;
      }
      case 'abort': {
        if (signalled.length === 0) break;
        const t = signalled[op.target % signalled.length]!;
        if (t.controller!.signal.aborted) break;
        const settled = t.s.count > 0;
        t.controller!.abort(new Error('model abort'));
        if (settled) break;
        // Held on a shut gate it cannot have finished: the abort must win (unless destroy already did).
        if (!gateOpen && state !== 'destroyed') t.allowed = [{ error: 'aborted' }];
        else t.allowed = [...t.allowed, { error: 'aborted' }];
        break;
      }
      case 'open':
        gate.open();
        gateOpen = true;
        break;
      case 'map':
        add(label, pool.map('double', op.items, op.chunkSize === undefined ? {} : { chunkSize: op.chunkSize }), [{ ok: op.items.map((x) => x * 2) }], false);
        break;
      case 'idle': {
        // onIdle() can only resolve when no run is held on the shut gate.
        const held = tracked.some((t) => t.gated && !t.refused && !gateOpen && !(t.controller?.signal.aborted ?? false) && state !== 'destroyed');
        if (held) break;
        const before = tracked.filter((t) => !t.refused);
        await within(pool.onIdle(), HANG, `${label}: onIdle()`);
        const left = before.filter((t) => t.s.count === 0).map((t) => t.label);
        expect(left, `${label}: unsettled when onIdle() resolved`).toEqual([]);
        break;
      }
      case 'close':
        if (state === 'open') {
          state = 'closed';
          closing = pool.close();
          void closing.then(() => {
            unsettledAtClose = tracked.filter((t) => t.s.count === 0).length;
          });
        }
        ended.push(pool.close());
        break;
      case 'destroy':
        if (state !== 'destroyed') {
          for (const t of tracked) {
            if (t.s.count > 0 || t.refused) continue;
            // A gated run on a shut gate, not aborted: destroy is the only way out.
            if (t.gated && !gateOpen && !(t.controller?.signal.aborted ?? false)) t.allowed = [{ error: 'destroyed' }];
            else t.allowed = [...t.allowed, { error: 'destroyed' }];
          }
          state = 'destroyed';
        }
        ended.push(pool.destroy());
        break;
      case 'capacity':
        // Resolves whatever the state: a closed or destroyed pool has nothing to wait for.
        tracked.push({ label, s: record(pool.waitForCapacity()), allowed: [{ ok: undefined }], run: false, refused: false });
        break;
      case 'turn':
        await nextTurn();
        break;
    }
  }

  // Let everything finish, then end the pool if the sequence did not.
  gate.open();
  gateOpen = true;
  await allSettledWithin(
    tracked.map((t) => t.s.promise),
    HANG,
    'the operations',
  );
  await within(Promise.all(ended), HANG, 'close()/destroy() of the sequence');
  if (state === 'open') {
    state = 'closed';
    closing = pool.close();
    void closing.then(() => {
      unsettledAtClose = tracked.filter((t) => t.s.count === 0).length;
    });
  }
  if (closing) {
    await within(closing, HANG, 'close()');
    expect(unsettledAtClose, 'operations unsettled when close() resolved').toBe(0);
  }

  // Every promise settled once, as the model allows.
  for (const t of tracked) {
    expect(t.s.count, `${t.label} settled`).toBe(1);
    const actual = t.s.status === 'fulfilled' ? `resolves ${JSON.stringify(t.s.value)}` : `rejects ${errorKind(t.s.reason)}`;
    expect(t.allowed.map(describeOutcome), `${t.label}`).toContain(actual);
  }

  const stats = pool.stats() as Stats;
  expect(stats).toMatchObject({ queued: 0, running: 0, threads: 0 });
  const runs = tracked.filter((t) => t.run && !t.refused);
  const resolvedRuns = runs.filter((t) => t.s.status === 'fulfilled').length;
  const rejectedRuns = runs.length - resolvedRuns;
  const hasMaps = ops.some((op) => op.op === 'map');
  if (!hasMaps) {
    expect(stats.completed, 'completed').toBe(resolvedRuns);
    expect(stats.failed, 'failed').toBe(rejectedRuns);
  } else {
    expect(stats.completed).toBeGreaterThanOrEqual(resolvedRuns);
    expect(stats.failed).toBeGreaterThanOrEqual(rejectedRuns);
  }
  expect(typeof stats.accepted, 'stats().accepted').toBe('number');
  expect(stats.completed + stats.failed, 'completed + failed === accepted').toBe(stats.accepted);
  if (!hasMaps) expect(stats.accepted).toBe(runs.length);
  expect(hostFaults()).toEqual([]);
}

describe('operation sequences against a reference model', () => {
  it('every promise settles once as the model says; close() resolves only after; stats reconcile', async () => {
    const runs = Number(process.env.FC_RUNS ?? 16);
    await fc.assert(
      fc.asyncProperty(poolArb, fc.array(opArb, { minLength: 1, maxLength: 40 }), async (config, ops) => {
        await runSequence(config, ops);
      }),
      params(runs),
    );
  }, 120_000);
});

// -------------------------------------------------------------------------------------------------
// 2. Garbage options.

/** An object whose every conversion throws. */
function hostileObject(): object {
  return {
    valueOf() {
      throw new Error('valueOf!');
    },
    toString() {
      throw new Error('toString!');
    },
    [Symbol.toPrimitive]() {
      throw new Error('toPrimitive!');
    },
  };
}

function hostileProxy(): object {
  const trap = (): never => {
    throw new Error('trap!');
  };
  return new Proxy({}, { get: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, getPrototypeOf: trap });
}

/**
 * Garbage values by name. Arbitraries carry the names and the property builds the values, so that
 * fast-check can print a counterexample (it cannot print a Proxy whose traps throw).
 */
const GARBAGE: Record<string, () => unknown> = {
  NaN: () => Number.NaN,
  '-1': () => -1,
  '-2': () => -2,
  '0': () => 0,
  '1.5': () => 1.5,
  '20': () => 20,
  '1e7': () => 1e7,
  '2**31': () => 2 ** 31,
  Infinity: () => Infinity,
  '-Infinity': () => -Infinity,
  "'2'": () => '2',
  "'x'": () => 'x',
  '{}': () => ({}),
  '[]': () => [],
  null: () => null,
  true: () => true,
  '2n': () => 2n,
  symbol: () => Symbol('n'),
  hostileObject: () => hostileObject(),
  hostileProxy: () => hostileProxy(),
  'a throwing getter inside': () =>
    Object.defineProperty({}, 'maxOldGenerationSizeMb', {
      enumerable: true,
      get: () => {
        throw new Error('inner getter!');
      },
    }),
  '{ psum: 1 }': () => ({ psum: 1 }),
  '{ psum: { split: 1, merge } }': () => ({ psum: { split: 1, merge() {} } }),
  'a signal look-alike': () => ({ aborted: false, addEventListener() {} }),
};

/** A field's value: valid, garbage (by name), absent, or a getter that throws. */
type Field = { kind: 'valid'; value: unknown } | { kind: 'garbage'; name: string } | { kind: 'absent' } | { kind: 'getter' };

function field(valid: readonly unknown[], garbage: readonly string[]): fc.Arbitrary<Field> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant<Field>({ kind: 'absent' }) },
    { weight: 3, arbitrary: fc.constantFrom(...valid).map<Field>((value) => ({ kind: 'valid', value })) },
    { weight: 2, arbitrary: fc.constantFrom(...garbage).map<Field>((name) => ({ kind: 'garbage', name })) },
    { weight: 1, arbitrary: fc.constant<Field>({ kind: 'getter' }) },
  );
}

/** Garbage for a numeric option; Infinity is left out where it is valid. */
function numericGarbage(infinityIsValid: boolean): string[] {
  const names = ['NaN', '-1', '1.5', "'2'", '{}', '[]', 'null', 'true', '2n', 'symbol', 'hostileObject', '-Infinity'];
  return infinityIsValid ? names : [...names, 'Infinity'];
}

/** Builds an options object from fields; getters that throw where asked. */
function build(fields: Record<string, Field>, base: Record<string, unknown> = {}): { options: Record<string, unknown>; valid: boolean } {
  const options: Record<string, unknown> = { ...base };
  let valid = true;
  for (const [name, f] of Object.entries(fields)) {
    if (f.kind === 'absent') continue;
    if (f.kind === 'getter') {
      valid = false;
      Object.defineProperty(options, name, {
        enumerable: true,
        get() {
          throw new Error(`${name} getter!`);
        },
      });
      continue;
    }
    if (f.kind === 'garbage') {
      valid = false;
      options[name] = GARBAGE[f.name]!();
    } else {
      options[name] = f.value;
    }
  }
  return { options, valid };
}

const poolOptionFields = fc.record({
  minThreads: field([0, 1], numericGarbage(false)),
  maxThreads: field([1, 2], numericGarbage(false)),
  maxQueue: field([0, 10, Infinity], numericGarbage(true)),
  idleTimeout: field([0, 1_000, Infinity], numericGarbage(true)),
  concurrentTasksPerWorker: field([1, 2], numericGarbage(false)),
  priorityAging: field([1, 1_000, Infinity], numericGarbage(true)),
  abortGrace: field([0, 50], numericGarbage(false)),
  maxBatch: field([1, 64], numericGarbage(false)),
  niceIncrement: field([0], [...numericGarbage(false), '20']),
  resourceLimits: field([{ maxOldGenerationSizeMb: 256 }], ['-1', "'x'", 'hostileProxy', 'a throwing getter inside']),
  partitions: field([{}], ['-1', "'x'", '{ psum: 1 }', '{ psum: { split: 1, merge } }', 'hostileProxy']),
});

const liveSignal = new AbortController().signal;

const runOptionFields = fc.record({
  priority: field([0, 5, -3, 1_000_000], ['NaN', 'Infinity', '1e7', "'2'", '{}', 'null', 'hostileObject']),
  timeout: field([10_000], ['0', '-1', 'NaN', "'x'", '2**31', 'null', 'hostileObject']),
  signal: field([liveSignal], ['{}', "'x'", 'null', 'a signal look-alike', 'hostileProxy']),
  transfer: field([[]], ["'x'", '{}', '-1', 'null', 'hostileProxy']),
});

const mapOptionFields = fc.record({
  chunkSize: field([1, 7, 'auto'], ['0', '-2', '1.5', 'NaN', "'x'", 'null', 'hostileObject']),
  window: field([1, 3], ['0', 'NaN', "'x'", 'null', 'hostileObject']),
  priority: field([0, 2], ['NaN', "'2'", 'null']),
});

describe('garbage options get typed errors only', () => {
  it('createPool with random options: valid ones make a pool, anything else throws a typed option error', () => {
    fc.assert(
      fc.property(poolOptionFields, (fields) => {
        const { options, valid: fieldsValid } = build(fields, { module: fixture('chaos-tasks.ts') });
        const min = fields.minThreads.kind === 'valid' ? (fields.minThreads.value as number) : undefined;
        const max = fields.maxThreads.kind === 'valid' ? (fields.maxThreads.value as number) : 2;
        const valid = fieldsValid && (min === undefined || min <= max);
        let pool: Pool<typeof Chaos> | undefined;
        let error: unknown;
        try {
          pool = createPool<typeof Chaos>(options as unknown as PoolOptions);
        } catch (e) {
          error = e;
        }
        if (pool) {
          track(pool);
          void pool.destroy();
        }
        if (valid) expect(error, `valid options refused: ${show(error)}`).toBeUndefined();
        else expect(isOptionError(error), `expected a typed option error, got ${error === undefined ? 'a pool' : show(error)}`).toBe(true);
      }),
      // Cheap to shrink (a failing case starts no thread), so it always does.
      { ...params(120), endOnFailure: false },
    );
  });

  it('createPool with options that are not an object, or a Proxy whose traps throw: a typed option error', () => {
    for (const options of [null, undefined, 5, 'pool', hostileProxy(), Object.defineProperty({}, 'module', { get: () => { throw new Error('module getter!'); } })]) {
      let error: unknown;
      try {
        track(createPool(options as unknown as PoolOptions));
      } catch (e) {
        error = e;
      }
      expect(isOptionError(error), `${show(options)}: ${show(error)}`).toBe(true);
    }
  });

  it('run and map with random options: never throw; valid ones work, anything else rejects with a typed error', async () => {
    const pool: Pool<typeof Chaos> = makePool('chaos-tasks.ts', { maxThreads: 1, minThreads: 1 });
    await pool.ready();
    await fc.assert(
      fc.asyncProperty(runOptionFields, mapOptionFields, fc.boolean(), async (runFields, mapFields, wholeGarbage) => {
        const { options: runOptions, valid: runValid } = build(runFields);
        const { options: mapOptions, valid: mapValid } = build({ ...mapFields, signal: runFields.signal, timeout: runFields.timeout });
        const cases: Array<{ what: string; start: () => Promise<unknown>; valid: boolean; expected: unknown }> = [
          { what: 'run', start: () => pool.run('ok', { value: 3 }, runOptions as never), valid: runValid, expected: 6 },
          { what: 'map', start: () => pool.map('double', [1, 2, 3], mapOptions as never), valid: mapValid, expected: [2, 4, 6] },
        ];
        if (wholeGarbage) {
          cases.push({ what: 'run with options 7', start: () => pool.run('ok', { value: 1 }, 7 as never), valid: false, expected: undefined });
          cases.push({ what: 'run with a hostile Proxy as options', start: () => pool.run('ok', { value: 1 }, hostileProxy() as never), valid: false, expected: undefined });
        }
        for (const c of cases) {
          let promise: Promise<unknown> | undefined;
          let thrown: unknown;
          try {
            promise = c.start();
          } catch (e) {
            thrown = e;
          }
          expect(thrown, `${c.what} threw synchronously: ${show(thrown)}`).toBeUndefined();
          const s = record(promise!);
          await within(promise!.catch(() => {}), HANG, c.what);
          if (c.valid) {
            expect(s.status, `${c.what} with valid options: ${show(s.reason)}`).toBe('fulfilled');
            expect(s.value).toEqual(c.expected);
          } else {
            expect(s.status, `${c.what} with invalid options resolved`).toBe('rejected');
            expect(isTyped(s.reason), `${c.what}: ${show(s.reason)}`).toBe(true);
          }
        }
      }),
      params(150),
    );
    expect(await pool.run('ok', { value: 5 })).toBe(10);
  }, 60_000);
});
