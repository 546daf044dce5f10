/**
 * Idempotency keys (the `key` and `keyTtl` run options): runs of one task with one key share one
 * execution while it is queued or running, and, for `keyTtl` ms after it succeeded, its result.
 *
 * The execution is an ordinary task ({@link Execution} is a `Task`): the pool admits, queues,
 * dispatches, aborts and settles it on its one path, through the ledger. What this file adds is who
 * waits on it and what is kept after:
 * - Each run that shares an execution is a {@link Sharer} with a promise of its own, settled exactly
 *   once: with the execution's outcome (in the ledger's settle, before the pool can report idle), or
 *   alone with `AbortError` when its own signal aborts.
 * - The execution is aborted only when every sharer has aborted. When its first run has a signal, the
 *   task carries a signal of its own instead, which the last sharer to leave aborts; the pool's
 *   ordinary abort path does the rest (out of the queue, or cancelled on its thread). A first run
 *   without a signal never leaves, so its execution needs none.
 * - A sharer with a higher priority raises the execution's while it is queued (`PriorityQueue.raise`).
 * - The first run's input, timeout, transfer and keyTtl define the execution; later sharers' are ignored.
 * - Kept results: successes only, in an LRU of at most `maxKeys` entries that expire lazily (checked
 *   when read, dropped when they reach the old end of the LRU); no timers.
 */
import { isAborted, reasonOf, SignalWatch } from './abort.ts';
import { AbortError } from './errors.ts';
import type { RunSettings } from './options.ts';
import { Task, type TaskSpec } from './task.ts';

const wallClock = (): number => performance.now();
let now: () => number = wallClock;

/**
 * Test hook, not exported from the package: replaces the clock kept results expire by (milliseconds,
 * monotonic); `undefined` restores `performance.now`.
 */
export function setClockForTests(clock: (() => number) | undefined): void {
  now = clock ?? wallClock;
}

/** One run waiting on a shared execution: its own promise. Its fields belong to {@link KeyRegistry}. */
export class Sharer {
  readonly signal: AbortSignal | undefined;
  readonly promise: Promise<unknown>;
  /** What it waits on; undefined once it has settled. */
  execution: Execution | undefined = undefined;
  #resolve!: (value: unknown) => void;
  #reject!: (reason: unknown) => void;

  constructor(signal: AbortSignal | undefined) {
    this.signal = signal;
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** For the registry alone, once: settles the promise. */
  finish(ok: boolean, value: unknown): void {
    if (ok) this.#resolve(value);
    else this.#reject(value);
  }
}

/** A keyed run's task: settling it (through the ledger, as any task) settles its sharers. */
export class Execution extends Task {
  /** Task name and key, as one string. */
  readonly id: string;
  readonly keyTtl: number;
  /** Sharers still waiting, in the order they came. */
  readonly sharers = new Set<Sharer>();
  /** Aborted by the last sharer to leave; none when the first run had no signal (it never leaves). */
  readonly abandon: AbortController | undefined;
  readonly #registry: KeyRegistry;

  constructor(spec: TaskSpec, id: string, keyTtl: number, abandon: AbortController | undefined, registry: KeyRegistry) {
    super({ ...spec, signal: abandon?.signal });
    this.id = id;
    this.keyTtl = keyTtl;
    this.abandon = abandon;
    this.#registry = registry;
    // Its own promise is read by partition.ts only; callers hold their sharers' promises.
    this.promise.catch(() => {});
  }

  override finish(ok: boolean, value: unknown): void {
    super.finish(ok, value);
    this.#registry.finished(this, ok, value);
  }

  /**
   * Before it leaves the queue: sharers whose abort event never reached us (a listener before ours
   * called stopImmediatePropagation) leave now. True when that abandoned the execution.
   */
  abandoned(): boolean {
    this.#registry.sweep(this);
    return this.signal !== undefined && isAborted(this.signal);
  }
}

/** A kept result. */
interface Kept {
  readonly value: unknown;
  /** On the registry's clock. */
  readonly expires: number;
}

/** Task name and key as one string; the length prefix keeps `('a:b', 'c')` apart from `('a', 'b:c')`. */
function idOf(name: string, key: string): string {
  return `${name.length}:${name}:${key}`;
}

/** The executions in flight by task name and key, and the kept results. */
export class KeyRegistry {
  readonly #running = new Map<string, Execution>();
  /** In least recently used order: the first entry goes first. */
  readonly #kept = new Map<string, Kept>();
  readonly #maxKeys: number;
  readonly #raise: (task: Task, priority: number) => void;
  readonly #signals = new SignalWatch<Sharer>((sharer, reason) => this.#leave(sharer, reason));
  /** Runs that joined an execution in flight or got a kept result (they did not run). */
  shared = 0;

