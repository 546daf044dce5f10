/**
 * The pool users hold: a thin facade that checks each run, admits it through the priority queue,
 * hands queued tasks to the executor in batches as slots free up, and owns the lifecycle (close,
 * destroy). A task's state and the counts belong to the ledger (`task.ts`); signals to `abort.ts`;
 * partitioned runs to `partition.ts`; maps to `map.ts`; keyed runs' sharers and kept results to
 * `idempotency.ts`; runs behind their ordering key to `ordering.ts`; delayed runs to `delay.ts`;
 * schedules to `cron.ts`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAborted, reasonOf, SignalWatch } from './abort.ts';
import { callbacksInUse, takeCallbacks } from './callbacks.ts';
import { checkScheduleOptions, parsePattern, Schedule, type ScheduleHandle, type ScheduleOptions } from './cron.ts';
import { DelayedRuns } from './delay.ts';
import { DueTimers } from './due-timers.ts';
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
import type { PoolEvents } from './events.ts';
import { Executor } from './executor.ts';
import { runFlow, type Flow, type FlowArgs, type FlowReport } from './flow.ts';
import type { DurationSummary } from './histogram.ts';
import { Execution, KeyRegistry } from './idempotency.ts';
import { bindMetrics, Metrics, type EventLoopStats, type PoolCounts, type TaskCounts, type ThreadExits } from './metrics.ts';
import { mapArray, mapStream, checkMapOptions, type MapOptions, type MapSettings } from './map.ts';
import { runBatch, type BatchOptions, type BatchResult, type RunSubmitter } from './batch.ts';
import { runPipeline, type PipelineOptions, type PipelineResult, type PipelineStage } from './pipeline.ts';
import { OrderedTask, OrderingLines } from './ordering.ts';
import { checkRunOptions, noRunOptions, readOption, resolvePoolOptions, type PoolOptions, type RateLimits, type ResolvedPoolOptions, type RunOptions, type RunSettings } from './options.ts';
import { checkPartitions, FanOut, type Partitions } from './partition.ts';
import { PriorityQueue } from './queue.ts';
import { RateLimiter } from './rate-limit.ts';
import { Ledger, Task, TaskState, type TaskSpec } from './task.ts';
import type { AnyTaskModule, RunArgs, TaskInput, TaskName, TaskResult } from './types.ts';
import { describeValue } from './worker/wire-error.ts';

/** A snapshot of what the pool is doing. */
export interface PoolStats {
  /** Threads alive. */
  threads: number;
  /** Threads with nothing to run. */
  idleThreads: number;
  /** Tasks waiting for a thread (runs behind their ordering key included). */
  queued: number;
  /** Waiting tasks counted by priority. */
  queuedByPriority: Record<string, number>;
  /** Of `queued`, the tasks a rate limit holds back: over their name's limit, or all while the pool-wide (`'*'`) one is. */
  rateLimited: number;
  /** Of `queued`, the runs waiting behind an earlier run of their `orderingKey`. */
  ordered: number;
  /** Runs held by `delay` or `runAt`, not due yet: accepted, but holding no thread and no queue place. */
  delayed: number;
  /** Tasks on threads whose callers are still waiting (a partitioned run counts once). */
  running: number;
  /** Tasks admitted since the pool started: each accepted `run`, and each chunk of a `map`. */
  accepted: number;
  /** Tasks resolved since the pool started. */
  completed: number;
  /** Tasks rejected after they were accepted (thrown, crashed, timed out, aborted, destroyed). */
  failed: number;
  /** Runs waiting for their retry's backoff to end: on a timer, holding no thread and no queue place. */
  retrying: number;
  /** Retries scheduled since the pool started (a run that failed and ran again counts once per retry). */
  retries: number;
  /**
   * Keyed runs that did not run: they joined a run with the same name and key that was queued or
   * running, or got its kept result. Not counted in `accepted`, `completed` or `failed`, which count
   * the execution they shared once.
   */
  shared: number;
  /**
   * Threads retired since the pool started because they reached `maxTasksPerThread` or
   * `maxHeapPerThreadMb` (each replaced by a fresh one). Threads that died are not counted here.
   */
  retired: number;
  /** Milliseconds from admission (or a retry's end of backoff) to dispatch, of every attempt that ran, since the pool started. */
  waitTime: DurationSummary;
  /** Milliseconds from dispatch to settle of every attempt that ran, since the pool started. */
  runTime: DurationSummary;
  /** Tasks settled per second since the previous `stats()` call (or since the pool started). */
  throughput: number;
  /** Busy share of the run slots (`maxThreads × concurrentTasksPerWorker`), 0 to 1, since the previous `stats()` call. */
  utilization: number;
  /** Per task name (map chunks count one each): settles by outcome, and retries, since the pool started. */
  tasks: Record<string, TaskCounts>;
  /** Threads that exited since the pool started, by reason. */
  threadExits: ThreadExits;
  /** The main thread's event-loop delay and utilization since the previous `stats()` call, measured while the pool is open. */
  eventLoop: EventLoopStats;
}

