import type { TransferListItem } from 'node:worker_threads';
/**
 * The pool users hold: checks each run, admits it through the priority queue, hands queued tasks to
 * the executor in batches as slots free up, and owns the lifecycle (close, destroy).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  AbortError,
  ModuleLoadError,
  ModuleNotFoundError,
  PoolClosedError,
  PoolDestroyedError,
  QueueFullError,
  TaskTimeoutError,
  UnknownTaskError,
} from './errors.ts';
import { Executor, type ExecutorHost } from './executor.ts';
import { checkRunOptions, resolvePoolOptions, type PoolOptions, type ResolvedPoolOptions, type RunOptions } from './options.ts';
import { PriorityQueue } from './queue.ts';
import { Task } from './task.ts';
import type { AnyTaskModule, RunArgs, TaskInput, TaskName, TaskResult } from './types.ts';
import { checkMapOptions, checkPartitions, mapArray, mapStream, type ChunkSubmitter, type MapOptions, type Partitioner, type Partitions } from './partition.ts';

/** A snapshot of what the pool is doing. */
export interface PoolStats {
  /** Threads alive. */
  threads: number;
  /** Threads with nothing to run. */
  idleThreads: number;
  /** Tasks waiting for a thread. */
  queued: number;
  /** Waiting tasks counted by priority. */
  queuedByPriority: Record<string, number>;
  /** Tasks on a thread whose callers are still waiting. */
  running: number;
  /** Tasks resolved since the pool started. */
  completed: number;
  /** Tasks rejected since the pool started (thrown, crashed, timed out, aborted, destroyed). */
  failed: number;
}

const enum State {
  Open,
  Closing,
  Closed,
  Destroyed,
}

export class Pool<M extends object = AnyTaskModule> implements AsyncDisposable {
  readonly #options: ResolvedPoolOptions;
  readonly #queue: PriorityQueue<Task>;
  readonly #executor: Executor;
  readonly #ready: Promise<readonly string[]>;
  #names: ReadonlySet<string> | undefined;
  #loadError: ModuleLoadError | undefined;
  #state = State.Open;
  #running = 0;
  #completed = 0;
  #failed = 0;
  #idleWaiters: Array<() => void> = [];
  #capacityWaiters: Array<() => void> = [];
  /** Signals being listened to, with the unsettled tasks that carry them. */
  readonly #watched = new WeakMap<AbortSignal, { tasks: Set<Task>; onAbort: () => void }>();
  /** Parts of partitioned runs, admitted and waiting for a slot. */
  readonly #backlog: Task[] = [];
  readonly #partitions: ReadonlyMap<string, Partitioner> | undefined;
  #closing: Promise<void> | undefined;
  #destroying: Promise<void> | undefined;

