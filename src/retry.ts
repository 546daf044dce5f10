/**
 * Retries (the `retry` run option, the `retry` and `retries` pool options): the policy, its checks,
 * the delay before each retry, and what is retried.
 *
 * A run with a policy is an ordinary task on the one dispatch path. When one of its attempts fails,
 * the ledger's `settle` (the one place a failure becomes final) asks {@link decide}: either the
 * failure is final (the caller is rejected, once), or the task waits `delay` ms on a timer, holding
 * no thread and no queue place, and then goes back through the queue with its priority.
 *
 * Backoff, BullMQ's scheme: `exponential` waits `delay * 2^(n-1)` before retry `n`, `fixed` waits
 * `delay`; either is capped at `maxDelay`, then `jitter` (0 to 1) draws the wait uniformly from
 * `[d * (1 - jitter), d]`. `jitter: 1` is AWS's "full jitter" (Celery's `retry_jitter`), the
 * default for `exponential`; `fixed` defaults to no jitter.
 */
import {
  AbortError,
  InvalidOptionRangeError,
  InvalidOptionTypeError,
  ModuleLoadError,
  PoisonTaskError,
  PoolClosedError,
  PoolDestroyedError,
  QueueFullError,
  RetryHookError,
  TaskInputError,
  TaskTimeoutError,
  TesseraError,
  UnknownTaskError,
  UnrecoverableError,
  WorkerCrashError,
} from './errors.ts';
import { describeValue } from './worker/wire-error.ts';

/** How long to wait before a retry: a scheme, or a function of the failed attempt's number (1-based) and its error. */
export type Backoff = 'exponential' | 'fixed' | ((attempt: number, error: unknown) => number);

/** A retry policy, as given: every field is optional. */
export interface RetryOptions {
  /**
   * Attempts in all, the first included: an integer from 1 to 1,000. 1 never retries.
   * @default 1
   */
  attempts?: number;
  /**
   * `'exponential'` (`delay * 2^(n-1)` before retry n), `'fixed'` (`delay`), or a function
   * `(attempt, error) => ms` (its result is capped at `maxDelay`; no jitter is added).
   * @default 'exponential'
   */
  backoff?: Backoff;
  /**
   * Milliseconds before the first retry (an integer >= 0).
   * @default 100
   */
  delay?: number;
  /**
   * The longest wait in milliseconds (an integer from 0 to 2147483647).
   * @default 30_000
   */
  maxDelay?: number;
  /**
   * 0 to 1: the wait is drawn uniformly from `[d * (1 - jitter), d]`. 1 is "full jitter".
   * @default 1 for 'exponential', 0 for 'fixed'
   */
  jitter?: number;
  /**
   * Decides whether a failure is retried, instead of the default (the task's own errors, crashes and
   * timeouts are). Must return a boolean. Not asked for failures that are never retried (aborts,
   * `UnrecoverableError`, …), nor once the attempts are spent.
   */
  retryOn?: (error: unknown, attempt: number) => boolean;
  /**
   * A run whose attempts killed their thread (exit, out of memory) this many times fails with
   * `PoisonTaskError`, even if attempts remain (an integer >= 1).
   * @default 3
   */
  poisonAfter?: number;
}

/** Defaults of a retry policy's fields. */
export const retryDefaults = Object.freeze({
  attempts: 1,
  backoff: 'exponential' as const,
  delay: 100,
  maxDelay: 30_000,
  /** For `'exponential'`; `'fixed'` defaults to 0. */
  jitter: 1,
  poisonAfter: 3,
});

/** A value a policy function returned, for a message (never runs user code: typeof first). */
function show(value: unknown): string {
  return typeof value === 'object' || typeof value === 'function' ? `a${typeof value === 'object' ? 'n' : ''} ${value === null ? 'null' : typeof value}` : `\`${describeValue(value)}\` (${typeof value})`;
}

/** A checked {@link RetryOptions}, every default applied. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly backoff: Backoff;
  readonly delay: number;
  readonly maxDelay: number;
  readonly jitter: number;
  readonly retryOn: ((error: unknown, attempt: number) => boolean) | undefined;
  readonly poisonAfter: number;
}

/**
 * Milliseconds to wait before retrying after failed attempt `attempt` (1-based), or a
 * `RetryHookError` reason when a `backoff` function threw or gave no usable number.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  error: unknown,
  random: () => number = Math.random,
): number | { problem: string; cause: unknown } {
  const backoff = policy.backoff;
  if (typeof backoff === 'function') {
    let ms: unknown;
    try {
      ms = backoff(attempt, error);
    } catch (cause) {
      return { problem: 'threw', cause };
    }
    if (typeof ms !== 'number' || !(ms >= 0)) {
      return { problem: `returned ${show(ms)}, not a number of milliseconds >= 0`, cause: undefined };
    }
    return Math.min(ms, policy.maxDelay);
  }
  const base = backoff === 'fixed' ? policy.delay : policy.delay * 2 ** (attempt - 1);
  const capped = Math.min(base, policy.maxDelay);
  if (policy.jitter === 0) return capped;
  return Math.floor(capped * (1 - policy.jitter) + random() * capped * policy.jitter);
}

/** A run's attempts so far. Written only through {@link decide} and the ledger. */
export class RetryState {
  readonly policy: RetryPolicy;
  /** Attempts admitted to run: 1, and one more each time a backoff ends. */
  attempts = 1;
  /** Every failure so far, oldest first. */
  readonly errors: unknown[] = [];
  /** The failures that killed their thread (exit, out of memory). */
  readonly crashes: Error[] = [];