/** `createPool`'s options: the limits and partitioners are keyed by the module's task names. */
type TypedPoolOptions<M> = Omit<PoolOptions, 'rateLimits'> & { partitions?: Partitions<M>; rateLimits?: RateLimits<M> };

const State = {
  Open: 0,
  Closing: 1,
  Closed: 2,
  Destroyed: 3,
} as const;
type State = (typeof State)[keyof typeof State];

export class Pool<M extends object = AnyTaskModule> implements AsyncDisposable {
  readonly #options: ResolvedPoolOptions;
  readonly #queue: PriorityQueue<Task>;
  readonly #ledger: Ledger;
  readonly #signals: SignalWatch<Task>;
  readonly #executor: Executor;
  readonly #fanOut: FanOut | undefined;
  readonly #keys: KeyRegistry;
  /** Only when `rateLimits` is set: without it, admission and dispatch pay an `undefined` check (per run, per batch). */
  readonly #limiter: RateLimiter | undefined;
  /** Set when the pool has a `retry` or `retries` option; without them, admission pays one check. */
  readonly #retryDefaults: true | undefined;
  readonly #ready: Promise<readonly string[]>;
  readonly #metrics: Metrics;
  #names: ReadonlySet<string> | undefined;
  #loadError: ModuleLoadError | undefined;
  #state: State = State.Open;
  #idleWaiters: Array<() => void> = [];
  #capacityWaiters: Array<() => void> = [];
  #recheckQueued = false;
  /** Maps in progress, with whether they are finite: destroying the pool stops them, closing it the endless ones. */
  readonly #maps = new Map<(error: Error) => void, boolean>();
  /** Maps of arrays in progress: close() waits for them, as for any accepted run. */
  #finiteMaps = 0;
  #closing: Promise<void> | undefined;
  #destroying: Promise<void> | undefined;
  /** Deadlines of delayed runs and schedules: one timer for all of them. */
  readonly #timers = new DueTimers();
  /** Made with the first delayed run: without one, admission pays an `undefined` check. */
  #delayed: DelayedRuns | undefined;
  /** Made with the first run that has an `orderingKey`. */
  #lines: OrderingLines | undefined;
  readonly #schedules = new Set<Schedule>();