  constructor(options: PoolOptions & { partitions?: Partitions<M> }) {
    const resolved = resolvePoolOptions(options);
    if (resolved.module.protocol === 'file:' && !existsSync(fileURLToPath(resolved.module))) {
      throw new ModuleNotFoundError(resolved.module.href);
    }
    this.#options = resolved;
    this.#partitions = checkPartitions(options.partitions);
    this.#queue = new PriorityQueue(resolved.maxQueue, resolved.priorityAging);
    const host: ExecutorHost = {
      settle: (task, ok, value) => this.#settle(task, ok, value),
      requeue: (tasks) => {
        for (const task of tasks) {
          this.#running--;
          this.#queue.restore(task);
        }
      },
      slotFreed: () => this.#pump(),
      timedOut: (task) => {
        task.timer = undefined;
        const error = new TaskTimeoutError(task.timeout!);
        this.#settle(task, false, error);
        this.#executor.cancel(task, error);
      },
    };
    this.#executor = new Executor(resolved, host);
    this.#ready = this.#executor.manifest().then(
      (names) => {
        this.#names = new Set(names);
        return names;
      },
      (error: unknown) => {
        if (error instanceof ModuleLoadError) this.#loadError = error;
        throw error;
      },
    );
    // ready() hands this promise out; a pool nobody asks must not raise an unhandled rejection.
    this.#ready.catch(() => {});
  }

  /**
   * Runs task `name` of the module with `input` on a worker thread. Never throws: every problem,
   * bad arguments included, is a rejection with a typed error.
   */
  run<K extends TaskName<M>>(name: K, ...args: RunArgs<M, K>): Promise<TaskResult<M, K>>;
  run(name: string, input?: unknown, options?: RunOptions): Promise<unknown> {
    let priority = 0;
    let signal: AbortSignal | undefined;
    let timeout: number | undefined;
    let transfer: readonly TransferListItem[] | undefined;
    if (options !== undefined) {
      try {
        checkRunOptions(options);
      } catch (error) {
        return Promise.reject(error);
      }
      priority = options.priority ?? 0;
      signal = options.signal;
      timeout = options.timeout;
      transfer = options.transfer;
    }
    const task = this.#admit(name, input, priority, signal, timeout, transfer, -1);
    return task instanceof Task ? task.promise : Promise.reject(task);
  }

  /**
   * Runs task `name` once per item, carrying many items per message, and gives the results in input
   * order: an array for an array, an async iterable for any other iterable or async iterable (read
   * with bounded read-ahead, so a stream of any length runs in flat memory). The first failing item
   * rejects with `MapItemError` (its `index` and the task's error as `cause`) and cancels the chunks
   * that have not started. `priority`, `signal` and `timeout` (per chunk) apply as in `run`.
   */
  map<K extends TaskName<M>>(name: K, items: readonly TaskInput<M, K>[], options?: MapOptions): Promise<TaskResult<M, K>[]>;
  map<K extends TaskName<M>>(
    name: K,
    items: Iterable<TaskInput<M, K>> | AsyncIterable<TaskInput<M, K>>,
    options?: MapOptions,
  ): AsyncIterable<TaskResult<M, K>>;
  map(name: string, items: Iterable<unknown> | AsyncIterable<unknown>, options: MapOptions = {}): Promise<unknown[]> | AsyncIterable<unknown> {
    const settings = checkMapOptions(options);
    const submitter: ChunkSubmitter = {
      capacity: this.#executor.capacity,
      submit: (chunk, offset) => this.#admit(name, chunk, settings.priority, options.signal, options.timeout, undefined, offset),
      cancel: (task) => {
        if (this.#queue.remove(task)) {
          this.#settle(task, false, new AbortError('map cancelled'));
          if (this.#capacityWaiters.length > 0) this.#wakeProducers();
        }
      },
    };
    if (Array.isArray(items)) {
      // Problems known at once (closed pool, bad options) reject the promise rather than throw.
      if (settings.error) return Promise.reject(settings.error);
      return mapArray(submitter, items, settings);
    }
    return mapStream(submitter, items, settings);
  }

  /**
   * Admits one task (a run, or a chunk of a map when `offset >= 0`). Returns the task, or the error
   * to reject with. Map chunks skip the `maxQueue` check: a map bounds its own read-ahead.
   */
  #admit(
    name: string,
    input: unknown,
    priority: number,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    transfer: readonly TransferListItem[] | undefined,
    offset: number,
  ): Task | Error {
    if (this.#state !== State.Open) return this.#state === State.Destroyed ? new PoolDestroyedError() : new PoolClosedError();
    if (signal?.aborted) return new AbortError(signal.reason);
    if (this.#loadError !== undefined) return new ModuleLoadError(this.#options.module.href, this.#loadError.cause);
    if (this.#names !== undefined && !this.#names.has(name)) return new UnknownTaskError(String(name), [...this.#names]);
    const queue = this.#queue;
    const direct = queue.size === 0 && this.#backlog.length === 0 && this.#executor.free > 0;
    if (!direct && offset < 0 && queue.isFull) return new QueueFullError(queue.capacity);

    const task = new Task(name, input, priority, signal, timeout, transfer, offset);
    if (this.#partitions !== undefined && offset < 0) task.partitioner = this.#partitions.get(name);
    if (signal !== undefined) {
      this.#watch(task, signal);
    }
    if (!direct) queue.push(task);
    else if (task.partitioner === undefined) this.#dispatch([task]);
    else {
      this.#expand(task);
      this.#pump();
    }
    return task;
  }

  /** Resolves with the module's task names once a thread has loaded it; rejects with `ModuleLoadError`. */
  ready(): Promise<readonly string[]> {
    return this.#ready;
  }

  /** Resolves when a `run` would be admitted without `QueueFullError` (back-pressure without polling). */
  waitForCapacity(): Promise<void> {
    if (this.#state !== State.Open || this.#room() > 0) return Promise.resolve();
    return new Promise((resolve) => this.#capacityWaiters.push(resolve));
  }

  /** How many runs would be admitted now: free queue places, or free slots while nothing waits. */
  #room(): number {
    const queue = this.#queue;
    const direct = queue.size === 0 && this.#backlog.length === 0 ? this.#executor.free : 0;
    return Math.max(0, queue.capacity - queue.size) + direct;
  }

  /** Wakes one capacity waiter per place, so a crowd of producers does not rush one place. */
  #wakeProducers(): void {
    let room = this.#room();
    while (room-- > 0 && this.#capacityWaiters.length > 0) this.#capacityWaiters.shift()!();
  }

  #wakeAllProducers(): void {
    const waiters = this.#capacityWaiters;
    this.#capacityWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Resolves when nothing is queued or running. */
  onIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stats(): PoolStats {
    const threads = this.#executor.threads;
    const busy = Math.min(threads, Math.ceil(this.#executor.inFlight / this.#options.concurrentTasksPerWorker));
    return {
      threads,
      idleThreads: threads - busy,
      queued: this.#queue.size,
      queuedByPriority: Object.fromEntries(this.#queue.countByPriority()),
      running: this.#running,
      completed: this.#completed,
      failed: this.#failed,
    };
  }

  /** Stops admitting (new runs reject with `PoolClosedError`), finishes what was accepted, then stops the threads. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#state === State.Destroyed) return this.#destroying ?? Promise.resolve();
    this.#state = State.Closing;
    this.#wakeAllProducers();
    this.#closing = this.onIdle().then(async () => {
      if (this.#state === State.Closing) {
        this.#state = State.Closed;
        await this.#executor.destroy();
      }
    });
    return this.#closing;
  }

  /** Rejects every queued and running task with `PoolDestroyedError` and stops every thread. */
  destroy(): Promise<void> {
    if (this.#destroying) return this.#destroying;
    this.#state = State.Destroyed;
    const error = new PoolDestroyedError();
    for (const task of this.#queue.drain()) this.#settle(task, false, error);
    for (const task of this.#backlog.splice(0)) this.#settle(task, false, error);
    for (const task of this.#executor.pendingTasks()) this.#settle(task, false, error);
    this.#wakeAllProducers();
    this.#destroying = this.#executor.destroy();
    this.#resolveIdle();
    return this.#destroying;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #dispatch(tasks: Task[]): void {
    this.#running += tasks.length;
    const first = tasks[0]!;
    this.#executor.send(tasks, first.signal !== undefined || first.timeout !== undefined);
  }

  /** Fills free slots from the queue, batching when the queue is deep. */
  #pump(): void {
    const queue = this.#queue;
    const executor = this.#executor;
    const backlog = this.#backlog;
    // Parts of a partitioned run were admitted with it: they go before anything still queued.
    while (executor.free > 0 && backlog.length > 0) this.#dispatch([backlog.shift()!]);
    while (executor.free > 0 && queue.size > 0) {
      const first = queue.pop()!;
      if (first.partitioner !== undefined) {
        this.#expand(first);
        while (executor.free > 0 && backlog.length > 0) this.#dispatch([backlog.shift()!]);
        continue;
      }
      const size = first.solo ? 1 : executor.sizer.next(queue.size + 1, executor.capacity);
      const tasks = [first];
      while (tasks.length < size) {
        const next = queue.peek();
        if (next === undefined || next.solo || next.partitioner !== undefined) break;
        tasks.push(queue.pop()!);
      }
      this.#dispatch(tasks);
    }
    if (this.#capacityWaiters.length > 0) this.#wakeProducers();
    if (this.#idleWaiters.length > 0 && this.#isIdle()) this.#resolveIdle();
  }

  #isIdle(): boolean {
    return this.#queue.size === 0 && this.#backlog.length === 0 && this.#executor.inFlight === 0;
  }

  /**
   * Fans a partitioned run out: its input is split into one part per free slot (at least one), the
   * parts run as tasks with the run's priority, signal and timeout, and their results merge into
   * the run's result. The first failing part rejects the run and drops the parts not yet started.
   */
  #expand(parent: Task): void {
    const partitioner = parent.partitioner!;
    let inputs: unknown[];
    try {
      inputs = partitioner.split(parent.input, Math.max(1, this.#executor.free));
      if (!Array.isArray(inputs)) throw new TypeError(`The split of task \`${parent.name}\` must return an array of part inputs.`);
    } catch (error) {
      this.#settle(parent, false, error);
      return;
    }
    const partTask = partitioner.task ?? parent.name;
    const parts = inputs.map((input) => new Task(partTask, input, parent.priority, parent.signal, parent.timeout, undefined, -1));
    const results = new Array<unknown>(parts.length);
    let left = parts.length;
    const finish = (): void => {
      try {
        this.#settle(parent, true, partitioner.merge(results, parent.input, inputs));
      } catch (error) {
        this.#settle(parent, false, error);
      }
    };
    if (left === 0) return finish();
    parts.forEach((part, i) => {
      if (part.signal !== undefined) {
        this.#watch(part, part.signal);
      }
      part.promise.then(
        (value) => {
          results[i] = value;
          if (--left === 0 && !parent.settled) finish();
        },
        (error: unknown) => {
          if (parent.settled) return;
          this.#settle(parent, false, error);
          for (const other of parts) {
            const at = this.#backlog.indexOf(other);
            if (at >= 0) {
              this.#backlog.splice(at, 1);
              this.#settle(other, false, error);
            }
          }
        },
      );
      this.#backlog.push(part);
    });
  }

  #resolveIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #abort(task: Task): void {
    if (task.settled) return;
    const reason = task.signal!.reason;
    if (this.#queue.remove(task)) {
      this.#settle(task, false, new AbortError(reason));
      if (this.#capacityWaiters.length > 0) this.#wakeProducers();
      if (this.#idleWaiters.length > 0 && this.#isIdle()) this.#resolveIdle();
      return;
    }
    this.#settle(task, false, new AbortError(reason));
    this.#executor.cancel(task, reason);
  }

  /**
   * One abort listener per signal, however many tasks share it (a request's signal across its
   * sub-tasks, a map's chunks): a listener per task would trip Node's MaxListenersExceededWarning
   * at 11 and cost an EventTarget insertion each.
   */
  #watch(task: Task, signal: AbortSignal): void {
    let watched = this.#watched.get(signal);
    if (watched === undefined) {
      const tasks = new Set<Task>();
      const onAbort = (): void => {
        this.#watched.delete(signal);
        for (const t of tasks) this.#abort(t);
      };
      watched = { tasks, onAbort };
      this.#watched.set(signal, watched);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    watched.tasks.add(task);
  }

  #unwatch(task: Task, signal: AbortSignal): void {
    const watched = this.#watched.get(signal);
    if (watched === undefined || !watched.tasks.delete(task) || watched.tasks.size > 0) return;
    this.#watched.delete(signal);
    signal.removeEventListener('abort', watched.onAbort);
  }

  #settle(task: Task, ok: boolean, value: unknown): void {
    if (task.settled) return;
    task.settled = true;
    if (task.batch !== undefined) this.#running--;
    if (task.timer !== undefined) clearTimeout(task.timer);
    if (task.signal !== undefined) this.#unwatch(task, task.signal);
    if (ok) {
      this.#completed++;
      task.resolve(value);
    } else {
      this.#failed++;
      task.reject(value);
    }
  }
}

/** Creates a pool of worker threads running the tasks that `options.module` exports. */
export function createPool<M extends object = AnyTaskModule>(options: PoolOptions & { partitions?: Partitions<M> }): Pool<M> {
  return new Pool<M>(options);
}
