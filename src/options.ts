import { availableParallelism } from 'node:os';
import type { ResourceLimits, TransferListItem } from 'node:worker_threads';
import type { Callbacks } from './callbacks.ts';
import { isArray } from './contain.ts';
import { InvalidOptionRangeError, InvalidOptionTypeError } from './errors.ts';
import type { AnyTaskModule, TaskName } from './types.ts';
import { retryDefaults, type Backoff, type RetryOptions, type RetryPolicy } from './retry.ts';
import { describeValue } from './worker/wire-error.ts';

/** One rate limit: at most `limit` runs leave the queue for a thread per `interval` milliseconds. */
export interface RateLimit {
  /** Runs (or map items) that may start per window: an integer >= 1. */
  limit: number;
  /** The window in milliseconds: an integer from 1 to 2147483647. */
  interval: number;
  /**
   * `true`: a sliding window, at most `limit` starts in any `interval` ms. `false`: fixed windows
   * (one opens with the first start after the last one ended), which allow up to `2 × limit` starts
   * across a window's edge. As p-queue's `strict`.
   * @default false
   */
  strict?: boolean;
}

/** Rate limits by task name; the key `'*'` limits the whole pool (every run counts against it). */
export type RateLimits<M = AnyTaskModule> = { readonly [K in TaskName<M> | '*']?: RateLimit };

/** A checked {@link RateLimit}. */
export interface RateLimitSettings {
  readonly limit: number;
  readonly interval: number;
  readonly strict: boolean;
}

/** The key of {@link RateLimits} that limits the whole pool. */
export const POOL_RATE_LIMIT = '*';

/** Options of {@link createPool}. Every field but `module` is optional. */
export interface PoolOptions {
  /** The task module: a file URL, `file:` URL string or absolute path. Its exported functions are the tasks. */
  module: URL | string;
  /**
   * Threads started at once and kept while idle.
   * @default Math.max(1, Math.floor(maxThreads / 2))
   */
  minThreads?: number;
  /**
   * The most threads the pool runs.
   * @default os.availableParallelism()
   */
  maxThreads?: number;
  /**
   * The most tasks waiting for a thread; `run` rejects with `QueueFullError` beyond it.
   * Pass `Infinity` to opt in to an unbounded queue.
   * @default 10_000
   */
  maxQueue?: number;
  /**
   * Milliseconds an idle thread above `minThreads` lives before it is stopped: an integer from 0 to
   * 2147483647 (the longest a Node.js timer waits; beyond it the timer would fire after 1 ms), or
   * `Infinity` to never stop idle threads.
   * @default 30_000
   */
  idleTimeout?: number;
  /** Memory limits per thread; a thread that exceeds them dies and its task rejects with `WorkerCrashError`. */
  resourceLimits?: ResourceLimits;
  /**
   * Tasks one thread runs at once (above 1 only helps tasks that await I/O). Threads killed by an
   * abort or timeout take every task running on them down too.
   * @default 1
   */
  concurrentTasksPerWorker?: number;
  /**
   * How many later-submitted tasks one step of priority lets a task overtake. It bounds how long a
   * low-priority task can wait under a steady stream of higher ones (no starvation). `Infinity` makes
   * priority strict, at the risk of starving low priorities.
   * @default 1_000
   */
  priorityAging?: number;
  /**
   * Milliseconds a running task gets to settle after its signal aborts or its timeout passes
   * (its `context.signal` aborts) before its thread is terminated. The caller is rejected at once either way.
   * An integer from 0 to 2147483647, as `timeout` (a longer wait would fire after 1 ms).
   * @default 50
   */
  abortGrace?: number;
  /**
   * Added to the worker threads' nice value (Linux, through piscina and @napi-rs/nice; 0 to 19): the
   * OS then runs the main thread first when threads outnumber free cores, which keeps the event loop
   * responsive under full load. It lowers the threads below every other process on the machine too,
   * not only below this process's main thread: with other CPU load on the box the pool gets what is
   * left (measured on 2 cores: 19 gave 0.93x the throughput of 0 when quiet, 0.04x while two CPU-bound
   * processes ran; `node --import tsx examples/nice-under-load.ts`). 0 leaves priorities alone.
   * @default 0
   */
  niceIncrement?: number;
  /**
   * The most settled results of keyed runs kept for their `keyTtl` (an LRU: the least recently used
   * goes first). 0 keeps none, so keys are shared only while their run is queued or running.
   * @default 10_000
   */
  maxKeys?: number;
  /**
   * The most queued tasks carried to a thread in one message when the queue is deep. 1 turns batching off.
   * @default 64
   */
  maxBatch?: number;
  /**
   * Tasks kept waiting at each busy thread beyond the ones it runs, so it starts the next without a
   * round trip to the main thread. Used only while tasks average under 20 ms (beyond that the round
   * trip is noise, and a task held behind a long one could have started on a thread that freed up).
   * 0 turns it off: a lone task then costs one message each way instead of three.
   * @default 1
   */
  prefetch?: number;
  /** Rate limits by task name, and `'*'` for the whole pool: over a limit, runs wait in the queue (see the README). */
  rateLimits?: RateLimits;
  /**
   * Tasks a thread runs before it retires: it finishes the running task, exits, and a fresh thread
   * replaces it; tasks waiting at it go back to the queue. A `map` chunk counts one per item. `Infinity` never recycles.
   * @default Infinity
   */
  maxTasksPerThread?: number;
  /**
   * Megabytes of used V8 heap (garbage not yet collected included), read in the thread after each
   * task, past which the thread retires as with `maxTasksPerThread`. Unset, the heap is never read.
   * @default undefined (no ceiling)
   */
  maxHeapPerThreadMb?: number;
  /** The retry policy of every run that gives none and whose name has none in `retries` (see the README's "Retries"). */
  retry?: RetryOptions;
  /** Retry policies by task name; a run's own `retry` replaces its name's, which replaces the pool's `retry`. */
  retries?: { readonly [name: string]: RetryOptions };
}