  constructor(options: TypedPoolOptions<M>) {
    const resolved = resolvePoolOptions(options);
    if (resolved.module.protocol === 'file:' && !existsSync(fileURLToPath(resolved.module))) {
      throw new ModuleNotFoundError(resolved.module.href);
    }
    this.#options = resolved;
    this.#retryDefaults = resolved.retry !== undefined || resolved.retries !== undefined ? true : undefined;
    const partitions = checkPartitions(readOption(options, 'partitions'));
    this.#queue = new PriorityQueue(resolved.maxQueue, resolved.priorityAging);
    this.#signals = new SignalWatch<Task>((task, reason) => this.#abort(task, reason));
    this.#keys = new KeyRegistry(resolved.maxKeys, (task, priority) => this.#queue.raise(task, priority));
    this.#metrics = new Metrics(this, resolved.maxThreads * resolved.concurrentTasksPerWorker, () => this.#counts());
    bindMetrics(this, this.#metrics);
    this.#ledger = new Ledger({
      released: (task) => this.#signals.release(task),
      drained: () => {
        if (this.#idleWaiters.length > 0 && this.#isIdle()) this.#resolveIdle();
      },
      retry: (task) => this.#retry(task),
    }, this.#metrics);
    this.#executor = new Executor(
      resolved,
      {
        requeue: (tasks) => {
          for (const task of tasks) {
            if (task.counted) this.#queue.restore(task);
          }
          const parts = tasks.filter((task) => !task.counted);
          if (parts.length > 0) this.#fanOut!.restore(parts);
        },
        slotFreed: () => {
          // A run held behind a stopped run of its key goes once that run's thread let go of it.
          this.#lines?.recheck();
          this.#pump();
        },
        timedOut: (task) => {
          const error = new TaskTimeoutError(task.timeout!);
          // Cancel first: a run that is retried leaves its batch when it settles.
          this.#executor.cancel(task, error);
          this.#ledger.settle(task, false, error);
        },
      },
      this.#ledger,
      this.#metrics,
    );
    this.#fanOut = partitions && new FanOut(partitions, this.#ledger, { cancel: (part, reason) => this.#executor.cancel(part, reason) });
    this.#limiter = resolved.rateLimits && new RateLimiter(resolved.rateLimits, () => this.#pump());
    this.#ready = this.#executor.manifest().then(
      (names) => {
        this.#names = new Set(names);
        const unknown = this.#limiter?.names.filter((name) => !this.#names!.has(name));
        if (unknown !== undefined && unknown.length > 0) {
          process.emitWarning(
            `rateLimits names ${unknown.map((name) => `\`${name}\``).join(', ')}, which the module does not export: such a limit is never used.`,
            'TesseraWarning',
          );
        }
        return names;
      },
      (error: unknown) => {
        // The pool was closed or destroyed before a thread had loaded the module: say that, not ModuleLoadError.
        if (!(error instanceof ModuleLoadError)) throw this.#closedError();
        this.#loadError = error;
        // Queued runs would only meet the same failure on a thread. Held ones first: settling a
        // run of an ordering key would send the next one of its key to the queue.
        for (const task of this.#delayed?.drain() ?? []) this.#ledger.settle(task, false, error);
        for (const task of this.#lines?.drain() ?? []) this.#ledger.settle(task, false, error);
        for (const task of this.#queue.drain()) this.#ledger.settle(task, false, error);
        if (this.#limiter) {
          for (const task of this.#limiter.drain()) this.#ledger.settle(task, false, error);
          this.#limiter.dispose();
        }
        if (this.#fanOut) for (const task of [...this.#fanOut.pending()]) this.#ledger.settle(task, false, error);
        this.#afterRemoval();
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
    let settings = noRunOptions;
    if (options !== undefined) {
      try {
        settings = checkRunOptions(options);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#submit(name, input, settings);
  }

  /** A run whose options are checked: `run`, and each fire of a schedule. Never throws. */
  #submit(name: unknown, input: unknown, settings: RunSettings): Promise<unknown> {
    if (callbacksInUse()) {
      // Only once proxy() was ever called: other processes pay this one check.
      try {
        const taken = takeCallbacks(input);
        if (taken !== undefined) {
          input = taken.input;
          settings = { ...settings, callbacks: taken.callbacks };
        }
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (settings.key !== undefined) return this.#runKeyed(name, input, settings);
    const task = this.#admit(name, input, settings, undefined);
    return task instanceof Task ? task.promise : Promise.reject(task);
  }

  /**
   * A run with a `key`: joins the execution of the same name and key in flight, or its kept result;
   * otherwise admits a new execution as any run (same checks, same queue, same dispatch).
   */
  #runKeyed(name: unknown, input: unknown, run: RunSettings): Promise<unknown> {
    const refused = this.#refusal(name, run.signal, false);
    if (refused !== undefined) return Promise.reject(refused);
    const keys = this.#keys;
    const joined = keys.join(name as string, run);
    if (joined !== undefined) return joined;
    const due = this.#dueOf(run);
    const direct = due === undefined && this.#direct(name as string, 1);
    if (due === undefined && !direct && this.#queueFull()) return Promise.reject(new QueueFullError(this.#queue.capacity));
    let started: ReturnType<KeyRegistry['start']>;
    try {
      started = keys.start(this.#spec(name as string, input, run, undefined), run);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#enter(started.execution, direct, due);
    return started.promise;
  }

  /**
   * Runs task `name` once per item, carrying many items per message, and gives the results in input
   * order: an array for an array, an async iterable for any other iterable or async iterable (read
   * with bounded read-ahead, so a stream of any length runs in flat memory). The first failing item
   * rejects with `MapItemError` (its `index` and the task's error as `cause`) and cancels the chunks
   * that have not started. `priority`, `signal` and `timeout` (per chunk) apply as in `run`. An
   * abort, or closing the pool, stops the map at once and it stops reading its source.
   */
  map<K extends TaskName<M>>(name: K, items: readonly TaskInput<M, K>[], options?: MapOptions): Promise<TaskResult<M, K>[]>;
  map<K extends TaskName<M>>(
    name: K,
    items: Iterable<TaskInput<M, K>> | AsyncIterable<TaskInput<M, K>>,
    options?: MapOptions,
  ): AsyncIterable<TaskResult<M, K>>;
  map(name: string, items: Iterable<unknown> | AsyncIterable<unknown>, options: MapOptions = {}): Promise<unknown[]> | AsyncIterable<unknown> {
    let isArray: boolean;
    try {
      isArray = Array.isArray(items);
    } catch {
      // A revoked Proxy: neither an array nor anything iterable.
      isArray = false;
    }
    let settings: MapSettings;
    try {
      settings = checkMapOptions(options);
    } catch (error) {
      // Problems known at once reject the promise, or the first step of the iteration, rather than throw.
      if (isArray) return Promise.reject(error);
      return (async function* () {
        yield* [];
        throw error;
      })();
    }
    const submitter = {
      capacity: this.#executor.runSlots,
      maxChunk: this.#limiter === undefined || typeof name !== 'string' ? Infinity : this.#limiter.maxUnits(name),
      submit: (chunk: unknown[], offset: number, run: RunSettings, finite: boolean, failed: (error: unknown) => void) =>
        this.#admit(name, chunk, run, offset, finite, failed),
      cancel: (task: Task) => this.#cancelUnstarted(task),
      enroll: (stop: (error: Error) => void, finite: boolean) => this.#enroll(stop, finite),
    };
    return isArray ? mapArray(submitter, items as readonly unknown[], settings) : mapStream(submitter, items, settings);
  }

  /**
   * Runs `flow` (made with `defineFlow`): each node is a `run` of its task, started as soon as its
   * parents completed, with an input built from their results. Resolves with every node's outcome;
   * rejects with `FlowFailedError` when a node with `onFailure: 'fail'` (the default) failed,
   * `AbortError` or `FlowTimeoutError` when `signal` or `timeout` stopped it. See `src/flow.ts`.
   */
  flow<I, R extends object, O extends string>(flow: Flow<M, I, R, O>, ...args: FlowArgs<I>): Promise<FlowReport<R, O>> {
    return runFlow(this, flow, args[0], args[1]) as Promise<FlowReport<R, O>>;
  }

  /**
   * Runs task `name` once per item, each item an ordinary run (its own timeout, retries and typed
   * error), at most `concurrency` at a time, and resolves with every item's outcome in input order,
   * in the shape of `Promise.allSettled`, with counts by outcome. See the README's "Batches".
   */
  batch<K extends TaskName<M>>(
    name: K,
    items: Iterable<TaskInput<M, K>> | AsyncIterable<TaskInput<M, K>>,
    options?: BatchOptions,
  ): Promise<BatchResult<TaskResult<M, K>>>;
  batch(name: string, items: Iterable<unknown> | AsyncIterable<unknown>, options: BatchOptions = {}): Promise<BatchResult<unknown>> {
    return runBatch(this.#runSubmitter(), name, items, options);
  }

  /**
   * Passes each item of `source` through `stages`, each a task with its own concurrency, with bounded
   * buffers between them, and yields the last stage's results in input order (or as they finish with
   * `ordered: false`). See the README's "Pipelines".
   */
  pipeline<const S extends readonly [PipelineStage<M>, ...PipelineStage<M>[]]>(
    source: Iterable<unknown> | AsyncIterable<unknown>,
    stages: S,
    options?: PipelineOptions,
  ): AsyncIterable<PipelineResult<M, S>>;
  pipeline(source: Iterable<unknown> | AsyncIterable<unknown>, stages: readonly PipelineStage<M>[], options: PipelineOptions = {}): AsyncIterable<unknown> {
    return runPipeline(this.#runSubmitter(), source, stages, options);
  }

  /** What a batch or a pipeline borrows: single runs admitted inside the caller's own window. */
  #runSubmitter(): RunSubmitter {
    return {
      capacity: this.#executor.runSlots,
      submit: (name: unknown, input: unknown, run: RunSettings, finite: boolean, failed?: (error: unknown) => void) =>
        this.#admit(name, input, run, undefined, finite, failed, true),
      cancel: (task: Task) => this.#cancelUnstarted(task),
      enroll: (stop: (error: Error) => void, finite: boolean) => this.#enroll(stop, finite),
    };
  }

  /** Drops a task of a map, batch or pipeline that has not started; one on a thread runs on. */
  #cancelUnstarted(task: Task): void {
    if (this.#queue.remove(task) || this.#limiter?.remove(task)) {
      this.#ledger.settle(task, false, new AbortError('map cancelled'));
      this.#afterRemoval();
    } else if (task.state === TaskState.Dispatched && this.#executor.withdraw(task)) {
      // Prefetched at a thread, not started: taken back, so it never runs either.
      this.#ledger.settle(task, false, new AbortError('map cancelled'));
    }
  }

  /** Registers a map, batch or pipeline in progress (see ChunkSubmitter.enroll); returns its unregister. */
  #enroll(stop: (error: Error) => void, finite: boolean): () => void {
    if (this.#state !== State.Open) {
      stop(this.#closedError());
      return () => {};
    }
    this.#maps.set(stop, finite);
    if (finite) this.#finiteMaps++;
    return () => {
      if (!this.#maps.delete(stop)) return;
      if (finite) this.#finiteMaps--;
      this.#afterRemoval();
    };
  }

  #closedError(): Error {
    return this.#state === State.Destroyed ? new PoolDestroyedError() : new PoolClosedError();
  }

  /**
   * Admits one task (a run, or a chunk of a map when `offset` is set). Returns the task, or the
   * error to reject with. Map chunks, and the runs of a batch or pipeline (`windowed`), skip the
   * `maxQueue` check: each bounds its own read-ahead. A delayed run takes no queue place until it is
   * due; a run behind its ordering key takes one now.
   */
  #admit(
    name: unknown,
    input: unknown,
    run: RunSettings,
    offset: number | undefined,
    finite = false,
    failed?: (error: unknown) => void,
    windowed = offset !== undefined,
  ): Task | Error {
    const refused = this.#refusal(name, run.signal, finite);
    if (refused !== undefined) return refused;
    const due = this.#dueOf(run);
    const key = run.orderingKey;
    const direct =
      due === undefined && (key === undefined || !this.#lines?.busy(key)) && this.#direct(name as string, offset === undefined ? 1 : (input as unknown[]).length);
    if (due === undefined && !direct && !windowed && this.#queueFull()) return new QueueFullError(this.#queue.capacity);
    const spec = this.#spec(name as string, input, run, offset, failed);
    const task = key === undefined ? new Task(spec) : (this.#lines ??= new OrderingLines((next) => this.#retry(next))).task(spec, key);
    this.#enter(task, direct, due);
    return task;
  }

  /** When a run with `delay` or `runAt` comes due (epoch ms); undefined when it goes now. */
  #dueOf(run: RunSettings): number | undefined {
    if (run.delay === undefined && run.runAt === undefined) return undefined;
    const now = this.#timers.now();
    const due = run.runAt ?? now + run.delay!;
    return due > now ? due : undefined;
  }

  /**
   * A delayed run came due: it is admitted as if submitted now, and since it held no queue place,
   * a full queue rejects it now with `QueueFullError`. (close() and destroy() reject held runs and
   * a module that failed to load settles them: the pool is open and loaded here.)
   */
  #due(task: Task): void {
    const direct = !(task instanceof OrderedTask && this.#lines!.busy(task.orderingKey)) && this.#direct(task.name, 1);
    if (!direct && this.#queueFull()) {
      this.#ledger.settle(task, false, new QueueFullError(this.#queue.capacity));
      this.#afterRemoval();
      return;
    }
    this.#place(task, direct);
  }

  /** Why a run (or a chunk of a map of an array, when `finite`) is refused at once, if it is. */
  #refusal(name: unknown, signal: AbortSignal | undefined, finite: boolean): Error | undefined {
    // A map of an array accepted before close() goes on admitting its chunks while closing.
    if (this.#state !== State.Open && !(finite && this.#state === State.Closing)) return this.#closedError();
    if (signal !== undefined && isAborted(signal)) return new AbortError(reasonOf(signal));
    if (this.#loadError !== undefined) return new ModuleLoadError(this.#options.module.href, this.#loadError.cause);
    if (typeof name !== 'string') return new UnknownTaskError(describeValue(name), this.#names === undefined ? [] : [...this.#names]);
    if (this.#names !== undefined && !this.#names.has(name)) return new UnknownTaskError(name, [...this.#names]);
    return undefined;
  }

  /**
   * Whether a task of `name` carrying `items` runs admitted now goes straight to a thread: nothing
   * waits, a slot is free, and no rate limit holds it.
   */
  #direct(name: string, items: number): boolean {
    const fanOut = this.#fanOut;
    const limiter = this.#limiter;
    return (
      this.#queue.size === 0 &&
      (fanOut === undefined || fanOut.waiting === 0) &&
      this.#executor.free > 0 &&
      (limiter === undefined || limiter.fitsNow(name, items))
    );
  }

  /** No place left for a run that must wait. Runs held by a rate limit or behind their ordering key keep their places. */
  #queueFull(): boolean {
    const queue = this.#queue;
    const limiter = this.#limiter;
    const lines = this.#lines;
    if (limiter === undefined && lines === undefined) return queue.isFull;
    return queue.size + (limiter?.parked ?? 0) + (lines?.held ?? 0) >= queue.capacity;
  }

  #spec(name: string, input: unknown, run: RunSettings, offset: number | undefined, failed?: (error: unknown) => void): TaskSpec {
    const spec: TaskSpec = {
      name,
      input,
      priority: run.priority,
      signal: run.signal,
      timeout: run.timeout,
      transfer: run.transfer,
      offset,
      onProgress: run.onProgress,
      callbacks: run.callbacks,
      onFailure: failed,
    };
    // One check when neither the run nor the pool has a retry policy.
    if (run.retry === undefined && this.#retryDefaults === undefined) return spec;
    // Runs only: not a map's chunks, nor a partitioned run (its parts fan out and merge once).
    if (offset !== undefined || this.#fanOut?.has(name)) return spec;
    // Nor a run that moves buffers: the first attempt detached them, a second would send nothing.
    if (run.transfer !== undefined) return spec;
    const retry = run.retry ?? this.#options.retries?.get(name) ?? this.#options.retry;
    return retry === undefined ? spec : { ...spec, retry };
  }

  /**
   * A run's backoff ended, or its ordering key's previous run settled: through the queue with its
   * priority (it holds its place already: no maxQueue check).
   */
  #retry(task: Task): void {
    if (this.#loadError !== undefined) {
      this.#ledger.settle(task, false, new ModuleLoadError(this.#options.module.href, this.#loadError.cause));
      this.#afterRemoval();
      return;
    }
    this.#queue.push(task);
    this.#pump();
  }

  /** The one way in for every admitted task: counted, its signal watched, then held until `due`, or placed. */
  #enter(task: Task, direct: boolean, due?: number): void {
    this.#ledger.admit(task);
    if (task.signal !== undefined) {
      try {
        this.#signals.watch(task);
      } catch (error) {
        this.#ledger.settle(task, false, error);
        return;
      }
    }
    if (due === undefined) this.#place(task, direct);
    else (this.#delayed ??= new DelayedRuns(this.#timers, (held) => this.#due(held))).hold(task, due);
  }

  /** An accepted run takes its place: behind its ordering key's previous run, in the queue, or on a thread. */
  #place(task: Task, direct: boolean): void {
    if (task instanceof OrderedTask && this.#lines!.hold(task)) return;
    const fanOut = this.#fanOut;
    if (this.#limiter !== undefined) {
      // Through the pump, which counts it against its windows (or parks it and arms their timer).
      this.#queue.push(task);
      if (this.#executor.free > 0) this.#pump();
    } else if (!direct) this.#queue.push(task);
    else if (task.offset === undefined && fanOut?.has(task.name)) {
      fanOut.expand(task, this.#executor.freeToRun);
      this.#pump();
    } else this.#dispatch([task]);
  }

  /**
   * Runs task `name` on each fire time of cron `pattern` (read by croner, in `options.timezone`), with
   * `input`, or what `input(fireDate)` returns, and the run options in `options`. Each fire is a
   * `pool.run`; see the README's "Recurring runs" for overlap, missed fires and errors. Throws at
   * once: `CronPatternError`, an option error, `UnknownTaskError` (once the module has loaded),
   * `AbortError` (its signal aborted), `PoolClosedError` / `PoolDestroyedError`.
   */
  schedule<K extends TaskName<M>>(
    pattern: string,
    name: K,
    input: TaskInput<M, K> | ((fireDate: Date) => TaskInput<M, K>),
    options?: ScheduleOptions<TaskResult<M, K>>,
  ): ScheduleHandle;
  schedule(pattern: string, name: string, input?: unknown, options?: ScheduleOptions): ScheduleHandle {
    const settings = checkScheduleOptions(options);
    const cron = parsePattern(pattern, settings.timezone);
    const refused = this.#refusal(name, undefined, false);
    if (refused !== undefined) throw refused;
    const schedules = this.#schedules;
    const schedule: Schedule = new Schedule(cron, settings, input, {
      timers: this.#timers,
      name,
      submit: (value) => this.#submit(name, value, settings.run),
      stopped: (stopped) => schedules.delete(stopped),
    });
    // A pattern with no fire time left stops at once, and is never held.
    if (!schedule.stopped) schedules.add(schedule);
    return schedule;
  }

  /** Resolves with the module's task names once a thread has loaded it; rejects with `ModuleLoadError`, or the pool's closed error when it stopped first. */
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
    const queued = queue.size + (this.#limiter?.parked ?? 0) + (this.#lines?.held ?? 0);
    const waiting = queued + (this.#fanOut?.waiting ?? 0);
    const direct = waiting === 0 ? this.#executor.free : 0;
    return Math.max(0, queue.capacity - queued) + direct;
  }

  /**
   * Wakes one capacity waiter per place, so a crowd of producers does not rush one place. A woken
   * producer may never submit (it gave up); while work is on threads, its end wakes the next
   * waiters, but an idle pool has no such event coming: then a turn later, places still free go to
   * the next waiters, so no waiter sleeps forever beside an empty pool.
   */
  #wakeProducers(): void {
    let room = this.#room();
    if (room <= 0) return;
    while (room-- > 0 && this.#capacityWaiters.length > 0) this.#capacityWaiters.shift()!();
    if (this.#capacityWaiters.length > 0 && this.#executor.inFlight === 0 && !this.#recheckQueued) {
      this.#recheckQueued = true;
      setImmediate(() => {
        this.#recheckQueued = false;
        if (this.#capacityWaiters.length > 0) this.#wakeProducers();
      });
    }
  }

  #wakeAllProducers(): void {
    const waiters = this.#capacityWaiters;
    this.#capacityWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Resolves when nothing is queued, running or held: every accepted task has settled (delayed runs
   * included; a schedule's next fire is not a run).
   */
  onIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Task and thread lifecycle events (`taskDispatch`, `taskSettle`, `taskRetry`, `threadStart`, `threadExit`, `threadRecycle`). */
  get events(): PoolEvents {
    return this.#metrics.events;
  }

  stats(): PoolStats {
    return { ...this.#counts(), ...this.#metrics.snapshot() };
  }

  /** The part of `stats()` that reading does not change (the Prometheus entry reads it too). */
  #counts(): PoolCounts {
    const threads = this.#executor.threads;
    const busy = Math.min(threads, Math.ceil(this.#executor.inFlight / this.#options.concurrentTasksPerWorker));
    const ledger = this.#ledger;
    const limiter = this.#limiter;
    const byPriority = this.#queue.countByPriority();
    limiter?.countByPriority(byPriority);
    const lines = this.#lines;
    lines?.countByPriority(byPriority);
    return {
      threads,
      idleThreads: threads - busy,
      queued: this.#queue.size + (limiter?.parked ?? 0) + (lines?.held ?? 0),
      ordered: lines?.held ?? 0,
      delayed: this.#delayed?.size ?? 0,
      queuedByPriority: Object.fromEntries(byPriority),
      rateLimited: limiter?.held(this.#queue.size) ?? 0,
      running: ledger.running,
      retrying: ledger.retrying,
      retries: ledger.retries,
      accepted: ledger.accepted,
      completed: ledger.completed,
      failed: ledger.failed,
      shared: this.#keys.shared,
      retired: this.#executor.retired,
    };
  }

  /**
   * Stops admitting (new runs reject with `PoolClosedError`), finishes every accepted run, then stops
   * the threads. A map of an array finishes too; a map of an iterable or stream stops with
   * `PoolClosedError` (its source may never end) and stops reading it. Schedules stop; delayed runs
   * not due yet reject with `PoolClosedError` (a `runAt` next week must not hold a shutdown open).
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#state === State.Destroyed) return this.#destroying ?? Promise.resolve();
    this.#state = State.Closing;
    // No run can read a kept result any more; executions in flight still settle their sharers.
    this.#keys.clear();
    this.#wakeAllProducers();
    this.#stopMaps(new PoolClosedError(), false);
    this.#stopSchedules();
    if (this.#delayed !== undefined) {
      const error = new PoolClosedError();
      for (const task of this.#delayed.drain()) this.#ledger.settle(task, false, error);
      // onIdle() callers from before close() hear of it now if that was the last held work.
      this.#afterRemoval();
    }
    this.#closing = this.onIdle().then(async () => {
      if (this.#state === State.Closing) {
        this.#state = State.Closed;
        this.#limiter?.dispose();
        this.#ledger.dispose();
        this.#metrics.stop();
        await this.#executor.destroy();
      }
    });
    return this.#closing;
  }

  /** Rejects every queued, held and running task with `PoolDestroyedError`, stops schedules and every thread. */
  destroy(): Promise<void> {
    if (this.#destroying) return this.#destroying;
    this.#state = State.Destroyed;
    this.#keys.clear();
    const error = new PoolDestroyedError();
    const ledger = this.#ledger;
    this.#stopMaps(error, true);
    this.#stopSchedules();
    // Held runs first: settling a run of an ordering key would send the next of its key to the queue.
    for (const task of this.#delayed?.drain() ?? []) ledger.settle(task, false, error);
    for (const task of this.#lines?.drain() ?? []) ledger.settle(task, false, error);
    for (const task of this.#queue.drain()) ledger.settle(task, false, error);
    if (this.#limiter) {
      for (const task of this.#limiter.drain()) ledger.settle(task, false, error);
      this.#limiter.dispose();
    }
    if (this.#fanOut) for (const task of [...this.#fanOut.pending()]) ledger.settle(task, false, error);
    for (const task of [...this.#executor.pendingTasks()]) ledger.settle(task, false, error);
    for (const task of ledger.waitingTasks()) ledger.settle(task, false, error);
    this.#wakeAllProducers();
    ledger.dispose();
    this.#metrics.stop();
    this.#destroying = this.#executor.destroy();
    this.#resolveIdle();
    return this.#destroying;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #stopMaps(error: Error, all: boolean): void {
    for (const [stop, finite] of [...this.#maps]) if (all || !finite) stop(error);
  }

  #stopSchedules(): void {
    for (const schedule of [...this.#schedules]) schedule.stop();
  }

  #dispatch(tasks: Task[]): void {
    this.#executor.send(tasks);
  }

  /**
   * Fills free slots: parts of partitioned runs first, then the queue, batching when it is deep.
   * With rate limits the limiter picks each task (and parks those over their name's limit).
   */
  #pump(): void {
    const queue = this.#queue;
    const executor = this.#executor;
    const fanOut = this.#fanOut;
    const limiter = this.#limiter;
    while (executor.free > 0) {
      const part = fanOut?.take();
      if (part !== undefined) {
        this.#dispatch([part]);
        continue;
      }
      const first = limiter === undefined ? queue.pop() : limiter.pop(queue);
      if (first === undefined) break;
      // Its abort event may never have reached us (a listener before ours called stopImmediatePropagation);
      // a keyed run's execution asks the same of each of its sharers' signals.
      if (first.signal !== undefined && (first instanceof Execution ? first.abandoned() : isAborted(first.signal))) {
        this.#abort(first, reasonOf(first.signal));
        continue;
      }
      if (fanOut !== undefined && first.offset === undefined && first.counted && fanOut.has(first.name)) {
        fanOut.expand(first, executor.freeToRun);
        continue;
      }
      const size = first.solo ? 1 : executor.sizer.next(queue.size + 1, executor.runSlots);
      const tasks = [first];
      // Batch-mates: one check of `limiter` per batch, not per task.
      if (limiter === undefined) {
        while (tasks.length < size) {
          const next = queue.peek();
          if (next === undefined || next.solo || (fanOut !== undefined && fanOut.has(next.name))) break;
          tasks.push(queue.pop()!);
        }
      } else {
        while (tasks.length < size) {
          const next = limiter.peek(queue);
          if (next === undefined || next.solo || (fanOut !== undefined && fanOut.has(next.name))) break;
          tasks.push(limiter.take(queue, next));
        }
      }
      this.#dispatch(tasks);
    }
    if (queue.size === 0 && executor.inFlight > 0) executor.rebalance();
    if (this.#capacityWaiters.length > 0) this.#wakeProducers();
    if (this.#idleWaiters.length > 0 && this.#isIdle()) this.#resolveIdle();
  }

  #isIdle(): boolean {
    return (
      this.#queue.size === 0 &&
      (this.#limiter === undefined || this.#limiter.parked === 0) &&
      (this.#fanOut === undefined || this.#fanOut.waiting === 0) &&
      this.#ledger.running === 0 &&
      this.#ledger.retrying === 0 &&
      (this.#lines === undefined || this.#lines.held === 0) &&
      (this.#delayed === undefined || this.#delayed.size === 0) &&
      // Every thread is done too: no reply on its way, no cancelled task within its abortGrace.
      this.#executor.inFlight === 0 &&
      this.#finiteMaps === 0
    );
  }

  #resolveIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** A task left the queue without running: room for producers, and maybe idle. */
  #afterRemoval(): void {
    if (this.#limiter !== undefined && this.#queue.size === 0) this.#limiter.idle();
    if (this.#capacityWaiters.length > 0) this.#wakeProducers();
    if (this.#idleWaiters.length > 0 && this.#isIdle()) this.#resolveIdle();
  }

  #abort(task: Task, reason: unknown): void {
    if (task.state === TaskState.Settled) return;
    const error = new AbortError(reason);
    if (this.#queue.remove(task) || this.#limiter?.remove(task) || this.#lines?.remove(task) || this.#delayed?.remove(task)) {
      this.#ledger.settle(task, false, error);
      this.#afterRemoval();
      return;
    }
    this.#ledger.settle(task, false, error);
    this.#executor.cancel(task, reason);
  }
}

/** Creates a pool of worker threads running the tasks that `options.module` exports. */
export function createPool<M extends object = AnyTaskModule>(options: TypedPoolOptions<M>): Pool<M> {
  return new Pool<M>(options);
}
