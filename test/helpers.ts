/**
 * Shared test helpers: fixture URLs, pools that are always destroyed after each test, and
 * SharedArrayBuffer gates/logs that let a test wait on what a worker thread did (no sleeps).
 *
 * After every test, for every pool made with `makePool` or registered with `track`:
 * - if the pool claims to be idle (`onIdle()` resolves at once) its stats must agree: nothing
 *   queued, nothing running, and (once the pool reports `accepted`) `completed + failed === accepted`.
 *   A pool that says it is idle while a caller still waits is the bug behind "close() resolved and a
 *   promise never settled"; the test fails.
 * - a pool that is not idle (the test left a task blocked on purpose) only gets a warning, as before.
 * And for the whole process: an unhandled rejection or uncaught exception recorded during the test
 * fails it (the pool must never let a user's value escape as one).
 */
import { afterEach, expect } from 'vitest';
import { createPool, type Pool, type PoolOptions, type PoolStats, type RateLimits } from '../src/index.ts';

/** file: URL of a module in test/fixtures/. */
export function fixture(name: string): URL {
  return new URL(`./fixtures/${name}`, import.meta.url);
}

const pools = new Set<Pool<any>>();
const gates = new Set<Gate>();

/** Registers a pool so that the afterEach below checks and destroys it. */
export function track<P extends Pool<any>>(pool: P): P {
  pools.add(pool);
  return pool;
}

/**
 * A pool over `test/fixtures/<name>`, destroyed after the test. Small by default (one thread, started
 * at once) because the machine is small; `options` override that.
 */
export function makePool<M extends object = any>(
  name: string,
  options: Omit<PoolOptions, 'module' | 'rateLimits'> & { rateLimits?: RateLimits<M> } = {},
): Pool<M> {
  return track(createPool<M>({ module: fixture(name), maxThreads: 1, minThreads: 1, ...options }));
}

// ---------------------------------------------------------------------------------------------
// Host faults: unhandled rejections and uncaught exceptions, recorded process-wide.

/** Something that escaped to the process: an unhandled rejection or an uncaught exception. */
export interface HostFault {
  readonly kind: 'unhandledRejection' | 'uncaughtException';
  readonly error: unknown;
}

interface FaultRecorder {
  readonly faults: HostFault[];
}

// One recorder per process, however many test files load this module in it.
const RECORDER = Symbol.for('tessera.test.hostFaults');
const recorder: FaultRecorder = ((globalThis as Record<symbol, unknown>)[RECORDER] as FaultRecorder | undefined) ?? (() => {
  const created: FaultRecorder = { faults: [] };
  (globalThis as Record<symbol, unknown>)[RECORDER] = created;
  process.on('unhandledRejection', (reason) => created.faults.push({ kind: 'unhandledRejection', error: reason }));
  process.on('uncaughtException', (error) => created.faults.push({ kind: 'uncaughtException', error }));
  return created;
})();

/** Faults recorded so far in this test (not cleared). */
export function hostFaults(): readonly HostFault[] {
  return [...recorder.faults];
}

/** Describes a value for a failure message without trusting it (it may be hostile). */
export function show(value: unknown): string {
  try {
    if (value instanceof Error) return `${value.name}: ${value.message}`;
  } catch {
    // a Proxy whose getPrototypeOf throws
  }
  try {
    return typeof value === 'string' ? value : String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return `<${typeof value} that cannot be shown>`;
    }
  }
}

function describeFaults(faults: readonly HostFault[]): string {
  return faults.map((f) => `${f.kind}: ${show(f.error)}`).join('; ');
}

// ---------------------------------------------------------------------------------------------
// The afterEach: invariants, then release and destroy.

/** Stats as the core reports them, `accepted` included once it exists. */
export type Stats = PoolStats & { accepted?: number };

/**
 * True when the pool claims to be idle: `onIdle()` resolves before one turn of the event loop is
 * over. (A pool with work left resolves it later or never.)
 */
export async function claimsIdle(pool: Pool<any>): Promise<boolean> {
  let idle = false;
  const claim = pool.onIdle().then(() => {
    idle = true;
  });
  await Promise.race([claim, nextTurn()]);
  return idle;
}