/** Options of a single `pool.run`. */
export interface RunOptions {
  /**
   * Higher runs first; equal priorities run in submission order.
   * @default 0
   */
  priority?: number;
  /** Aborting it removes a queued task, or stops a running one; the task rejects with `AbortError`. */
  signal?: AbortSignal;
  /** Milliseconds the task may run, counted from when it starts on a thread; it then rejects with `TaskTimeoutError`. */
  timeout?: number;
  /** Buffers (ArrayBuffer, MessagePort, …) in `input` to move to the thread instead of copying. */
  transfer?: readonly TransferListItem[];
  /**
   * Idempotency key (a non-empty string): while a run of the same task with the same key is queued
   * or running, this run shares its execution and its outcome instead of running again. The first
   * run's input, timeout and transfer define the execution; see the README's "Idempotency keys".
   */
  key?: string;
  /**
   * Milliseconds a keyed run's successful result is kept after it settles, so that a run with the
   * same key gets it without running again (failures are never kept). Needs `key`.
   * @default 0
   */
  keyTtl?: number;
  /**
   * Called on the main thread with what the task passes to `context.progress(value)`. Coalesced: the
   * latest value wins, at most one call per 16 ms, and the last value always comes before the run
   * settles; none after. What it throws (or rejects with) is ignored, reported once per run as a
   * `TesseraWarning`. Not taken by `pool.map`.
   */
  onProgress?: (value: any) => unknown;
  /**
   * This run's retry policy: replaces its name's in the pool's `retries`, and the pool's `retry`.
   * `{ attempts: 1 }` turns retries off for the run. See the README's "Retries".
   */
  retry?: RetryOptions;
  /**
   * Ordering key (a string of 1 to 1,024 characters): runs with the same key run one at a time, in
   * the order they were accepted, each one's retries included; runs with other keys run in parallel.
   * Not with `key`. See the README's "Ordering keys".
   */
  orderingKey?: string;
  /**
   * Milliseconds (a finite number >= 0) the run is held, outside the queue and holding no thread,
   * before it is queued. Not with `runAt`. See the README's "Delayed runs".
   */
  delay?: number;
  /** When the run is queued: a `Date` or epoch milliseconds; a time already past queues it at once. Not with `delay`. */
  runAt?: Date | number;
}

