/**
 * A run's record and its lifecycle: queued → dispatched → settled.
 *
 * {@link Ledger} is the one owner of a task's state, its timer and the counts that depend on them;
 * nothing else writes those fields. The queue owns only its own bookkeeping ({@link QueueEntry}), and
 * the executor only the fields of a {@link Batch}.
 */
import type { TransferListItem } from 'node:worker_threads';
import type { Callbacks, Link } from './callbacks.ts';
import { PoolDestroyedError } from './errors.ts';
import type { RunTraceContext } from './events.ts';
import type { Lane } from './executor.ts';
import type { Metrics } from './metrics.ts';
import type { QueueEntry } from './queue.ts';
import { decide, retryTimers, RetryState, type RetryPolicy } from './retry.ts';
import { Flag } from './worker/protocol.ts';

/** Where a task is. */
export const TaskState = {
  /** Admitted, waiting for a slot (in the queue, or a part in its run's backlog). */
  Queued: 0,
  /** On a thread; for a partitioned run, its parts are out. */
  Dispatched: 1,
  /** Resolved or rejected: nothing changes after this. */
  Settled: 2,
  /** An attempt failed and a retry is due: on its backoff timer, holding no thread and no queue place. */
  Waiting: 3,
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

/** What a task is made from. */
export interface TaskSpec {
  readonly name: string;
  /** The input, or for a chunk the array of its items. */
  readonly input: unknown;
  readonly priority: number;
  readonly signal?: AbortSignal | undefined;
  readonly timeout?: number | undefined;
  readonly transfer?: readonly TransferListItem[] | undefined;
  /** A chunk of `pool.map`: the index of its first item in the map's input. */
  readonly offset?: number | undefined;
  /** A part of a partitioned run: internal, so not counted in the pool's stats (its run is). */
  readonly part?: boolean;
  /** The caller's `onProgress`. */
  readonly onProgress?: ((value: unknown) => unknown) | undefined;
  /** Functions taken out of the input by `proxy` markers (`callbacks.ts`). */
  readonly callbacks?: Callbacks | undefined;
  /** Its retry policy, for a run that may be retried (never a chunk or a part). */
  readonly retry?: RetryPolicy | undefined;
  /**
   * A chunk's map, told of the chunk's failure inside the settle, before the slot it freed is filled:
   * a promise reaction would come after the pool had sent the map's next chunk to that slot.
   */
  readonly onFailure?: ((error: unknown) => void) | undefined;
}

/** A batch of tasks sent to one thread in one message. Its fields belong to the executor. */
export interface Batch {
  readonly id: number;
  /** Its cell in the slots the threads claim (see `worker/protocol.ts`). */
  readonly slot: number;
  readonly tasks: readonly Task[];
  /** Threads that had died when it went to a thread: tells "died before it started" from "never sent". */
  deathsAtSend: number;
  /** Tracked batches only: aborting it makes piscina terminate the thread. */
  readonly controller: AbortController | undefined;
  /** Outcomes received so far, by notice or in the reply. */
  received: number;
  /** piscina's reply is in (notices may still be on their way on the other port). */
  replied: boolean;
  /** Thread running it, once a tracked batch announced its start. */
  thread: number | undefined;
  /** The caller gave up on it (abort, timeout): piscina's rejection that follows is expected. */
  cancelled: boolean;
  /** Why it was cancelled, for the task's `context.signal`. */
  cancelReason: unknown;
  /** Terminates the thread when a cancelled task outlives `abortGrace`. */
  graceTimer: NodeJS.Timeout | undefined;
  /** Thread id it was sent to: by piscina's balancer, or straight to the thread's port. */
  assigned: number | undefined;
  /** The thread it was sent to, as the executor counts its load. */
  lane: Lane | undefined;
  /** Sent straight to its thread's port, not through piscina: its reply is a `Done` notice. */
  direct: boolean;
  /** Its slot is free again (see the executor's `release`). */
  released: boolean;
  /** When it was sent (performance.now()), to tell a request stuck behind a long task. */
  readonly sentAt: number;
  /** Taken back unstarted (see `takeBack` in `worker/protocol.ts`): its tasks went back to the queue. */
  stolen: boolean;
}

/** One accepted run, map chunk or part: its promise, its options, and where it is. */
export class Task implements QueueEntry {
  // Written by PriorityQueue alone (priority too, after construction: see PriorityQueue.raise).
  key = 0;
  seq = 0;
  queued = false;
  priority: number;

  // Written by Ledger alone.
  state: TaskState = TaskState.Queued;
  /** Set while it is on a thread. */
  batch: Batch | undefined = undefined;
  /** Pending timeout, once it started. */
  timer: NodeJS.Timeout | undefined = undefined;
  /** Clears its backoff timer, while it waits to retry. */
  backoff: (() => void) | undefined = undefined;
  /** Times it went back to the queue because its thread died before it started. */
  requeues = 0;
  /** Must travel alone: it may be stopped, it moves buffers, reports progress, has callbacks, is a chunk, or failed to send in a batch. */
  solo: boolean;
  /** Its callbacks' channel while it is on a thread (`callbacks.ts`); closed when it settles or goes back. */
  link: Link | undefined = undefined;
  /** performance.now() when it was admitted, or its backoff ended; and when its attempt left for a thread (counted tasks). */
  queuedAt = 0;
  sentAt = 0;
  /** Its `tessera-pool:run` tracing context, when a tracer listened as it was admitted (`events.ts`). */
  trace: RunTraceContext | undefined = undefined;

  readonly name: string;
  readonly input: unknown;
  readonly signal: AbortSignal | undefined;
  readonly timeout: number | undefined;
  readonly transfer: readonly TransferListItem[] | undefined;
  readonly offset: number | undefined;
  /** Counted in the pool's stats: false for the parts of a partitioned run. */
  readonly counted: boolean;
  /** Has a signal or timeout: it may be stopped on its thread, so it travels alone and announces its start. */
  readonly tracked: boolean;
  readonly onProgress: ((value: unknown) => unknown) | undefined;
  readonly callbacks: Callbacks | undefined;
  /** What its request asks of the thread (`Flag` in `worker/protocol.ts`); non-zero only for solo tasks. */
  readonly flags: number;
  /** Its attempts, when it has a retry policy that allows more than one. */
  readonly retry: RetryState | undefined;
  readonly onFailure: ((error: unknown) => void) | undefined;
  /** Settles with the task's result. */
  readonly promise: Promise<unknown>;
  #resolve!: (value: unknown) => void;
  #reject!: (reason: unknown) => void;

  constructor(spec: TaskSpec) {
    this.name = spec.name;
    this.input = spec.input;
    this.priority = spec.priority;
    this.signal = spec.signal;
    this.timeout = spec.timeout;
    this.transfer = spec.transfer;
    this.offset = spec.offset;
    this.counted = spec.part !== true;
    this.retry = spec.retry === undefined || spec.retry.attempts < 2 ? undefined : new RetryState(spec.retry);
    this.tracked = spec.signal !== undefined || spec.timeout !== undefined;
    this.onProgress = spec.onProgress;
    this.callbacks = spec.callbacks;
    this.onFailure = spec.onFailure;
    this.flags =
      (this.tracked ? Flag.Tracked : 0) | (spec.onProgress !== undefined ? Flag.Progress : 0) | (spec.callbacks !== undefined ? Flag.Callbacks : 0);
    this.solo = this.flags !== 0 || spec.transfer !== undefined || spec.offset !== undefined;
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** For the ledger alone: settles the promise. */
  finish(ok: boolean, value: unknown): void {
    if (ok) this.#resolve(value);
    else this.#reject(value);
  }
}

/** Closes the task's callbacks channel, if open: a pending callback's answer is then dropped. */
function unlink(task: Task): void {
  const link = task.link;
  if (link === undefined) return;
  task.link = undefined;
  link.close();
}

/** What the ledger tells its owner. */
export interface LedgerHooks {
  /** The task settled: release what it held (its signal listener). */
  released(task: Task): void;
  /** No counted task is on a thread any more, or a run waiting to retry settled. */
  drained(): void;
  /** The task's backoff ended: it goes back through the queue. */
  retry(task: Task): void;
}

/** Tasks that may go back to the queue after their thread died before starting them. */
const MAX_REQUEUES = 3;

/**
 * The one owner of every task's state, timer and counts. Every settle of every task goes through
 * {@link settle}, which is what makes "settles exactly once" a property of one function.
 */
export class Ledger {
  /** Counted tasks admitted. */
  accepted = 0;
  /** Counted tasks on threads (a partitioned run counts while its parts are out). */
  running = 0;
  completed = 0;
  failed = 0;
  /** Runs waiting for their backoff to end. */
  retrying = 0;
  /** Retries scheduled since the pool started. */
  retries = 0;
  readonly #waiting = new Set<Task>();
  #disposed = false;
  readonly #hooks: LedgerHooks;
  /** Timings, outcome counts, events (`metrics.ts`): told of counted tasks only. */
  readonly #metrics: Metrics;
  /**
   * Ref'd while a counted task is on a thread. piscina unrefs a thread once its reply is in, but
   * results posted on the thread's other port may still be on their way, and a partitioned run or a
   * map waits on several: without this the process could exit with a caller's promise pending.
   */
  readonly #keepAlive = setInterval(() => {}, 2 ** 30).unref();

  constructor(hooks: LedgerHooks, metrics: Metrics) {
    this.#hooks = hooks;
    this.#metrics = metrics;
  }

  /** A task was admitted. */
  admit(task: Task): void {
    if (!task.counted) return;
    this.accepted++;
    task.queuedAt = performance.now();
    task.trace = this.#metrics.admitted(task);
  }

  /** The task left for a thread in `batch` (with its callbacks' `link`), or (no batch) a partitioned run's parts went out. */
  dispatch(task: Task, batch: Batch | undefined, link?: Link): void {
    task.state = TaskState.Dispatched;
    task.batch = batch;
    task.link = link;
    if (!task.counted) return;
    if (this.running++ === 0) this.#keepAlive.ref();
    task.sentAt = batch === undefined ? performance.now() : batch.sentAt;
    this.#metrics.dispatched(task);
  }

  /**
   * The task's thread died before starting it: it goes back to waiting. Returns false when it has
   * done so too often (the caller then settles it).
   */
  requeue(task: Task, alone: boolean): boolean {
    if (task.state !== TaskState.Dispatched || task.requeues >= MAX_REQUEUES) return false;
    task.requeues++;
    task.state = TaskState.Queued;
    task.batch = undefined;
    unlink(task);
    if (alone) task.solo = true;
    // Back in the queue, so the pool is not idle: nobody to tell.
    if (task.counted) this.#left();
    return true;
  }

  /** The main thread took the task back before any thread started it: it waits again, uncounted as a requeue. */
  recall(task: Task): void {
    if (task.state !== TaskState.Dispatched) return;
    task.state = TaskState.Queued;
    task.batch = undefined;
    unlink(task);
    if (task.counted) this.#left();
  }

  /** Starts the task's timeout; `fire` runs when it passes. */
  startTimer(task: Task, fire: () => void): void {
    if (task.state !== TaskState.Dispatched || task.timer !== undefined) return;
    task.timer = setTimeout(() => {
      task.timer = undefined;
      fire();
    }, task.timeout);
  }

  /**
   * Settles the task once; later calls return false and change nothing. A failure of a run with a
   * retry policy is final only if the policy says so; otherwise the run waits to retry (and this
   * returns false: it has not settled).
   */
  settle(task: Task, ok: boolean, value: unknown): boolean {
    if (task.state === TaskState.Settled) return false;
    const retry = task.retry;
    if (retry !== undefined) {
      const waiting = task.state === TaskState.Waiting;
      if (!ok) {
        const verdict = decide(retry, task.name, value, waiting || this.#disposed);
        // The policy's functions are user code: they may have settled this task (destroy()).
        if ((task.state as TaskState) === TaskState.Settled) return false;
        if (!verdict.retry) value = verdict.error;
        else if (this.#disposed) {
          // destroy() ran inside the policy's functions, after this task had left its thread's books.
          value = new PoolDestroyedError();
        } else {
          this.#wait(task, verdict.delay, value);
          return false;
        }
      }
      if (waiting) {
        this.#stopWaiting(task);
        this.#close(task, false, value);
        // The pool may be idle now.
        this.#hooks.drained();
        return true;
      }
    }
    const wasRunning = task.state === TaskState.Dispatched;
    this.#close(task, ok, value);
    if (task.counted && wasRunning && this.#left()) this.#hooks.drained();
    return true;
  }

  /** The settle itself: counts, releases, then the caller's promise. */
  #close(task: Task, ok: boolean, value: unknown): void {
    const ran = task.state === TaskState.Dispatched;
    task.state = TaskState.Settled;
    if (task.timer !== undefined) {
      clearTimeout(task.timer);
      task.timer = undefined;
    }
    if (task.signal !== undefined) this.#hooks.released(task);
    if (task.link !== undefined) unlink(task);
    if (task.counted) {
      if (ok) this.completed++;
      else this.failed++;
    }
    if (!ok) task.onFailure?.(value);
    // The caller's promise settles before anyone waiting for the pool to drain hears of it (the
    // callers of #close tell them after), so its reactions run first: onIdle() never resolves ahead
    // of a run's own handlers.
    task.finish(ok, value);
    // After the caller's promise settled, so a listener sees the pool's counts with this task in them.
    if (task.counted) this.#metrics.settled(task, ok, value, ran);
  }

  /** An attempt failed (with `error`) and the policy retries it after `delay` ms: off its thread, onto a timer. */
  #wait(task: Task, delay: number, error: unknown): void {
    const wasRunning = task.state === TaskState.Dispatched;
    task.state = TaskState.Waiting;
    task.batch = undefined;
    // The next attempt opens its own callbacks' channel when it is sent.
    if (task.link !== undefined) unlink(task);
    if (task.timer !== undefined) {
      clearTimeout(task.timer);
      task.timer = undefined;
    }
    this.retrying++;
    this.retries++;
    this.#waiting.add(task);
    const timers = retryTimers;
    const handle = timers.set(() => {
      task.backoff = undefined;
      if (task.state !== TaskState.Waiting) return;
      this.#stopWaiting(task);
      task.state = TaskState.Queued;
      task.retry!.attempts++;
      task.queuedAt = performance.now();
      this.#hooks.retry(task);
    }, delay);
    task.backoff = () => timers.clear(handle);
    // Waiting counts as not idle (the pool asks `retrying`), so whoever hears of the drain waits on.
    if (task.counted && wasRunning && this.#left()) this.#hooks.drained();
    if (task.counted) this.#metrics.retried(task, error, delay, wasRunning);
  }

  #stopWaiting(task: Task): void {
    if (task.backoff !== undefined) {
      task.backoff();
      task.backoff = undefined;
    }
    this.#waiting.delete(task);
    this.retrying--;
  }

  /** Runs waiting to retry (destroy() rejects them). */
  waitingTasks(): Task[] {
    return [...this.#waiting];
  }

  /** A counted task left its thread; true when none is left. */
  #left(): boolean {
    if (--this.running > 0) return false;
    this.#keepAlive.unref();
    return true;
  }

  /** Stops holding the process open; no failure is retried after this. */
  dispose(): void {
    this.#disposed = true;
    clearInterval(this.#keepAlive);
  }
}