/** What is wrong with an idle-claiming pool's stats, or undefined. */
export function idleStatsProblem(stats: Stats): string | undefined {
  const problems: string[] = [];
  if (stats.queued !== 0) problems.push(`queued ${stats.queued}`);
  if (stats.running !== 0) problems.push(`running ${stats.running}`);
  if (typeof stats.retrying === 'number' && stats.retrying !== 0) problems.push(`retrying ${stats.retrying}`);
  if (typeof stats.accepted === 'number' && stats.completed + stats.failed !== stats.accepted) {
    problems.push(`completed ${stats.completed} + failed ${stats.failed} !== accepted ${stats.accepted}`);
  }
  return problems.length > 0 ? problems.join(', ') : undefined;
}

afterEach(async (context) => {
  const failures: string[] = [];
  const all = [...pools];
  pools.clear();
  // Before anything is released: does a pool that says it is idle agree with its own stats?
  for (const pool of all) {
    const stats = pool.stats() as Stats;
    if (await claimsIdle(pool)) {
      const problem = idleStatsProblem(pool.stats() as Stats);
      if (problem) failures.push(`a pool claims to be idle (onIdle resolved) but its stats say ${problem}`);
    } else if (stats.queued + stats.running > 0) {
      // A test should settle what it submitted; say which one did not (its tasks reject with
      // PoolDestroyedError below, which vitest then reports as an unhandled rejection).
      console.warn(`[helpers] "${context.task.name}" left ${stats.queued} queued and ${stats.running} running tasks`);
    }
  }
  // Release every blocked thread first so nothing is left waiting on a gate, then destroy.
  for (const gate of gates) gate.open();
  gates.clear();
  await Promise.all(all.map((pool) => pool.destroy()));
  // Let rejections that nobody handled reach the recorder.
  await nextTurn();
  const faults = recorder.faults.splice(0);
  if (faults.length > 0) failures.push(`the host process saw ${faults.length} fault(s): ${describeFaults(faults)}`);
  if (failures.length > 0) throw new Error(`[helpers] "${context.task.name}": ${failures.join('\n')}`);
});

// ---------------------------------------------------------------------------------------------
// Waiting on threads through shared memory.

type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Resolves once `cells[index]` satisfies `done`, woken by the worker's Atomics.notify (no polling). */
export async function waitForCell(cells: Int32Array, index: number, done: (value: number) => boolean): Promise<number> {
  for (;;) {
    const value = Atomics.load(cells, index);
    if (done(value)) return value;
    const result = waitAsync(cells, index, value);
    if (result.async) await result.value;
  }
}

/**
 * A gate for the blocker fixture: `cells[0]` counts tasks that started, `cells[1]` is 0 while shut.
 * A task blocked on it keeps its thread provably busy until the test calls `open()`.
 */
export class Gate {
  readonly cells = new Int32Array(new SharedArrayBuffer(8));

  constructor() {
    gates.add(this);
  }

  /** Resolves once `n` tasks have started waiting on this gate. */
  async started(n = 1): Promise<void> {
    await waitForCell(this.cells, 0, (v) => v >= n);
  }

  get startedCount(): number {
    return Atomics.load(this.cells, 0);
  }

  open(): void {
    Atomics.store(this.cells, 1, 1);
    Atomics.notify(this.cells, 1);
  }
}

/**
 * A pool of the fixture `name` (which exports `block`) whose one thread is held by a blocked task
 * until `release()`. Nothing has been timed yet, so nothing is prefetched: every run submitted
 * meanwhile is provably queued.
 */
export function blockedPool<M extends object = any>(name: string, options: Parameters<typeof makePool<M>>[1] = {}) {
  const pool = makePool<M>(name, options);
  const gate = new Gate();
  const blocked = (pool as Pool<any>).run('block', { cells: gate.cells }) as Promise<unknown>;
  const log = new SharedLog();
  const release = async (): Promise<void> => {
    gate.open();
    await blocked;
  };
  return { pool, gate, blocked, log, release };
}

/** An append-only log in shared memory: `cells[0]` is the length, then the ids appended by tasks. */
export class SharedLog {
  readonly cells: Int32Array;