/** Resolved pool options, every default applied. */
export interface ResolvedPoolOptions {
  readonly module: URL;
  readonly minThreads: number;
  readonly maxThreads: number;
  readonly maxQueue: number;
  readonly idleTimeout: number;
  readonly resourceLimits: ResourceLimits | undefined;
  readonly concurrentTasksPerWorker: number;
  readonly priorityAging: number;
  readonly abortGrace: number;
  readonly maxBatch: number;
  readonly niceIncrement: number;
  readonly prefetch: number;
  readonly maxKeys: number;
  /** By task name, `'*'` for the pool; undefined when none is set (the dispatch path then skips them). */
  readonly rateLimits: ReadonlyMap<string, RateLimitSettings> | undefined;
  readonly maxTasksPerThread: number;
  readonly maxHeapPerThreadMb: number | undefined;
  /** The pool's `retry`, checked; undefined when not set. */
  readonly retry: RetryPolicy | undefined;
  /** The pool's `retries` by task name; undefined when none is set. */
  readonly retries: ReadonlyMap<string, RetryPolicy> | undefined;
}

/** Defaults of every optional pool option that does not depend on another. */
export const poolDefaults = Object.freeze({
  maxQueue: 10_000,
  idleTimeout: 30_000,
  concurrentTasksPerWorker: 1,
  priorityAging: 1_000,
  abortGrace: 50,
  maxBatch: 64,
  niceIncrement: 0,
  prefetch: 1,
  maxKeys: 10_000,
  maxTasksPerThread: Infinity,
});

function describe(value: unknown): string {
  let shown: string;
  try {
    shown = typeof value === 'string' ? value : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  } catch {
    shown = describeValue(value);
  }
  return `\`${shown}\` (${value === null ? 'null' : typeof value})`;
}

/** Longest wait in milliseconds a Node.js timer takes; setTimeout turns a longer one into 1 ms. */
const MAX_INTERVAL = 2_147_483_647;

/** Throws the one message format every option check uses. */
export function fail(name: string, expected: string, value: unknown, isType: boolean): never {
  const message = `Expected \`${name}\` to be ${expected}, got ${describe(value)}`;
  throw isType ? new InvalidOptionTypeError(message) : new InvalidOptionRangeError(message);
}

/** An integer >= min, or Infinity when allowed. */
export function checkInteger(name: string, value: unknown, min: number, allowInfinity = false): number {
  const expected = `an integer >= ${min}${allowInfinity ? ' or Infinity' : ''}`;
  if (typeof value !== 'number' || Number.isNaN(value)) fail(name, expected, value, true);
  if (value === Infinity && allowInfinity) return value;
  if (!Number.isInteger(value) || value < min) fail(name, expected, value, false);
  return value;
}

function checkIntegerRange(name: string, value: unknown, min: number, max: number, allowInfinity = false): number {
  const expected = `an integer from ${min} to ${max}${allowInfinity ? ' or Infinity' : ''}`;
  if (typeof value !== 'number' || Number.isNaN(value)) fail(name, expected, value, true);
  if (value === Infinity && allowInfinity) return value;
  if (!Number.isInteger(value) || value < min || value > max) fail(name, expected, value, false);
  return value;
}

function checkFinite(name: string, value: unknown, min: number, max: number): number {
  const expected = `a finite number from ${min} to ${max}`;
  if (typeof value !== 'number' || Number.isNaN(value)) fail(name, expected, value, true);
  if (!Number.isFinite(value) || value < min || value > max) fail(name, expected, value, false);
  return value;
}

const urlHref = Object.getOwnPropertyDescriptor(URL.prototype, 'href')!.get!;

