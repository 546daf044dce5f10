/**
 * Seeded chaos for issue 7, "Every accepted run settles exactly once".
 *
 * Each round builds a pool with random settings and throws a few hundred operations at it: normal
 * runs, throws (plain and hostile values), hostile results, cooperative and spinning tasks that time
 * out, process.exit, out-of-memory (sparingly: each costs a thread start), hostile inputs, aborts at
 * random moments (queued and running, with plain and hostile reasons), maps over arrays and
 * streams, partitioned runs; and close() or destroy() at a random moment. Then it checks that every
 * promise settled exactly once and the way its operation must, that no task ran twice, that the
 * stats reconcile, that the host saw no unhandled rejection or uncaught exception, that the pool
 * still works and its threads go back to minThreads.
 *
 * The seed is printed; replay a run with CHAOS_SEED=<seed>, scale it with CHAOS_RUNS=<rounds>.
 * Interleavings still vary between runs (threads are real), the plan does not.
 */
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  createPool,
  MapItemError,
  PoolClosedError,
  PoolDestroyedError,
  TaskInputError,
  TaskResultError,
  TaskTimeoutError,
  TesseraError,
  WorkerCrashError,
  type Partitioner,
  type Pool,
  type RunOptions,
} from '../src/index.ts';
import type * as Chaos from './fixtures/chaos-tasks.ts';
import type { ResultKind, ThrowKind } from './fixtures/chaos-tasks.ts';
import {
  Rng,
  SharedLog,
  allSettledWithin,
  codeOf,
  fixture,
  hostFaults,
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

const SEED = seedFrom('CHAOS_SEED');
const ROUNDS = Math.max(1, Number(process.env.CHAOS_RUNS ?? 10) | 0);
const OPS = 300;
/** Bound on anything that must settle: a hang guard, never a timing assertion. */
const HANG = 30_000;

console.log(`[chaos] seed ${SEED}, ${ROUNDS} rounds of ${OPS} operations (replay: CHAOS_SEED=${SEED} CHAOS_RUNS=${ROUNDS})`);

// -------------------------------------------------------------------------------------------------
// Hostile values built on the main thread.

function hostileProxy(): any {
  const trap = (): never => {
    throw new Error('trap!');
  };
  return new Proxy(
    {},
    { get: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, getPrototypeOf: trap, set: trap, defineProperty: trap },
  );
}

function nullProtoWithFunction(): unknown {
  const value = Object.create(null) as Record<string, unknown>;
  value.callback = () => 1;
  return value;
}

function throwingGetter(): object {
  return Object.defineProperty({ value: 1 }, 'bad', {
    enumerable: true,
    get() {
      throw new Error('input getter!');
    },
  });
}

const HOSTILE_THROWS: ThrowKind[] = ['null-proto', 'null-proto-fn', 'getter-prop', 'cause-getter', 'message-getter', 'proxy', 'proxy-error'];
const HOSTILE_RESULTS: ResultKind[] = ['getter', 'nested-getter', 'proxy', 'null-proto-fn'];

// -------------------------------------------------------------------------------------------------
// What each operation must settle with.

type Kind =
  | 'ok'
  | 'throw'
  | 'hostileThrow'
  | 'hostileResult'
  | 'nap'
  | 'spin'
  | 'crash'
  | 'oom'
  | 'hostileInput'
  | 'map'
  | 'mapStream'
  | 'mapHostile'
  | 'psum'
  | 'psumPoison';

interface Op {
  readonly index: number;
  readonly kind: Kind;
  readonly label: string;
  readonly s: Settlement;
  /** The pool was already closed or destroyed when the operation was submitted. */
  readonly refused: 'closed' | 'destroyed' | undefined;
  /** The base expectation; returns what is wrong, or undefined. */
  readonly check: (s: Settlement) => string | undefined;
  /** Whether the run may be refused with QueueFullError (a finite maxQueue). */
  readonly mayBeFull: boolean;
  /** Ids this operation's task logs when it runs (a run logs its own; parts are checked apart). */
  readonly ids: readonly number[];
  /** Aborted right after submission (must reject with AbortError), later (may), or never. */
  abort: 'sync' | 'later' | undefined;
  abortReason: unknown;
  /** Still unsettled when destroy() was called: PoolDestroyedError is then allowed. */
  pendingAtDestroy: boolean;
  /** A stream map still unsettled when close() was called: close() stops it (PoolClosedError). */
  pendingMapAtClose: boolean;
}

function isAbortWith(reason: unknown, expected: unknown): boolean {
  return reason instanceof AbortError && reason.reason === expected;
}

/** A rejection that must not be a crash (nor another tessera error, TaskResultError aside). */
function notACrash(s: Settlement): string | undefined {
  if (s.status !== 'rejected') return `expected a rejection, got the result ${show(s.value)}`;
  if (s.reason instanceof WorkerCrashError) return `a WorkerCrashError for a task that did not crash its thread`;
  if (s.reason instanceof TesseraError && s.reason.code !== 'TESSERA_TASK_RESULT') return `unexpected ${show(s.reason)}`;
  return undefined;
}

const fulfilledWith =
  (expected: unknown) =>
  (s: Settlement): string | undefined => {
    if (s.status !== 'fulfilled') return `expected a result, got ${show(s.reason)}`;
    try {
      expect(s.value).toEqual(expected);
    } catch {
      return `expected ${show(expected)}, got ${show(s.value)}`;
    }
    return undefined;
  };

const rejectedAs =
  (what: string, test: (reason: unknown) => boolean) =>
  (s: Settlement): string | undefined =>
    s.status === 'rejected' && test(s.reason) ? undefined : `expected ${what}, got ${s.status} ${show(s.status === 'rejected' ? s.reason : s.value)}`;

/** What is wrong with how `op` settled, or undefined. */
function verdict(op: Op): string | undefined {
  const s = op.s;
  if (s.count !== 1) return `settled ${s.count} times`;
  if (op.refused === 'closed') return rejectedAs('PoolClosedError', (r) => r instanceof PoolClosedError)(s);
  if (op.refused === 'destroyed') return rejectedAs('PoolDestroyedError', (r) => r instanceof PoolDestroyedError)(s);
  if (op.mayBeFull && codeOf(s.reason) === 'TESSERA_QUEUE_FULL') return undefined;
  if (op.abort === 'sync') return rejectedAs('AbortError carrying the reason', (r) => isAbortWith(r, op.abortReason))(s);
  if (op.abort === 'later' && isAbortWith(s.reason, op.abortReason)) return undefined;
  if (op.pendingAtDestroy && s.reason instanceof PoolDestroyedError) return undefined;
  if (op.pendingMapAtClose && s.reason instanceof PoolClosedError) return undefined;
  return op.check(s);
}

// -------------------------------------------------------------------------------------------------

function partitioner(log: SharedLog, nextId: { value: number }): Partitioner<{ n: number; poison?: boolean }, number> {
  return {
    task: 'part',
    split: (input, count) =>
      Array.from({ length: count }, (_, i) => {
        const step = Math.ceil(input.n / count);
        const part = { from: Math.min(input.n, i * step), to: Math.min(input.n, (i + 1) * step), log: log.cells, id: nextId.value++ };
        return input.poison && i === 0 ? Object.assign(throwingGetter(), part) : part;
      }),
    merge: (results: Array<{ sum: number }>) => results.reduce((total, r) => total + r.sum, 0),
  };
}

async function* stream(items: readonly unknown[], rng: Rng): AsyncGenerator<unknown> {
  for (const item of items) {
    if (rng.chance(0.05)) await nextTurn();
    yield item;
  }
}

async function consume(iterable: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

interface RoundReport {
  problems: string[];
  ops: number;
  ending: string;
}

async function round(roundIndex: number): Promise<RoundReport> {
  const rng = new Rng((SEED ^ Math.imul(roundIndex + 1, 0x9e3779b9)) >>> 0);
  const problems: string[] = [];
  const minThreads = rng.pick([1, 2]);
  const maxThreads = 2;
  const oomRound = rng.chance(0.25);
  const maxQueue = rng.pick([Infinity, Infinity, 64]);
  const log = new SharedLog(OPS * 6);
  const partIds = { value: 1_000_000 };
  const pool: Pool<typeof Chaos> = track(
    createPool<typeof Chaos>({
      module: fixture('chaos-tasks.ts'),
      minThreads,
      maxThreads,
      maxQueue,
      idleTimeout: 100,
      abortGrace: rng.pick([0, 5, 20]),
      maxBatch: rng.pick([1, 8, 64]),
      ...(oomRound ? { resourceLimits: { maxOldGenerationSizeMb: 64 } } : {}),
      partitions: { psum: partitioner(log, partIds) },
    }),
  );
  await pool.ready();
  const t0 = performance.now();

  const ending = rng.weighted({ none: 4, close: 3, destroy: 2 });
  // Anywhere from 30 % of the way in to after the last operation: early enough to catch work in
  // flight, late enough that most operations are accepted.
  const endAt = Math.min(OPS, Math.floor(OPS * (0.3 + 0.75 * rng.next())));
  let state: 'open' | 'closed' | 'destroyed' = 'open';
  let ended: Promise<void> | undefined;
  let unsettledWhenEnded = -1;
  const ops: Op[] = [];
  const budget = { spin: 1, crash: 2, oom: oomRound ? 1 : 0 };
  const laterAborts: Array<{ at: number; controller: AbortController; reason: unknown }> = [];
  let nextId = 0;

  const end = (): void => {
    if (ending === 'none' || state !== 'open') return;
    if (ending === 'destroy') {
      for (const op of ops) if (op.s.count === 0) op.pendingAtDestroy = true;
      state = 'destroyed';
      ended = pool.destroy();
    } else {
      // close() finishes an array map it accepted, but stops a stream map (it cannot read on).
      for (const op of ops) if (op.s.count === 0 && op.kind === 'mapStream') op.pendingMapAtClose = true;
      state = 'closed';
      ended = pool.close();
    }
    // Read when it resolves, with no waiting in between: everything accepted must have settled.
    void ended.then(() => {
      unsettledWhenEnded = ops.filter((op) => op.s.count === 0).length;
    });
  };

  for (let index = 0; index < OPS; index++) {
    if (index === endAt) end();
    for (const later of laterAborts.filter((a) => a.at === index)) later.controller.abort(later.reason);
    if (rng.chance(0.08)) await turns(1 + rng.int(3));
    // A bounded queue: most submissions respect back-pressure, some do not (and may be refused).
    if (maxQueue !== Infinity && state === 'open' && rng.chance(0.8)) await within(pool.waitForCapacity(), HANG, 'waitForCapacity()');

    let kind = rng.weighted<Kind>({
      ok: 62,
      throw: 6,
      hostileThrow: 3,
      hostileResult: 2,
      nap: 3,
      spin: 0.4,
      crash: 0.8,
      oom: oomRound ? 0.5 : 0,
      hostileInput: 1.5,
      map: 4,
      mapStream: 2,
      mapHostile: 1,
      psum: 4,
      psumPoison: 1,
    });
    if ((kind === 'spin' || kind === 'crash' || kind === 'oom') && budget[kind]-- <= 0) kind = 'ok';

    // Abort plan: only some kinds carry a signal.
    const abortable = kind === 'ok' || kind === 'nap' || kind === 'map' || kind === 'mapStream' || kind === 'psum';
    const controller = abortable && rng.chance(0.15) ? new AbortController() : undefined;
    const abortReason = rng.pick<unknown>([new Error('chaos abort'), new Error('chaos abort'), nullProtoWithFunction(), hostileProxy()]);
    const options: RunOptions = {};
    if (controller) options.signal = controller.signal;
    if (rng.chance(0.2)) options.priority = rng.int(5) - 2;

    const id = nextId++;
    let promise: Promise<unknown>;
    let check: Op['check'];
    let ids: number[] = [];
    switch (kind) {
      case 'ok': {
        const value = rng.int(1_000_000);
        if (rng.chance(0.05)) options.timeout = 60_000;
        let input: Record<string, unknown> = { log: log.cells, id, value };
        if (rng.chance(0.03)) {
          const buffer = new ArrayBuffer(16);
          input = { ...input, buffer };
          options.transfer = [buffer];
        }
        promise = pool.run('ok', input as never, options);
        check = fulfilledWith(value * 2);
        ids = [id];
        break;
      }
      case 'throw':
        promise = pool.run(rng.pick(['fail', 'failLater'] as const), { log: log.cells, id, kind: 'plain' });
        check = rejectedAs('the task’s own Error (E_PLAIN)', (r) => r instanceof Error && codeOf(r) === 'E_PLAIN' && r.message === 'plain failure');
        ids = [id];
        break;
      case 'hostileThrow': {
        const thrown = rng.pick(HOSTILE_THROWS);
        promise = pool.run(rng.pick(['fail', 'failLater'] as const), { log: log.cells, id, kind: thrown });
        check = notACrash;
        ids = [id];
        break;
      }
      case 'hostileResult':
        promise = pool.run('returnKind', { log: log.cells, id, kind: rng.pick(HOSTILE_RESULTS) });
        check = rejectedAs('TaskResultError', (r) => r instanceof TaskResultError);
        ids = [id];
        break;
      case 'nap':
        options.timeout = 1 + rng.int(10);
        promise = pool.run('nap', { log: log.cells, id }, options);
        check = rejectedAs('TaskTimeoutError', (r) => r instanceof TaskTimeoutError);
        ids = [id];
        break;
      case 'spin':
        promise = pool.run('spin', { log: log.cells, id }, { timeout: 5 + rng.int(20) });
        check = rejectedAs('TaskTimeoutError', (r) => r instanceof TaskTimeoutError);
        ids = [id];
        break;
      case 'crash': {
        const code = 1 + rng.int(100);
        promise = pool.run('crash', { log: log.cells, id, code });
        check = rejectedAs(`WorkerCrashError (exit ${code})`, (r) => r instanceof WorkerCrashError && r.reason === 'exit' && r.exitCode === code);
        ids = [id];
        break;
      }
      case 'oom':
        promise = pool.run('oom', { log: log.cells, id });
        check = rejectedAs('WorkerCrashError (out-of-memory)', (r) => r instanceof WorkerCrashError && r.reason === 'out-of-memory');
        ids = [id];
        break;
      case 'hostileInput': {
        const bad = rng.pick([throwingGetter(), { nested: [hostileProxy()] }, { f: nullProtoWithFunction() }]);
        promise = pool.run('ok', { log: log.cells, id, value: 1, bad } as never);
        check = rejectedAs('TaskInputError', (r) => r instanceof TaskInputError);
        ids = [id];
        break;
      }
      case 'map':
      case 'mapStream': {
        const items = Array.from({ length: 1 + rng.int(400) }, (_, i) => i);
        const bad = rng.chance(0.2) ? rng.int(items.length) : -1;
        const mapOptions = { ...options, ...(rng.chance(0.5) ? { chunkSize: 1 + rng.int(50) } : {}) };
        if (bad >= 0) {
          const inputs = items.map((value) => ({ value, bad }));
          promise =
            kind === 'map'
              ? pool.map('doubleUnless', inputs, mapOptions)
              : consume(pool.map('doubleUnless', stream(inputs, rng) as AsyncIterable<{ value: number; bad: number }>, mapOptions));
          check = rejectedAs(`MapItemError at ${bad}`, (r) => r instanceof MapItemError && r.index === bad && r.cause instanceof RangeError);
        } else {
          promise =
            kind === 'map'
              ? pool.map('double', items, mapOptions)
              : consume(pool.map('double', stream(items, rng) as AsyncIterable<number>, mapOptions));
          check = fulfilledWith(items.map((i) => i * 2));
        }
        break;
      }
      case 'mapHostile': {
        const items: unknown[] = [1, 2, 3, 4, 5];
        items[rng.int(items.length)] = rng.pick([throwingGetter(), hostileProxy(), nullProtoWithFunction()]);
        promise = pool.map('double', items as number[]);
        check = rejectedAs('TaskInputError or MapItemError', (r) => {
          const code = codeOf(r);
          return code === 'TESSERA_TASK_INPUT' || code === 'TESSERA_MAP_ITEM';
        });
        break;
      }
      case 'psum': {
        const n = 1 + rng.int(50_000);
        promise = pool.run('psum', { n }, options);
        check = fulfilledWith((n * (n - 1)) / 2);
        break;
      }
      case 'psumPoison':
        promise = pool.run('psum', { n: 1 + rng.int(1_000), poison: true } as { n: number });
        check = rejectedAs('TaskInputError', (r) => r instanceof TaskInputError);
        break;
    }
    const op: Op = {
      index,
      kind,
      label: `#${index} ${kind}${options.signal ? ' +signal' : ''}${options.timeout ? ` +timeout ${options.timeout}` : ''}${options.priority ? ` +priority ${options.priority}` : ''}`,
      s: record(promise),
      refused: state === 'open' ? undefined : state,
      check,
      mayBeFull: maxQueue !== Infinity && !kind.startsWith('map'),
      ids,
      abort: undefined,
      abortReason,
      pendingAtDestroy: false,
      pendingMapAtClose: false,
    };
    ops.push(op);
    if (controller) {
      const when = rng.weighted({ sync: 1, ops: 2, turns: 2, never: 2 });
      if (when === 'sync') {
        op.abort = 'sync';
        controller.abort(abortReason);
      } else if (when === 'ops') {
        op.abort = 'later';
        laterAborts.push({ at: index + 1 + rng.int(20), controller, reason: abortReason });
      } else if (when === 'turns') {
        op.abort = 'later';
        void turns(rng.int(6)).then(() => controller.abort(abortReason));
      }
    }
  }
  if (endAt === OPS) {
    await turns(rng.int(4));
    end();
  }
  for (const later of laterAborts) later.controller.abort(later.reason);

  const t1 = performance.now();
  const settledInTime = await allSettledWithin(
    ops.map((op) => op.s.promise),
    HANG,
    'the operations',
  ).then(
    () => true,
    () => false,
  );
  if (!settledInTime) {
    const stuck = ops.filter((op) => op.s.count === 0);
    problems.push(
      `${stuck.length} operations never settled (a hang; the pool is destroyed after the test): ` +
        `${stuck
          .slice(0, 12)
          .map((op) => `${op.label}${op.abort ? ` (abort ${op.abort})` : ''}`)
          .join(', ')}; state ${state}; stats ${JSON.stringify(pool.stats())}`,
    );
    return { problems, ops: ops.length, ending };
  }
  const t2 = performance.now();

  // Each operation settled once, the way it must.
  for (const op of ops) {
    const problem = verdict(op);
    if (problem) problems.push(`${op.label}: ${problem}`);
  }
  // No task ran twice; refused ones never ran; fulfilled runs ran exactly once.
  const counts = log.counts();
  for (const [id, n] of counts) if (n > 1) problems.push(`task id ${id} ran ${n} times`);
  for (const op of ops) {
    for (const id of op.ids) {
      const n = counts.get(id) ?? 0;
      if (op.refused && n !== 0) problems.push(`${op.label}: refused but ran`);
      if (op.kind === 'ok' && op.s.status === 'fulfilled' && n !== 1) problems.push(`${op.label}: resolved but ran ${n} times`);
      if (op.kind === 'hostileInput' && n !== 0) problems.push(`${op.label}: its input could not be sent, yet it ran`);
    }
  }

  // The ending, and what the pool looks like after it.
  if (ending === 'none') {
    const after = await within(pool.run('ok', { value: 21 }), HANG, 'a normal run after the chaos').catch((e: unknown) => e);
    if (after !== 42) problems.push(`a normal run after the chaos gave ${show(after)}`);
    await within(pool.onIdle(), HANG, 'onIdle()');
    await until(() => pool.stats().threads === minThreads, HANG, `threads back to minThreads (${minThreads})`).catch((e: unknown) =>
      problems.push(`${show(e)}; stats ${JSON.stringify(pool.stats())}`),
    );
    state = 'closed';
    ended = pool.close();
    void ended.then(() => {
      unsettledWhenEnded = ops.filter((op) => op.s.count === 0).length;
    });
  }
  const endedInTime = await within(ended!, HANG, 'the end').then(
    () => true,
    () => false,
  );
  if (!endedInTime) {
    problems.push(`the round's ${ending === 'destroy' ? 'destroy()' : 'close()'} never resolved; stats ${JSON.stringify(pool.stats())}`);
    return { problems, ops: ops.length, ending };
  }
  const t3 = performance.now();
  await nextTurn();
  if (unsettledWhenEnded !== 0) problems.push(`${unsettledWhenEnded} operations were unsettled when the pool's ${ending === 'destroy' ? 'destroy()' : 'close()'} resolved`);

  const stats = pool.stats() as Stats;
  if (stats.queued !== 0 || stats.running !== 0) problems.push(`stats after the round: queued ${stats.queued}, running ${stats.running}`);
  if (typeof stats.accepted !== 'number') problems.push('stats() has no `accepted` count');
  else {
    if (stats.completed + stats.failed !== stats.accepted) {
      problems.push(`completed ${stats.completed} + failed ${stats.failed} !== accepted ${stats.accepted}`);
    }
    const runs = ops.filter((op) => !op.kind.startsWith('map') && !op.refused && codeOf(op.s.reason) !== 'TESSERA_QUEUE_FULL');
    if (stats.accepted < runs.length) problems.push(`accepted ${stats.accepted} < the ${runs.length} runs admitted`);
    const resolved = runs.filter((op) => op.s.status === 'fulfilled').length;
    if (stats.completed < resolved) problems.push(`completed ${stats.completed} < the ${resolved} runs that resolved`);
  }
  if (stats.threads !== 0) problems.push(`${stats.threads} threads left after the pool ended`);
  const faults = hostFaults();
  if (faults.length > 0) problems.push(`host faults: ${faults.map((f) => `${f.kind} ${show(f.error)}`).join('; ')}`);
  // What the round exercised, so a reader can see the faults were really injected.
  const tally = new Map<string, number>();
  for (const op of ops) {
    const outcome = op.s.status === 'fulfilled' ? 'ok' : String(codeOf(op.s.reason) ?? (op.s.reason instanceof Error ? op.s.reason.name : 'value'));
    const key = `${op.kind}:${outcome.replace('TESSERA_', '')}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  console.log(
    `[chaos] round ${roundIndex} (${minThreads}-${maxThreads} threads, maxQueue ${maxQueue}, ending ${ending} at ${endAt}; ` +
      `ms: submit ${(t1 - t0).toFixed(0)}, settle ${(t2 - t1).toFixed(0)}, end ${(t3 - t2).toFixed(0)}): ` +
      [...tally].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(', '),
  );
  return { problems, ops: ops.length, ending };
}

describe(`chaos (seed ${SEED})`, () => {
  it.each(Array.from({ length: ROUNDS }, (_, i) => i))(
    'round %i: every promise settles once as its operation must; stats reconcile; the host survives',
    async (index) => {
      const report = await round(index);
      expect(report.problems, `seed ${SEED} round ${index} (ending: ${report.ending}); replay with CHAOS_SEED=${SEED}`).toEqual([]);
    },
    120_000,
  );
});