  constructor(capacity = 256) {
    this.cells = new Int32Array(new SharedArrayBuffer(4 * (capacity + 1)));
  }

  entries(): number[] {
    const length = Atomics.load(this.cells, 0);
    return Array.from(this.cells.subarray(1, 1 + length));
  }

  /** How many times each id was appended. */
  counts(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const id of this.entries()) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  }

  /** Resolves once `n` entries have been appended. */
  async length(n: number): Promise<void> {
    await waitForCell(this.cells, 0, (v) => v >= n);
  }
}

/** Lets pending I/O callbacks and microtasks run (one turn of the event loop; not a timer). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `n` turns of the event loop. */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await nextTurn();
}

// ---------------------------------------------------------------------------------------------
// Settlement recorders and hang guards.

/** How one promise settled, filled in by its own reactions (no waiting needed to read it). */
export interface Settlement<T = unknown> {
  readonly promise: Promise<T>;
  /** Times a reaction ran: 0 while pending, 1 once settled (never more). */
  count: number;
  status: 'pending' | 'fulfilled' | 'rejected';
  value: T | undefined;
  reason: unknown;
}

/** Records how `promise` settles; the recorder handles rejections, so none goes unhandled. */
export function record<T>(promise: Promise<T>): Settlement<T> {
  const s: Settlement<T> = { promise, count: 0, status: 'pending', value: undefined, reason: undefined };
  promise.then(
    (value) => {
      s.count++;
      s.status = 'fulfilled';
      s.value = value;
    },
    (reason: unknown) => {
      s.count++;
      s.status = 'rejected';
      s.reason = reason;
    },
  );
  return s;
}

/**
 * Resolves or rejects as `promise` does, or rejects with a message naming `what` if it has not
 * settled within `ms`. A guard against hangs, never a correctness window: a passing test passes
 * whatever the machine's speed, and a hang fails with a clear message instead of a bare test timeout.
 */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms: it hangs`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/** Awaits every promise (without failing on rejections), guarded against hangs. */
export async function allSettledWithin(promises: readonly Promise<unknown>[], ms: number, what: string): Promise<void> {
  await within(Promise.allSettled(promises), ms, what);
}

/**
 * Resolves once `condition()` holds, checking it on every turn of the event loop; rejects with a
 * message naming `what` if it still does not hold after `ms` (a hang guard, as in `within`).
 */
export async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`${what}: still not true after ${ms} ms`);
    await nextTurn();
  }
}

/** The error's `code`, read without trusting the value. */
export function codeOf(error: unknown): unknown {
  try {
    return (error as { code?: unknown } | null | undefined)?.code;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness, for reproducible chaos.

/** A small seeded PRNG (mulberry32): the same seed gives the same plan. */
export class Rng {
  #state: number;

  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as Array<[K, number]>;
    let r = this.next() * entries.reduce((total, [, w]) => total + w, 0);
    for (const [key, w] of entries) if ((r -= w) < 0) return key;
    return entries[entries.length - 1]![0];
  }
}

/** A seed from the environment variable `name` when set, else a fresh one. */
export function seedFrom(name: string): number {
  const given = process.env[name];
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed)) throw new Error(`${name} must be an integer, got ${given}`);
    return seed >>> 0;
  }
  return (Math.random() * 2 ** 32) >>> 0;
}

/**
 * Calls `start`, which must not throw, and waits at most `ms` for the promise it returns: how it
 * settled. For the hostile-value suites, where "never throws, never hangs" is the point.
 */
export async function outcome(start: () => Promise<unknown>, what: string, ms = 10_000): Promise<Settlement> {
  let promise: Promise<unknown> | undefined;
  let thrown: { error: unknown } | undefined;
  try {
    promise = start();
  } catch (error) {
    thrown = { error };
  }
  expect(thrown, `${what} threw synchronously: ${show(thrown?.error)}`).toBeUndefined();
  expect(promise, `${what} returned a promise`).toBeInstanceOf(Promise);
  const s = record(promise!);
  await within(promise!.catch(() => {}), ms, what);
  return s;
}