/**
 * A copy of a real URL, else undefined. instanceof alone lets a Proxy of a URL or an
 * `Object.create(URL.prototype)` through (their getters then throw), and may run a Proxy's trap.
 */
function copyUrl(value: unknown): URL | undefined {
  try {
    // URL's own getter checks its receiver's brand: a Proxy, a fake or a subclass's override cannot answer.
    return new URL(urlHref.call(value) as string);
  } catch {
    return undefined;
  }
}

function toModuleUrl(module: unknown): URL {
  if (typeof module === 'object' && module !== null) {
    return copyUrl(module) ?? fail('module', 'a URL or an absolute path (a real URL: not a Proxy of one, nor an object made from URL.prototype)', module, true);
  }
  if (typeof module === 'string' && module.length > 0) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module)) return new URL(module);
    if (module.startsWith('/') || /^[a-z]:[\\/]/i.test(module)) return new URL(`file://${module.startsWith('/') ? '' : '/'}${module}`);
  }
  return fail('module', 'a URL or an absolute path', module, true);
}

const RESOURCE_LIMIT_KEYS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const;

/** Copies the known `resourceLimits` fields, each read once and checked. */
function checkResourceLimits(limits: object): ResourceLimits {
  const copy: { -readonly [K in keyof ResourceLimits]: ResourceLimits[K] } = {};
  for (const key of RESOURCE_LIMIT_KEYS) {
    const value = readOption(limits, key);
    if (value === undefined) continue;
    if (typeof value !== 'number' || Number.isNaN(value)) fail(`resourceLimits.${key}`, 'a number of megabytes > 0', value, true);
    if (!(value > 0) || !Number.isFinite(value)) fail(`resourceLimits.${key}`, 'a finite number of megabytes > 0', value, false);
    copy[key] = value;
  }
  return copy;
}

const POOL_OPTION_KEYS = [
  'module',
  'minThreads',
  'maxThreads',
  'maxQueue',
  'idleTimeout',
  'resourceLimits',
  'concurrentTasksPerWorker',
  'priorityAging',
  'abortGrace',
  'maxBatch',
  'niceIncrement',
  'prefetch',
  'maxKeys',
  'rateLimits',
  'maxTasksPerThread',
  'maxHeapPerThreadMb',
  'retry',
  'retries',
] as const satisfies ReadonlyArray<keyof PoolOptions>;

