/**
 * What a pool records about itself for `stats()`, `pool.events`, the diagnostics channels and the
 * Prometheus entry: per task name, outcome counts and wait/run histograms; busy slot time (thread
 * utilization); settles (throughput); the main thread's event-loop delay and utilization while the
 * pool is open.
 *
 * The ledger calls in at admit, dispatch, retry and settle (`task.ts`), the executor as threads
 * start and exit and as slots fill and free (`executor.ts`). Recording is a few additions and one
 * `Math.log2` per histogram; events and channels are built only while someone listens.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { AbortError, TaskTimeoutError } from './errors.ts';
import {
  dispatchChannel,
  PoolEvents,
  runChannel,
  threadExitChannel,
  threadRecycleChannel,
  threadStartChannel,
  tracingRuns,
  type RunTraceContext,
  type TaskOutcome,
  type ThreadExitReason,
} from './events.ts';
import { Histogram, type DurationSummary } from './histogram.ts';
import type { PoolStats } from './pool.ts';
import type { Task } from './task.ts';

/** A task name's settles by outcome, and its retries. */
export interface TaskCounts {
  completed: number;
  failed: number;
  /** Rejected with `AbortError` (its signal, or a map that stopped). */
  aborted: number;
  /** Rejected with `TaskTimeoutError`. */
  timedOut: number;
  /** Retries scheduled (a run that ran three times counts 2 here, and one outcome). */
  retried: number;
}

/** Thread exits since the pool started, by reason. */
export type ThreadExits = Record<ThreadExitReason, number>;

/** The main thread's event loop, over a window. */
export interface EventLoopStats {
  /** Event-loop delay in ms: `perf_hooks.monitorEventLoopDelay`'s samples (every 20 ms) less those 20 ms. */
  delay: DurationSummary;
  /** Share of the window the event loop was busy, 0 to 1 (`performance.eventLoopUtilization`). */
  utilization: number;
}

/** What a window of time saw (see {@link Metrics.read}). */
export interface WindowStats {
  /** Tasks settled per second. */
  throughput: number;
  /** Busy share of the pool's run slots (`maxThreads × concurrentTasksPerWorker`), 0 to 1. */
  utilization: number;
  eventLoop: EventLoopStats;
}

/** Task names recorded apart; past this many, the rest share one record (names come from the module, so this is a guard). */
export const MAX_NAMES = 1_024;
/** Where names past {@link MAX_NAMES} are counted. */
export const OTHER_NAMES = '(other)';
/** Event-loop delay sampling, ms: fine enough to see a 20 ms stall, cheap enough to leave on. */
const DELAY_RESOLUTION_MS = 20;

/** One task name's record. */
export class NameRecord {
  readonly counts: TaskCounts = { completed: 0, failed: 0, aborted: 0, timedOut: 0, retried: 0 };
  /** Admission (or end of backoff) to dispatch, per attempt that ran. */
  readonly wait = new Histogram();
  /** Dispatch to settle, per attempt that ran. */
  readonly run = new Histogram();
}

/** A reader's place in time: each reader (`stats()`, a Prometheus registration) keeps its own. */
export class Window {
  at = performance.now();
  settled: number;
  busy: number;
  elu: EventLoopUtilization = performance.eventLoopUtilization();
  readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });

  constructor(settled: number, busy: number) {
    this.settled = settled;
    this.busy = busy;
  }
}

function outcomeOf(ok: boolean, error: unknown): TaskOutcome {
  if (ok) return 'completed';
  // The error may be a user's value (a partition's merge threw it): a Proxy can throw on instanceof.
  try {
    if (error instanceof TaskTimeoutError) return 'timedOut';
    if (error instanceof AbortError) return 'aborted';
  } catch {
    // counted as failed
  }
  return 'failed';
}

/**
 * Node's samples are the intervals between the monitor's timer ticks, so an idle loop reads about the
 * resolution: what is left after it is the delay.
 */