  /**
   * @param maxKeys most kept results; @param raise raises a queued task's priority (the queue's
   * business: `PriorityQueue.raise`).
   */
  constructor(maxKeys: number, raise: (task: Task, priority: number) => void) {
    this.#maxKeys = maxKeys;
    this.#raise = raise;
  }

  /** Kept results, expired ones not yet dropped included. */
  get kept(): number {
    return this.#kept.size;
  }

  /**
   * Joins what `name` and `run.key` already have: the promise of a new sharer of the execution in
   * flight, or of its kept result. Undefined when there is neither (the caller starts an execution).
   */
  join(name: string, run: RunSettings): Promise<unknown> | undefined {
    const id = idOf(name, run.key!);
    const execution = this.#running.get(id);
    if (execution !== undefined) {
      const sharer = new Sharer(run.signal);
      try {
        this.#watch(sharer);
      } catch (error) {
        return Promise.reject(error);
      }
      this.shared++;
      sharer.execution = execution;
      execution.sharers.add(sharer);
      if (run.priority > execution.priority) this.#raise(execution, run.priority);
      return sharer.promise;
    }
    const kept = this.#kept.size === 0 ? undefined : this.#kept.get(id);
    if (kept === undefined) return undefined;
    this.#kept.delete(id);
    if (!(kept.expires > now())) return undefined;
    // Most recently used now: it goes to the new end.
    this.#kept.set(id, kept);
    this.shared++;
    return Promise.resolve(kept.value);
  }

  /**
   * Makes the execution of `spec` for `run.key`, with the run as its first sharer, whose promise it
   * returns with it. The pool then admits the execution as any task. Throws what watching the run's
   * signal threw (nothing was made then).
   */
  start(spec: TaskSpec, run: RunSettings): { execution: Execution; promise: Promise<unknown> } {
    const sharer = new Sharer(run.signal);
    this.#watch(sharer);
    const id = idOf(spec.name, run.key!);
    const execution = new Execution(spec, id, run.keyTtl, run.signal === undefined ? undefined : new AbortController(), this);
    sharer.execution = execution;
    execution.sharers.add(sharer);
    this.#running.set(id, execution);
    return { execution, promise: sharer.promise };
  }

  /** For {@link Execution} alone, from the ledger's settle: keeps a success, settles every sharer. */
  finished(execution: Execution, ok: boolean, value: unknown): void {
    if (this.#running.get(execution.id) === execution) this.#running.delete(execution.id);
    if (ok && execution.keyTtl > 0 && this.#maxKeys > 0) this.#keep(execution.id, value, execution.keyTtl);
    const sharers = [...execution.sharers];
    execution.sharers.clear();
    for (const sharer of sharers) {
      sharer.execution = undefined;
      const signal = sharer.signal;
      if (signal !== undefined) {
        this.#signals.release(sharer);
        // Its abort event may never have reached us (a listener before ours swallowed it).
        if (isAborted(signal)) {
          sharer.finish(false, new AbortError(reasonOf(signal)));
          continue;
        }
      }
      sharer.finish(ok, value);
    }
  }

  /** Sharers of `execution` whose signal has aborted unheard leave it. */
  sweep(execution: Execution): void {
    for (const sharer of [...execution.sharers]) {
      if (sharer.signal !== undefined && isAborted(sharer.signal)) this.#leave(sharer, reasonOf(sharer.signal));
    }
  }

  /** Forgets every kept result (the pool closed: no run can read them any more). */
  clear(): void {
    this.#kept.clear();
  }

  #watch(sharer: Sharer): void {
    if (sharer.signal !== undefined) this.#signals.watch(sharer);
  }

  /** A sharer's signal aborted: it alone rejects; the last one to leave abandons the execution. */
  #leave(sharer: Sharer, reason: unknown): void {
    const execution = sharer.execution;
    if (execution === undefined) return;
    sharer.execution = undefined;
    execution.sharers.delete(sharer);
    this.#signals.release(sharer);
    sharer.finish(false, new AbortError(reason));
    // The pool hears the abort on the execution's own signal, as for any task.
    if (execution.sharers.size === 0) execution.abandon?.abort(reason);
  }

  #keep(id: string, value: unknown, ttl: number): void {
    const kept = this.#kept;
    const time = now();
    kept.delete(id);
    kept.set(id, { value, expires: time + ttl });
    // The bound first, then whatever expired at the old end: amortised O(1) per result kept.
    for (const [oldest, entry] of kept) {
      if (kept.size <= this.#maxKeys && entry.expires > time) break;
      kept.delete(oldest);
    }
  }
}