/** Validates pool options without mutating them and applies the defaults. */
export function resolvePoolOptions(given: PoolOptions): ResolvedPoolOptions {
  if (typeof given !== 'object' || given === null) fail('options', 'an object', given, true);
  // Each option read once: a getter could throw, or answer differently twice.
  const options = Object.fromEntries(POOL_OPTION_KEYS.map((key) => [key, readOption(given, key)])) as unknown as PoolOptions;
  const module = toModuleUrl(options.module);
  const maxThreads = options.maxThreads === undefined ? availableParallelism() : checkInteger('maxThreads', options.maxThreads, 1);
  const minThreads =
    options.minThreads === undefined ? Math.max(1, Math.floor(maxThreads / 2)) : checkInteger('minThreads', options.minThreads, 0);
  if (minThreads > maxThreads) fail('minThreads', `an integer <= maxThreads (${maxThreads})`, minThreads, false);
  const limits = options.resourceLimits;
  if (limits !== undefined && (typeof limits !== 'object' || limits === null)) fail('resourceLimits', 'an object', limits, true);
  const resourceLimits = limits === undefined ? undefined : checkResourceLimits(limits);
  return {
    module,
    minThreads,
    maxThreads,
    maxQueue: options.maxQueue === undefined ? poolDefaults.maxQueue : checkInteger('maxQueue', options.maxQueue, 0, true),
    // Both become setTimeout delays: refused past what a timer can wait, as `timeout` and `retry.delay` are.
    idleTimeout:
      options.idleTimeout === undefined ? poolDefaults.idleTimeout : checkIntegerRange('idleTimeout', options.idleTimeout, 0, MAX_INTERVAL, true),
    resourceLimits,
    concurrentTasksPerWorker:
      options.concurrentTasksPerWorker === undefined
        ? poolDefaults.concurrentTasksPerWorker
        : checkInteger('concurrentTasksPerWorker', options.concurrentTasksPerWorker, 1),
    priorityAging:
      options.priorityAging === undefined ? poolDefaults.priorityAging : checkInteger('priorityAging', options.priorityAging, 1, true),
    abortGrace: options.abortGrace === undefined ? poolDefaults.abortGrace : checkIntegerRange('abortGrace', options.abortGrace, 0, MAX_INTERVAL),
    maxBatch: options.maxBatch === undefined ? poolDefaults.maxBatch : checkInteger('maxBatch', options.maxBatch, 1),
    niceIncrement:
      options.niceIncrement === undefined ? poolDefaults.niceIncrement : checkIntegerRange('niceIncrement', options.niceIncrement, 0, 19),
    prefetch: options.prefetch === undefined ? poolDefaults.prefetch : checkIntegerRange('prefetch', options.prefetch, 0, 16),
    maxKeys: options.maxKeys === undefined ? poolDefaults.maxKeys : checkInteger('maxKeys', options.maxKeys, 0),
    rateLimits: checkRateLimits(options.rateLimits),
    maxTasksPerThread:
      options.maxTasksPerThread === undefined
        ? poolDefaults.maxTasksPerThread
        : checkInteger('maxTasksPerThread', options.maxTasksPerThread, 1, true),
    maxHeapPerThreadMb: options.maxHeapPerThreadMb === undefined ? undefined : checkMegabytes('maxHeapPerThreadMb', options.maxHeapPerThreadMb),
    retry: options.retry === undefined ? undefined : checkRetry(options.retry, 'retry'),
    retries: checkRetries(options.retries),
  };
}

/** A finite number of megabytes > 0. */
function checkMegabytes(name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) fail(name, 'a number of megabytes > 0', value, true);
  if (!(value > 0) || !Number.isFinite(value)) fail(name, 'a finite number of megabytes > 0', value, false);
  return value;
}

/** The task names an option keyed by task name lists (`rateLimits`, `retries`), read once and guarded; returning means `given` is an object. */
function namesOf(option: string, given: unknown, expected: string): string[] {
  if (typeof given !== 'object' || given === null || isArray(given)) fail(option, expected, given, true);
  try {
    return Object.keys(given);
  } catch (cause) {
    throw new InvalidOptionTypeError(`Expected \`${option}\` to be readable, but reading it threw. Pass a plain options object.`, { cause });
  }
}

/** Validates `rateLimits` once, at construction: each entry read once, through guarded reads. */
function checkRateLimits(given: unknown): ReadonlyMap<string, RateLimitSettings> | undefined {
  if (given === undefined) return undefined;
  const names = namesOf('rateLimits', given, 'an object of { limit, interval, strict? } by task name');
  const limits = new Map<string, RateLimitSettings>();
  for (const name of names) {
    const path = name === POOL_RATE_LIMIT ? "rateLimits['*']" : `rateLimits.${name}`;
    const entry = readOption(given as object, name, path);
    if (entry === undefined) continue;
    if (typeof entry !== 'object' || entry === null) fail(path, 'an object { limit, interval, strict? }', entry, true);
    const limit = checkInteger(`${path}.limit`, readOption(entry, 'limit', `${path}.limit`), 1);
    const interval = checkIntegerRange(`${path}.interval`, readOption(entry, 'interval', `${path}.interval`), 1, MAX_INTERVAL);
    const strict = readOption(entry, 'strict', `${path}.strict`);
    if (strict !== undefined && typeof strict !== 'boolean') fail(`${path}.strict`, 'a boolean', strict, true);
    limits.set(name, Object.freeze({ limit, interval, strict: strict === true }));
  }
  return limits.size > 0 ? limits : undefined;
}

// ---------------------------------------------------------------------------------------------
// Retry policies (see retry.ts for what they do).