function delaySummary(histogram: IntervalHistogram): DurationSummary {
  const count = histogram.count;
  if (count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - DELAY_RESOLUTION_MS);
  return {
    count,
    min: ms(histogram.min),
    mean: ms(histogram.mean),
    p50: ms(histogram.percentile(50)),
    p90: ms(histogram.percentile(90)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
  };
}

/** What this file adds to `stats()`. */
export type ObservedStats = WindowStats & { waitTime: DurationSummary; runTime: DurationSummary; tasks: Record<string, TaskCounts>; threadExits: ThreadExits };

/** The pool's counts that `stats()` reports beside these. */
export type PoolCounts = Omit<PoolStats, keyof ObservedStats>;

export class Metrics {
  readonly events = new PoolEvents();
  /** The pool's counts, read without moving any window. */
  readonly counts: () => PoolCounts;
  readonly #pool: object;
  readonly #names = new Map<string, NameRecord>();
  readonly #exits: ThreadExits = { idle: 0, retire: 0, crash: 0, cancel: 0, close: 0 };
  /** Run slots: the busy share is of these. */
  readonly #slots: number;
  /** Tasks settled since the pool started. */
  #settled = 0;
  /** Slot-milliseconds spent busy, up to `#since`. */
  #busy = 0;
  #inFlight = 0;
  #since = performance.now();
  readonly #windows = new Set<Window>();
  #open = true;
  /** `stats()`'s window. */
  readonly #own: Window;

  constructor(pool: object, slots: number, counts: () => PoolCounts) {
    this.#pool = pool;
    this.counts = counts;
    this.#slots = slots;
    this.#own = this.window();
  }

  /** Counted task names seen so far, with their records. */
  get names(): ReadonlyMap<string, NameRecord> {
    return this.#names;
  }

  get threadExits(): Readonly<ThreadExits> {
    return this.#exits;
  }

  #record(name: string): NameRecord {
    let record = this.#names.get(name);
    if (record === undefined) {
      if (this.#names.size >= MAX_NAMES) name = OTHER_NAMES;
      record = this.#names.get(name) ?? new NameRecord();
      this.#names.set(name, record);
    }
    return record;
  }

  /** A counted task was admitted (in the caller's call): its trace context, when a tracer listens. */
  admitted(task: Task): RunTraceContext | undefined {
    if (!tracingRuns()) return undefined;
    const context: RunTraceContext = { pool: this.#pool, name: task.name, priority: task.priority, chunk: task.offset !== undefined };
    runChannel.start.publish(context);
    runChannel.end.publish(context);
    return context;
  }

  /** A counted task left for a thread. */
  dispatched(task: Task): void {
    const trace = task.trace;
    if (trace !== undefined && dispatchChannel.hasSubscribers) {
      trace.waitMs = task.sentAt - task.queuedAt;
      dispatchChannel.publish(trace);
    }
    if (this.events.watching) {
      const event = { name: task.name, waitMs: task.sentAt - task.queuedAt, attempt: task.retry?.attempts ?? 1 };
      // Told a moment later: the executor is mid-send, and a listener may call into the pool.
      queueMicrotask(() => this.events.tell('taskDispatch', event));
    }
  }

  /** An attempt of a counted task failed and waits `delay` ms to run again; `ran`: it was on a thread. */
  retried(task: Task, error: unknown, delay: number, ran: boolean): void {
    const record = this.#record(task.name);
    record.counts.retried++;
    if (ran) this.#timed(record, task, performance.now());
    if (this.events.watching) this.events.tell('taskRetry', { name: task.name, attempt: task.retry?.attempts ?? 1, delayMs: delay, error });
  }

  /** A counted task settled; `ran`: it settled from a thread (not from the queue, nor a backoff). */
  settled(task: Task, ok: boolean, value: unknown, ran: boolean): void {
    const now = performance.now();
    this.#settled++;
    const record = this.#record(task.name);
    const outcome = outcomeOf(ok, value);
    record.counts[outcome]++;
    if (ran) this.#timed(record, task, now);
    const trace = task.trace;
    if (trace !== undefined) {
      if (ok) trace.result = value;
      else {
        trace.error = value;
        runChannel.error.publish(trace);
      }
      runChannel.asyncStart.publish(trace);
      runChannel.asyncEnd.publish(trace);
    }
    if (this.events.watching) {
      this.events.tell('taskSettle', {
        name: task.name,
        outcome,
        waitMs: ran ? task.sentAt - task.queuedAt : undefined,
        runMs: ran ? now - task.sentAt : undefined,
        error: ok ? undefined : value,
      });
    }
  }

  #timed(record: NameRecord, task: Task, now: number): void {
    record.wait.record(task.sentAt - task.queuedAt);
    record.run.record(now - task.sentAt);
  }

  /** Batches on threads changed to `inFlight`: busy slot time accrues by the level it had. */
  slots(inFlight: number, now = performance.now()): void {
    this.#busy += Math.min(this.#inFlight, this.#slots) * (now - this.#since);
    this.#since = now;
    this.#inFlight = inFlight;
  }

  threadStarted(threadId: number): void {
    if (threadStartChannel.hasSubscribers) threadStartChannel.publish({ pool: this.#pool, threadId });
    this.events.tell('threadStart', { threadId });
  }

  threadRecycling(threadId: number): void {
    if (threadRecycleChannel.hasSubscribers) threadRecycleChannel.publish({ pool: this.#pool, threadId });
    this.events.tell('threadRecycle', { threadId });
  }

  threadExited(threadId: number, reason: ThreadExitReason, exitCode: number): void {
    this.#exits[reason]++;
    if (threadExitChannel.hasSubscribers) threadExitChannel.publish({ pool: this.#pool, threadId, reason, exitCode });
    this.events.tell('threadExit', { threadId, reason, exitCode });
  }

  /** Wait and run times over every task name. */
  durations(): { wait: Histogram; run: Histogram } {
    const wait = new Histogram();
    const run = new Histogram();
    for (const record of this.#names.values()) {
      wait.add(record.wait);
      run.add(record.run);
    }
    return { wait, run };
  }

  /** What `stats()` adds to the pool's counts; moves `stats()`'s window to now. */
  snapshot(): ObservedStats {
    const { wait, run } = this.durations();
    const tasks: Record<string, TaskCounts> = {};
    for (const [name, record] of this.#names) {
      // defineProperty: a task named `__proto__` is a key like any other.
      Object.defineProperty(tasks, name, { value: { ...record.counts }, enumerable: true, writable: true, configurable: true });
    }
    return { waitTime: wait.summary(), runTime: run.summary(), ...this.read(), tasks, threadExits: { ...this.#exits } };
  }

  /** A new reader's window, starting now. Release it with {@link release} when done. */
  window(): Window {
    const window = new Window(this.#settled, this.#busyNow(performance.now()));
    if (this.#open) window.delay.enable();
    this.#windows.add(window);
    return window;
  }

  release(window: Window): void {
    window.delay.disable();
    this.#windows.delete(window);
  }

  #busyNow(now: number): number {
    return this.#busy + Math.min(this.#inFlight, this.#slots) * (now - this.#since);
  }

  /** What happened since `window`'s previous read (or its start), then moves it to now. `stats()` reads its own. */
  read(window: Window = this.#own): WindowStats {
    const now = performance.now();
    const seconds = (now - window.at) / 1000;
    const busy = this.#busyNow(now);
    const elu = performance.eventLoopUtilization();
    const loop = performance.eventLoopUtilization(elu, window.elu);
    const stats: WindowStats = {
      throughput: seconds > 0 ? (this.#settled - window.settled) / seconds : 0,
      utilization: seconds > 0 ? Math.min(1, (busy - window.busy) / (seconds * 1000 * this.#slots)) : 0,
      eventLoop: { delay: delaySummary(window.delay), utilization: Number.isFinite(loop.utilization) ? loop.utilization : 0 },
    };
    window.at = now;
    window.settled = this.#settled;
    window.busy = busy;
    window.elu = elu;
    window.delay.reset();
    return stats;
  }

  /** The pool closed or was destroyed: event-loop monitoring stops (nothing is left running). */
  stop(): void {
    this.#open = false;
    for (const window of this.#windows) window.delay.disable();
  }
}

/** Each pool's recorder, for the Prometheus entry (`tessera-pool/metrics`), which has only the pool. */
const recorders = new WeakMap<object, Metrics>();

export function bindMetrics(pool: object, metrics: Metrics): void {
  recorders.set(pool, metrics);
}

export function metricsOf(pool: object): Metrics | undefined {
  return recorders.get(pool);
}