  constructor(policy: RetryPolicy) {
    this.policy = policy;
  }
}

/** Failures no policy retries: the caller's or the pool's doing, or the task said so. */
function neverRetried(error: unknown): boolean {
  return (
    error instanceof AbortError ||
    error instanceof PoolDestroyedError ||
    error instanceof PoolClosedError ||
    error instanceof QueueFullError ||
    error instanceof UnknownTaskError ||
    error instanceof TaskInputError ||
    error instanceof ModuleLoadError ||
    error instanceof UnrecoverableError ||
    error instanceof PoisonTaskError ||
    error instanceof RetryHookError ||
    error instanceof InvalidOptionTypeError ||
    error instanceof InvalidOptionRangeError
  );
}

/** The default: the task's own errors (anything not tessera's), crashes and timeouts. */
export function retriedByDefault(error: unknown): boolean {
  if (error instanceof WorkerCrashError || error instanceof TaskTimeoutError) return true;
  return !(error instanceof TesseraError) && !neverRetried(error);
}

/** Errors shared by many runs (one object): never annotated, since each run would overwrite the other's. */
function shared(error: unknown): boolean {
  return error instanceof PoolDestroyedError || error instanceof PoolClosedError || error instanceof ModuleLoadError;
}

/**
 * The final error of a run with a policy, `attempts` and the earlier `errors` defined on it (not
 * enumerable). A value that cannot take properties (a primitive, a frozen object) stays as it is.
 */
function annotate(state: RetryState, error: unknown): unknown {
  if ((typeof error !== 'object' && typeof error !== 'function') || error === null || shared(error)) return error;
  if (error instanceof PoisonTaskError || error instanceof RetryHookError) return error;
  try {
    Object.defineProperty(error, 'attempts', { value: state.attempts, writable: true, configurable: true, enumerable: false });
    Object.defineProperty(error, 'errors', { value: state.errors.slice(0, -1), writable: true, configurable: true, enumerable: false });
  } catch {
    // Frozen, or a property that cannot be redefined: the error goes as it is.
  }
  return error;
}

/** What happens after a failure: a retry after `delay` ms, or the final error. */
export type Verdict = { readonly retry: true; readonly delay: number } | { readonly retry: false; readonly error: unknown };

/**
 * Decides what follows failure `error` of a run of `name`. `waiting`: the run was waiting for its
 * backoff (an abort, destroy()), so no attempt failed. Runs the policy's functions, guarded: what
 * they throw or return amiss gives `RetryHookError`.
 */
export function decide(state: RetryState, name: string, error: unknown, waiting: boolean, random: () => number = Math.random): Verdict {
  state.errors.push(error);
  if (waiting || neverRetried(error)) return { retry: false, error: annotate(state, error) };
  const policy = state.policy;
  const attempt = state.attempts;
  if (error instanceof WorkerCrashError && error.reason !== 'uncaught-error') {
    state.crashes.push(error);
    if (state.crashes.length >= policy.poisonAfter) return { retry: false, error: new PoisonTaskError(name, [...state.crashes], [...state.errors]) };
  }
  if (attempt >= policy.attempts) return { retry: false, error: annotate(state, error) };
  const retryOn = policy.retryOn;
  if (retryOn === undefined) {
    if (!retriedByDefault(error)) return { retry: false, error: annotate(state, error) };
  } else {
    let answer: unknown;
    try {
      answer = retryOn(error, attempt);
    } catch (cause) {
      return { retry: false, error: new RetryHookError('retryOn', 'threw', [...state.errors], cause) };
    }
    if (typeof answer !== 'boolean') {
      return { retry: false, error: new RetryHookError('retryOn', `returned ${show(answer)}, not a boolean`, [...state.errors]) };
    }
    if (!answer) return { retry: false, error: annotate(state, error) };
  }
  const delay = retryDelay(policy, attempt, error, random);
  if (typeof delay !== 'number') return { retry: false, error: new RetryHookError('backoff', delay.problem, [...state.errors], delay.cause) };
  return { retry: true, delay };
}

/** Schedules a backoff; the handle goes back to `clear`. */
export interface RetryTimers {
  set(fire: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: RetryTimers = {
  set: (fire, ms) => setTimeout(fire, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The timers backoffs wait on (ref'd: a run waiting to retry keeps the process alive, as any pending run). */
export let retryTimers: RetryTimers = realTimers;

/** Test hook, not exported from the package: replaces the backoff timers; `undefined` restores the real ones. */
export function setRetryTimersForTests(timers: RetryTimers | undefined): void {
  retryTimers = timers ?? realTimers;
}