/** Most `attempts` (and `poisonAfter`): each attempt's error is kept until the run settles. */
const MAX_ATTEMPTS = 1_000;
/** Checks a retry policy (each field read once, through guarded reads); `label` names it in errors. */
export function checkRetry(given: unknown, label: string): RetryPolicy {
  if (typeof given !== 'object' || given === null || isArray(given)) fail(label, 'an object { attempts, backoff, delay, maxDelay, jitter, retryOn, poisonAfter }', given, true);
  const attempts = readOption(given, 'attempts', `${label}.attempts`);
  const backoff = readOption(given, 'backoff', `${label}.backoff`);
  const delay = readOption(given, 'delay', `${label}.delay`);
  const maxDelay = readOption(given, 'maxDelay', `${label}.maxDelay`);
  const jitter = readOption(given, 'jitter', `${label}.jitter`);
  const retryOn = readOption(given, 'retryOn', `${label}.retryOn`);
  const poisonAfter = readOption(given, 'poisonAfter', `${label}.poisonAfter`);
  // typeof never runs user code, Proxies included.
  if (backoff !== undefined && backoff !== 'exponential' && backoff !== 'fixed' && typeof backoff !== 'function') {
    fail(`${label}.backoff`, "'exponential', 'fixed' or a function (attempt, error) => ms", backoff, true);
  }
  if (retryOn !== undefined && typeof retryOn !== 'function') fail(`${label}.retryOn`, 'a function (error, attempt) => boolean', retryOn, true);
  let jitterValue: number;
  if (jitter === undefined) jitterValue = backoff === 'fixed' ? 0 : retryDefaults.jitter;
  else {
    if (typeof jitter !== 'number' || Number.isNaN(jitter)) fail(`${label}.jitter`, 'a number from 0 to 1', jitter, true);
    if (!(jitter >= 0 && jitter <= 1)) fail(`${label}.jitter`, 'a number from 0 to 1', jitter, false);
    jitterValue = jitter;
  }
  return Object.freeze({
    attempts: attempts === undefined ? retryDefaults.attempts : checkIntegerRange(`${label}.attempts`, attempts, 1, MAX_ATTEMPTS),
    backoff: (backoff ?? retryDefaults.backoff) as Backoff,
    delay: delay === undefined ? retryDefaults.delay : checkIntegerRange(`${label}.delay`, delay, 0, MAX_INTERVAL),
    maxDelay: maxDelay === undefined ? retryDefaults.maxDelay : checkIntegerRange(`${label}.maxDelay`, maxDelay, 0, MAX_INTERVAL),
    jitter: jitterValue,
    retryOn: retryOn as RetryPolicy['retryOn'],
    poisonAfter: poisonAfter === undefined ? retryDefaults.poisonAfter : checkIntegerRange(`${label}.poisonAfter`, poisonAfter, 1, MAX_ATTEMPTS),
  });
}

/** Checks the `retries` pool option: a policy per task name. Undefined when none is set. */
export function checkRetries(given: unknown): ReadonlyMap<string, RetryPolicy> | undefined {
  if (given === undefined) return undefined;
  const names = namesOf('retries', given, 'an object of retry policies by task name');
  const policies = new Map<string, RetryPolicy>();
  for (const name of names) {
    const entry = readOption(given as object, name, `retries.${name}`);
    if (entry !== undefined) policies.set(name, checkRetry(entry, `retries.${name}`));
  }
  return policies.size > 0 ? policies : undefined;
}

/** Largest |priority| accepted: keeps the aging arithmetic exact in doubles. */
export const MAX_PRIORITY = 1_000_000;

/** A run's options, read once and checked. */
export interface RunSettings {
  readonly priority: number;
  readonly signal: AbortSignal | undefined;
  readonly timeout: number | undefined;
  readonly transfer: readonly TransferListItem[] | undefined;
  /** Idempotency key, when given. */
  readonly key: string | undefined;
  /** Milliseconds a keyed run's result is kept; 0 without a key. */
  readonly keyTtl: number;
  readonly onProgress: ((value: unknown) => unknown) | undefined;
  /** Not an option: the functions `pool.run` took out of the input (`proxy` markers). */
  readonly callbacks: Callbacks | undefined;
  /** The run's own retry policy, when given. */
  readonly retry: RetryPolicy | undefined;
  /** Its ordering key, when given. */
  readonly orderingKey?: string | undefined;
  /** Milliseconds it is held before it is queued, when given. */
  readonly delay?: number | undefined;
  /** When it is queued (epoch milliseconds), when given. */
  readonly runAt?: number | undefined;
}

/** Settings of a run given no options. */
export const noRunOptions: RunSettings = Object.freeze({
  priority: 0,
  signal: undefined,
  timeout: undefined,
  transfer: undefined,
  key: undefined,
  keyTtl: 0,
  onProgress: undefined,
  callbacks: undefined,
  retry: undefined,
});

/** Longest `key` accepted, in UTF-16 code units: bounds what `maxKeys` kept results can hold in keys. */
export const MAX_KEY_LENGTH = 1_024;

/** Reads `options[key]`; a getter or Proxy trap that throws becomes an option error naming `label`. */
export function readOption(options: object, key: string, label = key): unknown {
  try {
    return (options as Record<string, unknown>)[key];
  } catch (cause) {
    throw new InvalidOptionTypeError(`Expected \`${label}\` to be readable, but reading it threw. Pass a plain options object.`, { cause });
  }
}

/**
 * Validates one run's options and returns what they say. Runs once per task, so it checks only the
 * fields that are set, and reads each once (a getter could answer differently twice).
 */
export function checkRunOptions(options: unknown): RunSettings {
  if (typeof options !== 'object' || options === null) fail('options', 'an object', options, true);
  const priority = readOption(options, 'priority');
  const timeout = readOption(options, 'timeout');
  const signal = readOption(options, 'signal');
  const transfer = readOption(options, 'transfer');
  const key = readOption(options, 'key');
  const keyTtl = readOption(options, 'keyTtl');
  const onProgress = readOption(options, 'onProgress');
  const retry = readOption(options, 'retry');
  const orderingKey = readOption(options, 'orderingKey');
  const delay = readOption(options, 'delay');
  const runAt = readOption(options, 'runAt');
  if (priority !== undefined) checkFinite('priority', priority, -MAX_PRIORITY, MAX_PRIORITY);
  if (timeout !== undefined) {
    if (typeof timeout !== 'number' || Number.isNaN(timeout)) fail('timeout', 'a number of milliseconds > 0', timeout, true);
    if (!(timeout > 0) || timeout > MAX_INTERVAL) fail('timeout', `a number of milliseconds from 1 to ${MAX_INTERVAL}`, timeout, false);
  }
  if (signal !== undefined && !isAbortSignal(signal)) fail('signal', 'an AbortSignal', signal, true);
  if (transfer !== undefined && !isArray(transfer)) fail('transfer', 'an array of transferable objects', transfer, true);
  if (key !== undefined) checkKeyString('key', key);
  if (keyTtl !== undefined) {
    if (key === undefined) fail('keyTtl', 'left out when there is no `key`', keyTtl, true);
    checkInteger('keyTtl', keyTtl, 0, true);
  }
  // typeof runs no user code: a Proxy of a function is a function, and is called as one.
  if (onProgress !== undefined && typeof onProgress !== 'function') fail('onProgress', 'a function', onProgress, true);
  if (orderingKey !== undefined) {
    checkKeyString('orderingKey', orderingKey);
    if (key !== undefined) fail('orderingKey', 'left out when `key` is given (a keyed run takes no ordering key)', orderingKey, true);
  }
  const runAtMs = runAt === undefined ? undefined : checkRunAt(runAt);
  if (delay !== undefined) {
    if (runAt !== undefined) fail('delay', 'left out when `runAt` is given (pass one of them)', delay, true);
    if (typeof delay !== 'number' || Number.isNaN(delay)) fail('delay', 'a number of milliseconds >= 0', delay, true);
    if (!(delay >= 0) || !Number.isFinite(delay)) fail('delay', 'a finite number of milliseconds >= 0', delay, false);
  }
  const settings: RunSettings = {
    priority: (priority as number | undefined) ?? 0,
    signal: signal as AbortSignal | undefined,
    timeout: timeout as number | undefined,
    transfer: transfer === undefined ? undefined : copyList(transfer as TransferListItem[]),
    key: key as string | undefined,
    keyTtl: (keyTtl as number | undefined) ?? 0,
    onProgress: onProgress as ((value: unknown) => unknown) | undefined,
    callbacks: undefined,
    retry: retry === undefined ? undefined : checkRetry(retry, 'retry'),
  };
  // Only when given: runs without them carry no extra fields.
  if (orderingKey === undefined && delay === undefined && runAtMs === undefined) return settings;
  return { ...settings, orderingKey: orderingKey as string | undefined, delay: delay as number | undefined, runAt: runAtMs };
}

/** A `key` or `orderingKey`: a string of 1 to {@link MAX_KEY_LENGTH} characters. */
function checkKeyString(name: string, key: unknown): void {
  // typeof never runs user code, Proxies included: a String object or a Proxy is refused here.
  if (typeof key !== 'string') fail(name, 'a string', key, true);
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    fail(name, `a string of 1 to ${MAX_KEY_LENGTH} characters`, key.length > 40 ? `${key.slice(0, 40)}… (${key.length} characters)` : key, false);
  }
}

const getTime = Date.prototype.getTime;

/** `runAt`: a valid Date or finite epoch milliseconds, as epoch milliseconds. */
function checkRunAt(runAt: unknown): number {
  const expected = 'a Date or a number of epoch milliseconds';
  if (typeof runAt === 'number') {
    if (!Number.isFinite(runAt)) fail('runAt', `a finite number of epoch milliseconds, or a Date`, runAt, false);
    return runAt;
  }
  let time: number;
  try {
    // Date's own method checks its receiver's brand: a Proxy, a fake or a subclass's override cannot answer.
    time = getTime.call(runAt);
  } catch {
    return fail('runAt', expected, runAt, true);
  }
  if (Number.isNaN(time)) fail('runAt', 'a valid Date (not an Invalid Date)', runAt, false);
  return time;
}

/** Refuses a key where a method takes none (`pool.map`: its chunks are not idempotent runs). */
export function checkUnkeyed(run: RunSettings, method: string): RunSettings {
  if (run.key !== undefined) fail('key', `left out: ${method} takes no idempotency key`, run.key, true);
  if (run.retry !== undefined) fail('retry', `left out: ${method} does not retry (retries apply to pool.run)`, run.retry, true);
  if (run.orderingKey !== undefined) fail('orderingKey', `left out: ${method} takes no ordering key`, run.orderingKey, true);
  if (run.delay !== undefined) fail('delay', `left out: ${method} is not delayed (delays apply to pool.run)`, run.delay, true);
  if (run.runAt !== undefined) fail('runAt', `left out: ${method} is not delayed (runAt applies to pool.run)`, run.runAt, true);
  return run;
}

/** Refuses `onProgress` where a method takes none (`pool.map`: its chunks report no progress). */
export function checkNoProgress(run: RunSettings, method: string): RunSettings {
  if (run.onProgress !== undefined) fail('onProgress', `left out: ${method} takes no onProgress`, run.onProgress, true);
  return run;
}

function copyList(list: TransferListItem[]): TransferListItem[] {
  try {
    return Array.from(list);
  } catch (cause) {
    throw new InvalidOptionTypeError('Expected `transfer` to be a plain array of transferable objects, but reading it threw.', { cause });
  }
}

/** A real AbortSignal: instanceof alone lets a Proxy of one through, whose getters then throw. */
function isAbortSignal(value: unknown): value is AbortSignal {
  try {
    if (!(value instanceof AbortSignal)) return false;
    // The getter checks its receiver's brand: a Proxy or a fake fails here.
    Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!.call(value);
    return true;
  } catch {
    return false;
  }
}
