/**
 * The only file that talks to piscina. piscina owns the threads (start, replacing the dead,
 * terminating on abort, resource limits); this file sends batches, reads the results the threads
 * post, stops threads idle past `idleTimeout`, and works out what a failed batch means for each of
 * its tasks.
 *
 * Two ways to a thread: a batch with a signal, a timeout, progress, callbacks or transfers goes
 * through `piscina.run` (piscina aborts it by terminating its thread); any other goes straight to the
 * thread's own port (its `Hello`) and its reply comes back as a `Done` notice. piscina's per-request
 * bookkeeping (a TaskInfo, an AsyncResource, its queue and balancer) cost the main thread more than
 * the rest of a short task's trip together; the direct way costs what a bare postMessage round robin
 * does, plus this file's own accounting. piscina does not see direct batches, so this file counts
 * each thread's load itself (`Lane`) and reaps idle threads itself.
 *
 * What a failed batch means comes from facts, never from an error's text:
 * - whether a thread took it: the cell the thread claims in the shared slots (`worker/protocol.ts`);
 * - whether that thread died, how, and with which exit code: the Worker's own `error` and `exit`
 *   events, which this file listens to on every thread piscina starts.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MessagePort, TransferListItem, Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import {
  ErrorCodes,
  ImageError,
  MapItemError,
  ModuleLoadError,
  PoolDestroyedError,
  TaskInputError,
  TaskResultError,
  UnknownTaskError,
  UnrecoverableError,
  WorkerCrashError,
  type CrashReason,
  type ImageErrorCode,
} from './errors.ts';
import type { ThreadExitReason } from './events.ts';
import type { Metrics } from './metrics.ts';
import type { ResolvedPoolOptions } from './options.ts';
import { openLink } from './callbacks.ts';
import { reportProgress } from './progress.ts';
import { batchSizing, Sizer } from './sizer.ts';
import { TaskState, type Batch, type Ledger, type Task } from './task.ts';
import { nestsDeeperThan, tooDeepError, uncloneableType } from './worker/clone.ts';
import {
  asNotice,
  claimedBy,
  doneReply,
  newSecret,
  encodeBatch,
  encodeChunk,
  encodeManifest,
  Kind,
  openSlot,
  setBatchInput,
  Status,
  takeBack,
  type BatchReply,
  type BatchRequest,
  type ChunkRequest,
  type ItemFailure,
  type ManifestReply,
  type WireError,
  type WorkerConfig,
} from './worker/protocol.ts';
import { describeValue, fromWire, type Rebuilder } from './worker/wire-error.ts';

/** What the executor asks of the pool. */
export interface ExecutorHost {
  /** These tasks were sent but never started (their thread died first, or they must go alone): queue them again. */
  requeue(tasks: Task[]): void;
  /** A slot freed up: dispatch more. */
  slotFreed(): void;
  /** The task ran past its `timeout`. */
  timedOut(task: Task): void;
}

/** href of tsx's ESM register API, resolved from this package so a user's tsx install is found. */
function resolveTsxApi(): string {
  // The `import` condition matters: tsx's CommonJS build of this API cannot register ESM hooks from a thread.
  if (typeof import.meta.resolve === 'function') {
    try {
      return import.meta.resolve('tsx/esm/api');
    } catch {
      // fall through to require.resolve (test runners may stub import.meta.resolve)
    }
  }
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  return pathToFileURL(cjs.replace(/\.cjs$/, '.mjs')).href;
}

/** Module names a pool was built with and what its threads load. */
function workerConfig(options: ResolvedPoolOptions, slots: Int32Array, notify: boolean): WorkerConfig {
  const module = options.module;
  const entryIsTs = import.meta.url.endsWith('.ts');
  const entry = new URL(entryIsTs ? './worker/entry.ts' : './worker/entry.js', import.meta.url).href;
  let tsx: string | undefined;
  if (entryIsTs || /\.[cm]?ts$/.test(module.pathname)) {
    try {
      tsx = resolveTsxApi();
    } catch (cause) {
      throw new ModuleLoadError(
        module.href,
        new Error('TypeScript task modules need tsx (`npm install --save-dev tsx`), or compile the module and pass its .js (see taskModule).', { cause }),
      );
    }
  }
  const heapMb = options.maxHeapPerThreadMb;
  return {
    entry,
    module: module.href,
    tsx,
    concurrency: options.concurrentTasksPerWorker,
    notify,
    slots,
    maxTasks: options.maxTasksPerThread,
    maxHeapBytes: heapMb === undefined ? undefined : heapMb * 1024 * 1024,
    secret: newSecret(),
  };
}

/**
 * A thread as this file counts it: what it holds and where direct requests go. piscina sees only
 * the batches sent through it, so a thread's load is counted here.
 */
export class Lane {
  /** The thread's own port (from its `Hello`): cancels, and direct requests. Unset until it says hello. */
  port: MessagePort | undefined = undefined;
  /** Its `exit` is listened to (`#watchThread`): only then may a direct request go to it, as only then would its death fail that request. */
  watched = false;
  /** Batches sent through piscina and not released, the manifest request among them. */
  viaPiscina = 0;
  /**
   * Of those, ones nothing may join: with a signal (piscina terminates the thread to abort one), or
   * moving buffers (a request sent after it on the thread's own port may start first, and kill the
   * thread with the buffers unread: they could not be sent again).
   */
  exclusive = 0;
  /** Batches sent straight to the port and not released. */
  direct = 0;
  /**
   * Why it is on its way out: 'retire' (`Kind.Retire`), 'idle' (reaped), 'cancel' or 'close'
   * (terminated by piscina), 'crash' (its `error` came). Nothing more is sent to it.
   */
  leaving: 'retire' | 'idle' | 'cancel' | 'close' | 'crash' | undefined = undefined;
  /** When its load last fell to 0 (performance.now()). */
  idleSince = 0;
  /** Checks, `idleTimeout` after it fell idle, whether it still is. */
  reapTimer: NodeJS.Timeout | undefined = undefined;
  constructor(readonly id: number) {}
}

/** A request on its way out: what `#route` needs to send it. */
interface Outgoing {
  readonly batch: Batch;
  readonly request: BatchRequest | ChunkRequest;
  readonly transfer: readonly unknown[] | undefined;
}

/** Marks the manifest request for the balancer: it counts on its thread like a batch. */
const MANIFEST = Symbol('manifest');

/** How a thread died, from its own events; or that it retired (see `Kind.Retire`). */
interface Death {
  /** It announced its retirement: no task of it is to blame, and none it held unfinished ever started. */
  readonly retired: boolean;
  readonly reason: CrashReason;
  exitCode: number | undefined;
  readonly error: unknown;
  /** Its `exit` came: every message it posted before has been delivered. */
  exited: boolean;
  /** Failed batches waiting for that. */
  readonly waiting: Array<() => void>;
  /** It had started a request it had not finished: that request's task takes the blame (see #died). */
  busy?: boolean;
}

/**
 * The task still waits on this batch for its outcome. A run that failed in it and waits to retry
 * (or runs again, in another batch) has left it, and nothing the batch reports touches it again.
 */
function pendingIn(batch: Batch, task: Task): boolean {
  return task.state !== TaskState.Settled && task.batch === batch;
}

/** Whether nothing may join the batch on its thread (see `Lane.exclusive`). */
function exclusive(batch: Batch): boolean {
  return batch.controller !== undefined || batch.tasks[0]!.transfer !== undefined;
}

function crashError(death: Death): WorkerCrashError {
  return new WorkerCrashError(death.reason, death.exitCode, death.error);
}

/** Errors of the catalogue a thread may throw (the image tasks'), rebuilt as their own class. */
const rebuild: Rebuilder = (wire) => {
  const code = wire.props['code'];
  if (wire.name === 'ImageError' && typeof code === 'string' && code.startsWith('TESSERA_IMAGE_')) {
    return new ImageError(code as ImageErrorCode, wire.message);
  }
  // A task's UnrecoverableError, or a subclass of it, or any error it marked with the code.
  if (code === ErrorCodes.UNRECOVERABLE) return new UnrecoverableError(wire.message);
  return undefined;
};

const decode = (wire: WireError): unknown => fromWire(wire, rebuild);

/** A run that moved buffers to a thread that died before starting it: nothing is left to send again. */
function buffersGone(error: unknown): WorkerCrashError {
  const gone = new Error('The thread died before starting this run, and the buffers it moved there (`transfer`) went with it; it cannot be sent again.', { cause: error });
  return new WorkerCrashError('exit', undefined, gone);
}

/**
 * Tasks that take longer than this on average are not prefetched: the round trip a prefetch saves
 * is under 1% of them, and a task held behind a long one waits for it even when another thread frees up.
 */
const PREFETCH_BELOW_MS = 20;

/**
 * A request still unstarted this long after it was sent, while a thread is idle and the queue empty,
 * is taken back and sent again: it was prefetched behind a task that runs long.
 */
const STEAL_AFTER_MS = 5;

type Balancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;

/** piscina hands a request's value under this key to the balancer: there, the request's batch. */
const BATCH = Piscina.queueOptionsSymbol;

export class Executor {
  readonly #piscina: Piscina;
  readonly #host: ExecutorHost;
  readonly #ledger: Ledger;
  readonly #abortGrace: number;
  /**
   * How deep an input may nest, for threads with a stack smaller than the default: structured clone
   * reads a value back one native frame per level, and a thread that cannot is told by a
   * 'messageerror' event, the request lost. Measured: 500 levels of plain objects fail on a 0.5 MB
   * stack, 1,400 on 1 MB (Node 22). Undefined at the default 4 MB, where the main thread's serializer
   * gives out first and the run fails with `TaskInputError` as for any input that does not clone.
   */
  readonly #inputDepth: number | undefined;
  readonly #modulePath: string;
  /** Batches sent whose results may still come. */
  readonly #batches = new Map<number, Batch>();
  /**
   * Batches sent straight to a thread whose `Done` has not come, by id. A batch taken back stays
   * here until then: its slot frees with that reply, as piscina's would free it.
   */
  readonly #directs = new Map<number, Batch>();
  /** Every thread piscina started that has not exited, by thread id. */
  readonly #lanes = new Map<number, Lane>();
  /** One cell per slot, plus the last for the manifest request. */
  readonly #slots: Int32Array;
  /** What every notice of this pool's threads carries. */
  readonly #secret: number;
  readonly #freeSlots: number[];
  /** Threads that died recently, by thread id, until their failed batches are handled. */
  readonly #deaths = new Map<number, Death>();
  #deathCount = 0;
  #lastDeath: Death | undefined;
  /** Threads retired since the pool started. */
  #retired = 0;
  /** Every thread not yet exited, with a promise of its exit. */
  readonly #exits = new Map<Worker, Promise<void>>();
  /** Settles once the manifest request did; the module then loaded, or `#loadFailure` says why not. */
  #loaded: Promise<void> | undefined;
  #loadSettled = false;
  #loadFailure: ModuleLoadError | undefined;
  #nextBatch = 0;
  #inFlight = 0;
  #stealTimer: NodeJS.Timeout | undefined;
  #destroyed = false;
  #stopped: Promise<void> | undefined;
  /** Slots: batches that may be on threads at once, prefetched ones included. */
  readonly capacity: number;
  /** Slots of batches running, not prefetched: `maxThreads × concurrentTasksPerWorker`. */
  readonly #running: number;
  readonly #prefetch: number;
  /** `concurrentTasksPerWorker`, and that plus `prefetch`: what a thread holds at most. */
  readonly #concurrency: number;
  readonly #perThread: number;
  readonly #minThreads: number;
  readonly #maxThreads: number;
  /** Requests no thread has room for yet, in the order they were sent (see `#route`). */
  readonly #held: Outgoing[] = [];
  readonly #idleTimeout: number;
  /** The thread the manifest request went to. */
  #manifestLane: Lane | undefined;
  /** Learns task run times from the batch replies; the pool asks it for batch sizes. */
  readonly sizer: Sizer;
  /** Told of threads starting and exiting, and of busy slots (`metrics.ts`). */
  readonly #metrics: Metrics;
  /** Threads piscina terminated (idle reaping, an aborted run, the pool's end) that have not exited yet, with why. */
  readonly #terminated = new Map<number, ThreadExitReason>();
  /** Set while this file aborts a running batch's request: piscina then terminates its thread. */
  #cancelling = false;

  constructor(options: ResolvedPoolOptions, host: ExecutorHost, ledger: Ledger, metrics: Metrics) {
    this.#host = host;
    this.#ledger = ledger;
    this.#metrics = metrics;
    this.#abortGrace = options.abortGrace;
    const stack = options.resourceLimits?.stackSizeMb;
    this.#inputDepth = stack !== undefined && stack < 4 ? Math.max(1, Math.floor((stack - 0.25) * 800)) : undefined;
    this.#modulePath = options.module.href;
    const perThread = options.concurrentTasksPerWorker + options.prefetch;
    this.#running = options.maxThreads * options.concurrentTasksPerWorker;
    this.#prefetch = options.prefetch;
    this.#concurrency = options.concurrentTasksPerWorker;
    this.#perThread = perThread;
    this.#minThreads = options.minThreads;
    this.#maxThreads = options.maxThreads;
    this.#idleTimeout = options.idleTimeout;
    this.capacity = options.maxThreads * perThread;
    this.sizer = new Sizer(batchSizing(options.maxBatch));
    this.#slots = new Int32Array(new SharedArrayBuffer(4 * (this.capacity + 1)));
    this.#freeSlots = Array.from({ length: this.capacity }, (_, i) => this.capacity - 1 - i);
    const config = workerConfig(options, this.#slots, perThread > 1);
    this.#secret = config.secret!;
    this.#piscina = new Piscina({
      filename: fileURLToPath(new URL('./worker/bootstrap.js', import.meta.url)),
      workerData: config,
      minThreads: options.minThreads,
      maxThreads: options.maxThreads,
      // piscina would stop a thread busy with direct requests, which it cannot see: this file reaps.
      idleTimeout: Infinity,
      // piscina's default parks an idle thread in Atomics.wait until piscina's next request, deaf to
      // its own port, where direct requests come.
      atomics: 'disabled',
      concurrentTasksPerWorker: perThread,
      loadBalancer: this.#balancer(),
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
      // Our queue is the bound; piscina's only ever holds a task for a moment.
      maxQueue: Infinity,
      recordTiming: false,
      niceIncrement: options.niceIncrement,
    });
    this.#piscina.on('message', (message: unknown) => this.#onMessage(message));
    this.#piscina.on('workerCreate', (created: { id: number }) => this.#watchThread(created.id));
    // Synchronous inside piscina's terminate(); a thread already gone (id -1) is one that died on its own.
    this.#piscina.on('workerDestroy', (thread: { id: number }) => {
      if (thread.id === -1) return;
      const reason = this.#destroyed ? 'close' : this.#cancelling ? 'cancel' : 'idle';
      this.#terminated.set(thread.id, reason);
      const lane = this.#lanes.get(thread.id);
      if (lane === undefined) return;
      lane.leaving ??= reason;
      // One piscina ended before it was ready has no exit listener here, and nothing was sent to it directly.
      if (!lane.watched) this.#lanes.delete(thread.id);
    });
    // A thread that dies with no task on it (an error thrown from a stray timer, say) is replaced by
    // piscina; there is no caller to tell, and an unhandled 'error' event would kill the process.
    this.#piscina.on('error', () => {});
  }

  /** Slots a new batch may take now: prefetch slots only while tasks are short. */
  get free(): number {
    return Math.max(0, (this.#prefetching() ? this.capacity : this.#running) - this.#inFlight);
  }

  /** Slots of batches running, not prefetched: what a map's chunks and a queue's batches are shared over. */
  get runSlots(): number {
    return this.#running;
  }

  /** Running slots free: how many parts a partitioned run is split into now. */
  get freeToRun(): number {
    return Math.max(0, this.#running - this.#inFlight);
  }

  #prefetching(): boolean {
    if (this.#prefetch === 0) return false;
    const ms = this.sizer.perItemMs;
    return ms >= 0 && ms < PREFETCH_BELOW_MS;
  }

  /**
   * Where piscina sends a request. One `#route` assigned to a thread goes there. One sent undirected
   * (every thread was full and piscina may start another) goes to an idle thread first; else to the
   * least busy one below its share, counting prefetched requests only while prefetching, and direct
   * ones too; otherwise none, and piscina holds it until the thread it starts is ready. A request
   * with a signal or moving buffers goes only to an idle thread, and nothing joins a thread holding
   * one (`Lane.exclusive`).
   */
  #balancer(): Balancer {
    return (task, workers) => {
      const marker = (task as unknown as Record<symbol, Batch | typeof MANIFEST | null | undefined>)[BATCH] ?? null;
      const batch = marker === MANIFEST ? null : marker;
      if (batch !== null && batch.lane !== undefined) {
        for (const worker of workers) if (worker.id === batch.assigned) return worker;
        // Its thread ended before piscina sent it (piscina held it while a thread started): place it afresh.
        this.#unassign(batch);
      }
      let candidate: (typeof workers)[number] | null = null;
      let least = this.#prefetching() ? this.#perThread : this.#concurrency;
      // A request that moves buffers waits behind nothing: if the thread died before starting it,
      // its buffers would be gone with the thread and it could not be sent again.
      const alone = task.isAbortable || batch?.tasks[0]!.transfer !== undefined;
      for (const worker of workers) {
        const lane = this.#lanes.get(worker.id);
        if (lane?.leaving !== undefined) continue;
        const usage = lane === undefined ? worker.currentUsage : Math.max(worker.currentUsage, lane.viaPiscina + lane.direct);
        if (usage === 0) {
          candidate = worker;
          break;
        }
        if (alone || worker.isRunningAbortableTask || (lane !== undefined && lane.exclusive > 0)) continue;
        if (usage < least) {
          candidate = worker;
          least = usage;
        }
      }
      if (candidate !== null && marker !== null) {
        const lane = this.#laneOf(candidate.id);
        if (batch === null) {
          lane.viaPiscina++;
          this.#manifestLane = lane;
        } else this.#assign(batch, lane, false);
      }
      return candidate;
    };
  }

  /** Undoes `#assign` for a batch piscina has not sent yet. */
  #unassign(batch: Batch): void {
    const lane = batch.lane!;
    lane.viaPiscina--;
    if (exclusive(batch)) lane.exclusive--;
    batch.lane = undefined;
    batch.assigned = undefined;
  }

  /** The lane of thread `id`, made on first sight (the balancer may see a thread before its `workerCreate`). */
  #laneOf(id: number): Lane {
    let lane = this.#lanes.get(id);
    if (lane === undefined) {
      lane = new Lane(id);
      this.#lanes.set(id, lane);
    }
    return lane;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get threads(): number {
    return this.#piscina.threads.length;
  }

  /** Threads retired (`maxTasksPerThread`, `maxHeapPerThreadMb`) since the pool started. */
  get retired(): number {
    return this.#retired;
  }

  /** Loads the module in a thread and lists its task names. Called once. */
  manifest(): Promise<string[]> {
    const names = this.#loadManifest();
    this.#loaded = names.then(
      () => {},
      (error: unknown) => {
        // The pool stopped first: nothing is known of the module.
        if (!(error instanceof ModuleLoadError)) return;
        const failure = error;
        this.#loadFailure = failure;
        // Nothing can ever run, and a module that kills its thread at import would have piscina
        // start replacement threads for ever: settle what was sent, and stop the threads now.
        for (const task of [...this.pendingTasks()]) this.#ledger.settle(task, false, this.#loadErrorFor(failure));
        void this.destroy();
      },
    );
    void this.#loaded.then(() => (this.#loadSettled = true));
    return names;
  }

  async #loadManifest(): Promise<string[]> {
    try {
      return await this.#askManifest();
    } finally {
      const lane = this.#manifestLane;
      if (lane !== undefined) {
        lane.viaPiscina--;
        this.#lightened(lane);
      }
    }
  }

  async #askManifest(): Promise<string[]> {
    const slot = this.capacity;
    const id = this.#nextId();
    openSlot(this.#slots, slot, id);
    const deaths = this.#deathCount;
    const request = encodeManifest(slot, id);
    (request as unknown as Record<symbol, typeof MANIFEST>)[BATCH] = MANIFEST;
    let reply: ManifestReply;
    try {
      reply = (await this.#piscina.run(request)) as ManifestReply;
    } catch (error) {
      // Stopped (close(), destroy()) before a thread had loaded the module: not the module's fault.
      if (this.#destroyed) throw new PoolDestroyedError();
      // The thread died loading the module (process.exit at import, out of memory), or piscina
      // stopped. The module starts loading as the thread starts, so the thread may die before it
      // takes the request: then the death is the one just recorded, in the turn of this rejection.
      const thread = claimedBy(this.#slots, slot);
      const death = thread !== 0 ? this.#deaths.get(thread) : this.#deathCount !== deaths ? this.#lastDeath : undefined;
      throw new ModuleLoadError(this.#modulePath, death === undefined ? error : crashError(death));
    }
    if (reply.ok) return reply.names;
    throw new ModuleLoadError(this.#modulePath, decode(reply.error));
  }

  /** Sends tasks to a thread as one batch. A tracked batch (signal or timeout) holds exactly one task. */
  send(tasks: Task[]): void {
    if (this.#destroyed) {
      // Reached only through user code that destroyed the pool mid-dispatch (a split, a callback),
      // or in the turn the module failed to load.
      const failure = this.#loadFailure;
      for (const task of tasks) {
        this.#ledger.settle(task, false, failure ? this.#loadErrorFor(failure) : new PoolDestroyedError());
      }
      return;
    }
    const first = tasks[0]!;
    const tracked = first.tracked;
    // Non-zero only for a task that travels alone.
    const flags = first.flags;
    const id = this.#nextId();
    const slot = this.#freeSlots.pop()!;
    const batch: Batch = {
      id,
      slot,
      tasks,
      deathsAtSend: this.#deathCount,
      controller: tracked ? new AbortController() : undefined,
      received: 0,
      replied: false,
      thread: undefined,
      cancelled: false,
      cancelReason: undefined,
      graceTimer: undefined,
      sentAt: performance.now(),
      assigned: undefined,
      lane: undefined,
      direct: false,
      released: false,
      stolen: false,
    };
    // A fresh channel each time it is sent: a port sent with a request that never ran is gone with it.
    const link = first.callbacks === undefined ? undefined : openLink(first.callbacks);
    for (const task of tasks) this.#ledger.dispatch(task, batch, link);
    const request =
      first.offset !== undefined ? encodeChunk(slot, id, flags, first.name, first.input as unknown[]) : encodeBatch(slot, id, flags, tasks);
    if (link !== undefined) setBatchInput(request as BatchRequest, 0, [first.input, link.port, first.callbacks!.names]);
    this.#batches.set(id, batch);
    this.#metrics.slots(++this.#inFlight, batch.sentAt);
    openSlot(this.#slots, slot, id);
    let transfer = tasks.length === 1 ? first.transfer : undefined;
    if (link !== undefined) transfer = transfer === undefined ? [link.port] : [...transfer, link.port];
    const entry: Outgoing = { batch, request, transfer };
    if (this.#held.length > 0 || !this.#route(entry)) this.#held.push(entry);
  }

  /**
   * Sends a request to a thread with room for it, or through piscina undirected while piscina may
   * still start a thread (it then starts one, or its balancer finds room). False when neither: the
   * request waits in `#held` until a slot of a thread frees, so piscina's queue never holds a request
   * that only a direct reply could free room for (piscina would never look at it again).
   */
  #route(entry: Outgoing): boolean {
    const { batch, request, transfer } = entry;
    const first = batch.tasks[0]!;
    // Counted from now: a batch that waited in #held while threads died was not sent to them, and
    // its failing to clone must not read as "its thread died before it started".
    batch.deathsAtSend = this.#deathCount;
    if (this.#inputDepth !== undefined && this.#tooDeep(batch, this.#inputDepth)) {
      // As a clone failure: the culprit is found alone and rejected with TaskInputError.
      const error = new DOMException(tooDeepError('The task input', this.#inputDepth).message, 'DataCloneError');
      queueMicrotask(() => this.#onFailure(batch, error));
      return true;
    }
    const lane = this.#laneFor(exclusive(batch));
    if (lane !== undefined) {
      // Through piscina, to that thread, until its hello is read.
      const direct = first.flags === 0 && transfer === undefined && lane.port !== undefined;
      this.#assign(batch, lane, direct);
      if (direct) this.#post(batch, request, lane);
      else this.#run(batch, request, transfer);
      return true;
    }
    if (this.#piscina.threads.length >= this.#maxThreads) return false;
    this.#run(batch, request, transfer);
    return true;
  }

  /** Some input of the batch nests deeper than `limit` (or reading it throws: it would not clone either). */
  #tooDeep(batch: Batch, limit: number): boolean {
    for (const task of batch.tasks) {
      try {
        if (nestsDeeperThan(task.input, limit)) return true;
      } catch {
        return true;
      }
    }
    return false;
  }

  /** Sends what waits in `#held`, in order, while threads have room. */
  #sendHeld(): void {
    if (this.#destroyed) return;
    while (this.#held.length > 0 && this.#route(this.#held[0]!)) this.#held.shift();
  }

  /**
   * The thread a request goes to: an idle one first; else, unless it must be `alone` (a signal, or
   * buffers it moves), the least loaded below its share. None that is not ready, is leaving, or holds
   * a request nothing may join (`Lane.exclusive`).
   */
  #laneFor(alone: boolean): Lane | undefined {
    let best: Lane | undefined;
    let least = this.#prefetching() ? this.#perThread : this.#concurrency;
    for (const lane of this.#lanes.values()) {
      if (!lane.watched || lane.leaving !== undefined || lane.exclusive > 0) continue;
      const load = lane.viaPiscina + lane.direct;
      if (load === 0) return lane;
      if (!alone && load < least) {
        best = lane;
        least = load;
      }
    }
    return best;
  }

  /** Counts a batch on the thread it goes to. */
  #assign(batch: Batch, lane: Lane, direct: boolean): void {
    batch.assigned = lane.id;
    batch.lane = lane;
    batch.direct = direct;
    if (direct) {
      // The Done notice comes on the thread's parentPort, which piscina leaves unref'd: the port
      // keeps the process alive until it is read.
      if (lane.direct++ === 0) lane.port!.ref();
    } else {
      lane.viaPiscina++;
      if (exclusive(batch)) lane.exclusive++;
    }
  }

  /** Sends a batch through piscina; its balancer sends it to the thread it was assigned, if any. */
  #run(batch: Batch, request: BatchRequest | ChunkRequest, transfer: readonly unknown[] | undefined): void {
    (request as unknown as Record<symbol, Batch>)[BATCH] = batch;
    const controller = batch.controller;
    const options =
      controller || transfer
        ? { ...(controller ? { signal: controller.signal } : {}), ...(transfer ? { transferList: transfer as TransferListItem[] } : {}) }
        : undefined;
    this.#piscina.run(request, options).then(
      (reply: BatchReply) => this.#onReply(batch, reply),
      (error: unknown) => this.#onFailure(batch, error),
    );
  }

  /** Posts a batch straight to its thread's port (see the file's comment). */
  #post(batch: Batch, request: BatchRequest | ChunkRequest, lane: Lane): void {
    this.#directs.set(batch.id, batch);
    try {
      lane.port!.postMessage(request);
    } catch (error) {
      // Nothing was sent (the input does not clone): as a piscina rejection would, a turn later.
      this.#directs.delete(batch.id);
      queueMicrotask(() => this.#onFailure(batch, error));
    }
  }

  /**
   * Gives up on a task on a thread: the caller was already told. A tracked task's `context.signal`
   * aborts at once, and its thread is terminated if the task has not settled `abortGrace` ms later.
   */
  cancel(task: Task, reason: unknown): void {
    const batch = task.batch;
    if (!batch?.controller || batch.cancelled) return;
    if (this.#unhold(batch)) return;
    batch.cancelled = true;
    batch.cancelReason = reason;
    // piscina's abort reason is never read (the caller was told already): no user value goes there.
    const controller = batch.controller;
    if (this.#abortGrace === 0) {
      this.#abort(controller);
      return;
    }
    batch.graceTimer = setTimeout(() => this.#abort(controller), this.#abortGrace);
    // The task may already run even if its start notice is still on its way: the notice then
    // forwards the cancel. One not started when the grace ends is dropped from piscina's queue.
    if (batch.thread !== undefined) this.#forwardCancel(batch);
  }

  /** Aborts a tracked batch's request; piscina terminates the thread if it runs it (an exit for `cancel`). */
  #abort(controller: AbortController): void {
    this.#cancelling = true;
    try {
      controller.abort();
    } finally {
      this.#cancelling = false;
    }
  }

  /**
   * The queue ran dry: soon, hand requests still waiting unstarted behind a long task to idle threads.
   * Cheap when called often: one timer at a time.
   */
  rebalance(): void {
    if (this.#prefetch === 0 || this.#stealTimer !== undefined || this.#destroyed) return;
    this.#stealTimer = setTimeout(() => this.#steal(), STEAL_AFTER_MS).unref();
  }

  /**
   * Takes back unstarted requests sent `STEAL_AFTER_MS` ago or more, one per idle thread, oldest
   * first; their tasks go back to the queue, which then hands them to the idle threads. A request
   * with a signal never waits behind another (see the balancer), so it is never taken back. While a
   * request still waits behind a running task (too young, no idle thread yet, or piscina holding
   * other requests), it looks again `STEAL_AFTER_MS` later: a thread may free up without a slot of
   * this pool freeing (its last result came before the steal looked), and nothing else would call.
   */
  #steal(): void {
    this.#stealTimer = undefined;
    if (this.#destroyed) return;
    const now = performance.now();
    const running = new Set<number>();
    const holding = new Set<number>();
    for (const batch of this.#batches.values()) {
      if (batch.replied) continue;
      const thread = claimedBy(this.#slots, batch.slot);
      if (thread !== 0) running.add(thread);
      if (batch.assigned !== undefined) holding.add(batch.assigned);
    }
    let idle = 0;
    if (this.#piscina.queueSize === 0) for (const thread of this.#piscina.threads) if (!holding.has(thread.threadId)) idle++;
    const back: Task[] = [];
    let waiting = false;
    for (const batch of this.#batches.values()) {
      // Unstarted, behind a task running on its thread: prefetched there. (One whose thread is still
      // loading the module has no task running and waits for it, in order.)
      if (batch.replied || batch.assigned === undefined || !running.has(batch.assigned) || claimedBy(this.#slots, batch.slot) !== 0) continue;
      if (idle === 0 || now - batch.sentAt < STEAL_AFTER_MS || !takeBack(this.#slots, batch.slot, batch.id)) {
        waiting = true;
        continue;
      }
      idle--;
      batch.stolen = true;
      this.#batches.delete(batch.id);
      for (const task of batch.tasks) {
        if (!pendingIn(batch, task)) continue;
        this.#ledger.recall(task);
        back.push(task);
      }
    }
    if (back.length > 0) {
      this.#host.requeue(back);
      this.#host.slotFreed();
    }
    if (waiting) this.rebalance();
  }

  /**
   * Takes back the request of a task sent alone that no thread has started (prefetched behind
   * another): true when it will never run, and the caller settles the task. False once it started.
   */
  withdraw(task: Task): boolean {
    const batch = task.batch;
    if (batch === undefined || batch.stolen || batch.tasks.length !== 1) return false;
    if (this.#unhold(batch)) return true;
    if (!takeBack(this.#slots, batch.slot, batch.id)) return false;
    batch.stolen = true;
    this.#batches.delete(batch.id);
    return true;
  }

  /**
   * Drops a batch that waits in `#held` (its caller was told already): its slot frees at once.
   * False when it is not there.
   */
  #unhold(batch: Batch): boolean {
    const at = this.#held.findIndex((entry) => entry.batch === batch);
    if (at === -1) return false;
    this.#held.splice(at, 1);
    batch.stolen = true;
    this.#batches.delete(batch.id);
    this.#release(batch);
    // Not from inside the caller's own handling of the abort.
    queueMicrotask(() => this.#host.slotFreed());
    return true;
  }

  /** Tasks on threads whose callers are still waiting. */
  *pendingTasks(): Iterable<Task> {
    for (const batch of this.#batches.values()) for (const task of batch.tasks) if (pendingIn(batch, task)) yield task;
  }

  /** Rejects nothing itself: the pool has settled every task. Stops every thread. */
  destroy(): Promise<void> {
    if (this.#stopped === undefined) {
      this.#destroyed = true;
      clearTimeout(this.#stealTimer);
      // Their results will never be read now: their slots are free (a batch whose reply came before
      // its result notices holds its slot until they come; without this, close() would wait for ever).
      for (const batch of this.#batches.values()) this.#release(batch);
      this.#batches.clear();
      this.#directs.clear();
      this.#held.length = 0;
      for (const lane of this.#lanes.values()) {
        lane.port?.close();
        clearTimeout(lane.reapTimer);
      }
      // Threads piscina already let go of (terminated for an abort, reaped when idle) may still be
      // exiting. piscina.destroy() waits only for its own, and an exit that comes after it has
      // finished makes piscina start minThreads anew: wait for those exits first, so any
      // replacement they trigger is one that piscina.destroy() then stops.
      const kept = new Set<Worker>(this.#piscina.threads);
      const leaving = [...this.#exits].filter(([worker]) => !kept.has(worker)).map(([, exited]) => exited);
      this.#stopped = Promise.all(leaving).then(() => this.#piscina.destroy());
    }
    return this.#stopped;
  }

  /** A run's own copy of the module's load failure (each rejection gets its own error object). */
  #loadErrorFor(failure: ModuleLoadError): ModuleLoadError {
    return new ModuleLoadError(this.#modulePath, failure.cause);
  }

  #nextId(): number {
    // Ids stay positive int32s: the slots hold them, and a claimed cell holds minus a thread id.
    this.#nextBatch = (this.#nextBatch % 0x7fff_fffe) + 1;
    return this.#nextBatch;
  }

  /** Aborts the `context.signal` of a cancelled batch's task, on its thread. */
  #forwardCancel(batch: Batch): void {
    const port = this.#lanes.get(batch.thread!)?.port;
    if (port === undefined) return;
    // The reason is a user's value: it may not clone, or even print.
    try {
      port.postMessage({ batch: batch.id, reason: batch.cancelReason });
    } catch {
      port.postMessage({ batch: batch.id, reason: describeValue(batch.cancelReason) });
    }
  }

  /** Listens to a new thread's own events: how it dies, and its exit code. */
  #watchThread(id: number): void {
    const worker = this.#piscina.threads.find((thread) => thread.threadId === id) as Worker | undefined;
    if (worker === undefined) return;
    this.#metrics.threadStarted(id);
    const lane = this.#laneOf(id);
    lane.watched = true;
    if (lane.viaPiscina === 0) this.#fellIdle(lane);
    if (this.#held.length > 0) queueMicrotask(() => this.#sendHeld());
    // piscina's listeners were attached first, so it has already rejected the thread's tasks when
    // these run; the rejections are handled in microtasks after, by which time the death is recorded.
    worker.on('error', (error: unknown) => {
      lane.leaving ??= 'crash';
      const code = (error as { code?: unknown } | null)?.code;
      this.#died(id, {
        retired: false,
        reason: code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out-of-memory' : 'uncaught-error',
        exitCode: undefined,
        error,
        exited: false,
        waiting: [],
      });
    });
    let exited!: () => void;
    this.#exits.set(worker, new Promise<void>((resolve) => (exited = resolve)));
    worker.once('exit', (exitCode: number) => {
      this.#exits.delete(worker);
      exited();
      // Unref'd first: a port closed while ref'd stays held (with its thread's Worker).
      lane.port?.unref();
      lane.port?.close();
      // Batches and tasks may outlive the thread and keep its lane: not its port.
      lane.port = undefined;
      clearTimeout(lane.reapTimer);
      this.#lanes.delete(id);
      const retired = lane.leaving === 'retire';
      const death = this.#deaths.get(id);
      const terminated = this.#terminated.get(id);
      this.#terminated.delete(id);
      const reason = retired ? 'retire' : death !== undefined ? 'crash' : (terminated ?? 'crash');
      if (death === undefined) {
        // A retirement counts as a death for `deathsAtSend` too: requests it held unclaimed failed
        // because the thread ended, not because they could not be sent.
        if (retired) this.#retired++;
        this.#died(id, { retired, reason: 'exit', exitCode, error: undefined, exited: true, waiting: [] });
      } else {
        death.exitCode = exitCode;
        death.exited = true;
        for (const resume of death.waiting.splice(0)) resume();
      }
      // Its direct batches fail (piscina rejected its own ones already): parentPort was drained, so
      // every result and reply it posted is in.
      if (lane.direct > 0) this.#failDirect(lane, exitCode);
      // Every failed batch of this thread was handled in the microtasks after its death.
      setImmediate(() => this.#deaths.delete(id));
      this.#metrics.threadExited(id, reason, exitCode);
    });
  }

  /**
   * Fails the direct batches of a thread that exited, in a microtask as piscina's rejections are. Not
   * from a closure inside `#watchThread`: the errors these make keep the functions on their stack
   * (V8 formats a stack lazily), and a closure there would keep the dead Worker for as long as a
   * caller keeps the error.
   */
  #failDirect(lane: Lane, exitCode: number): void {
    const failed: Batch[] = [];
    for (const batch of this.#directs.values()) if (batch.lane === lane) failed.push(batch);
    for (const batch of failed) this.#directs.delete(batch.id);
    queueMicrotask(() => {
      const error = new Error(`The thread exited with code ${exitCode} before it replied.`);
      for (const batch of failed) this.#onFailure(batch, error);
    });
  }

  #died(thread: number, death: Death): void {
    // Requests it held unstarted behind a running one go back to the queue without counting against
    // them: the running task is blamed. Deaths are rare, so a scan is fine.
    death.busy = false;
    for (const batch of this.#batches.values()) {
      if (!batch.released && !batch.stolen && claimedBy(this.#slots, batch.slot) === thread) {
        death.busy = true;
        break;
      }
    }
    this.#deathCount++;
    this.#deaths.set(thread, death);
    this.#lastDeath = death;
  }

  /**
   * A message a thread posted on parentPort. Anything without the pool's secret is a task's own post
   * and ignored; what carries it was made by entry.ts.
   */
  #onMessage(message: unknown): void {
    const notice = asNotice(message, this.#secret);
    if (notice === undefined) return;
    switch (notice[1]) {
      case Kind.Result: {
        const [, , , id, index, status, value] = notice;
        const batch = this.#batches.get(id);
        if (batch !== undefined) this.#deliver(batch, index, status, value);
        return;
      }
      case Kind.Start: {
        const [, , , id, thread] = notice;
        const batch = this.#batches.get(id);
        if (batch === undefined) return;
        batch.thread = thread;
        if (batch.cancelled) return this.#forwardCancel(batch);
        const task = batch.tasks[0]!;
        if (task.timeout !== undefined && task.batch === batch) this.#ledger.startTimer(task, () => this.#host.timedOut(task));
        return;
      }
      case Kind.Hello: {
        const [, , , thread, port] = notice;
        port.unref();
        // A thread's hello may come before piscina reports it ready; direct requests wait for both.
        if (this.#destroyed) return port.close();
        this.#laneOf(thread).port = port;
        return;
      }
      case Kind.Done: {
        const batch = this.#directs.get(notice[3]);
        if (batch === undefined) return;
        this.#directs.delete(batch.id);
        this.#onReply(batch, doneReply(notice));
        return;
      }
      case Kind.Progress: {
        // A task with onProgress travels alone; progress after it settled (aborted, timed out) is dropped.
        const [, , , id, value] = notice;
        const task = this.#batches.get(id)?.tasks[0];
        if (task !== undefined && task.state === TaskState.Dispatched && task.onProgress !== undefined) reportProgress(task, value);
        return;
      }
      case Kind.Retire: {
        const lane = this.#lanes.get(notice[3]);
        if (lane !== undefined) lane.leaving = 'retire';
        this.#metrics.threadRecycling(notice[3]);
        return;
      }
    }
  }

  /** Settles task `index` of `batch` from its outcome. */
  #deliver(batch: Batch, index: number, status: Status, value: unknown): void {
    const task = batch.tasks[index];
    if (task === undefined) return;
    const last = ++batch.received === batch.tasks.length;
    if (last && batch.replied) this.#batches.delete(batch.id);
    if (pendingIn(batch, task)) this.#settle(task, status, value);
    // Every result is in, so the thread is done with the request: its slot counts as free before
    // piscina's reply comes, so a caller that submits again on a result finds room (maxQueue: 0).
    if (last && this.#release(batch)) this.#host.slotFreed();
  }

  #settle(task: Task, status: Status, value: unknown): void {
    const ledger = this.#ledger;
    switch (status) {
      case Status.Ok:
        ledger.settle(task, true, value);
        return;
      case Status.Threw:
        ledger.settle(task, false, decode(value as WireError));
        return;
      case Status.UnknownTask:
        ledger.settle(task, false, new UnknownTaskError(task.name, value as string[]));
        return;
      case Status.ModuleLoad:
        ledger.settle(task, false, new ModuleLoadError(this.#modulePath, decode(value as WireError)));
        return;
      case Status.ResultNotCloneable:
        ledger.settle(task, false, new TaskResultError(decode(value as WireError)));
        return;
      case Status.ItemThrew: {
        const failure = value as ItemFailure;
        ledger.settle(task, false, new MapItemError(task.offset! + failure.index, decode(failure.error)));
        return;
      }
    }
  }

  /**
   * The batch's slot is free again: piscina replied, or every result is in. Returns false when it
   * already was. The thread touches the slot's cell only before it starts, so it can be reused.
   */
  #release(batch: Batch): boolean {
    if (batch.released) return false;
    batch.released = true;
    this.#metrics.slots(--this.#inFlight);
    this.#freeSlots.push(batch.slot);
    if (batch.graceTimer !== undefined) clearTimeout(batch.graceTimer);
    const lane = batch.lane;
    if (lane !== undefined) {
      if (!batch.direct) {
        lane.viaPiscina--;
        if (exclusive(batch)) lane.exclusive--;
      } else if (--lane.direct === 0) lane.port?.unref();
      this.#lightened(lane);
    }
    return true;
  }

  /** A thread's load fell: what waits in `#held` may go now, and an idle thread starts its idle time. */
  #lightened(lane: Lane): void {
    if (lane.viaPiscina === 0 && lane.direct === 0) this.#fellIdle(lane);
    if (this.#held.length > 0) this.#sendHeld();
  }

  /**
   * A thread's load fell to 0: `idleTimeout` later, it is stopped if it is still idle and more than
   * `minThreads` stay. One timer per thread at a time, re-armed for what is left when it fires early.
   */
  #fellIdle(lane: Lane): void {
    // (A thread that exited is no longer in #lanes: its batches fail after that.)
    if (this.#idleTimeout === Infinity || this.#destroyed || this.#lanes.get(lane.id) !== lane) return;
    lane.idleSince = performance.now();
    if (lane.reapTimer === undefined) lane.reapTimer = setTimeout(() => this.#reap(lane), this.#idleTimeout).unref();
  }

  #reap(lane: Lane): void {
    lane.reapTimer = undefined;
    if (this.#destroyed || lane.leaving !== undefined || this.#lanes.get(lane.id) !== lane) return;
    if (lane.viaPiscina > 0 || lane.direct > 0) return;
    const left = lane.idleSince + this.#idleTimeout - performance.now();
    if (left > 0) {
      lane.reapTimer = setTimeout(() => this.#reap(lane), left).unref();
      return;
    }
    let staying = 0;
    let worker: Worker | undefined;
    for (const thread of this.#piscina.threads as Worker[]) {
      if (thread.threadId === lane.id) worker = thread;
      if (this.#lanes.get(thread.threadId)?.leaving === undefined) staying++;
    }
    if (worker === undefined || staying <= this.#minThreads) return;
    lane.leaving = 'idle';
    this.#terminated.set(lane.id, 'idle');
    void worker.terminate();
  }

  #onReply(batch: Batch, reply: BatchReply): void {
    const tasks = batch.tasks;
    batch.replied = true;
    if (reply.length === 3) {
      // The last result rode in the reply (only when a thread holds one request at a time).
      batch.received++;
      const last = tasks[tasks.length - 1]!;
      if (pendingIn(batch, last)) this.#settle(last, reply[1], reply[2]);
    }
    // A chunk's time says nothing about single tasks; the map sizes its own chunks.
    if (!batch.stolen && tasks[0]!.offset === undefined) this.sizer.record(tasks.length, reply[0]);
    if (batch.received === tasks.length) this.#batches.delete(batch.id);
    else if (this.#batches.has(batch.id)) {
      // (Not taken back, and not dropped by destroy(): its notices will be read.)
      // The results came as notices on the other port, posted before this reply but not read yet:
      // parentPort can lag piscina's port by several round trips. The slot frees with the last of
      // them (#deliver), so nothing more goes out before the main thread knows how these went (a
      // failed chunk stops its map before the map's next chunks are sent).
      return;
    }
    this.#release(batch);
    this.#host.slotFreed();
  }

  #onFailure(batch: Batch, error: unknown): void {
    this.#release(batch);
    // Its tasks went back to the queue when it was taken back; or every result is in (its slot may
    // serve another request by now, so its cell says nothing about this one).
    if (batch.stolen || batch.received === batch.tasks.length) {
      this.#batches.delete(batch.id);
      return this.#host.slotFreed();
    }
    if (this.#destroyed || batch.cancelled) {
      this.#batches.delete(batch.id);
      // destroy() settled every task it knew of; one dispatched while it ran must not be left over.
      if (this.#destroyed) for (const task of batch.tasks) this.#ledger.settle(task, false, new PoolDestroyedError());
      this.#host.slotFreed();
      return;
    }
    const thread = claimedBy(this.#slots, batch.slot);
    const death = thread === 0 ? undefined : this.#deaths.get(thread);
    if (death !== undefined && !death.exited) {
      // An uncaught error is reported before the thread's other messages are drained; its exit comes
      // after them. Blame only once every result it posted is in.
      death.waiting.push(() => this.#handleFailure(batch, error, thread, death));
      return;
    }
    this.#handleFailure(batch, error, thread, death);
  }

  #handleFailure(batch: Batch, error: unknown, thread: number, death: Death | undefined): void {
    if (thread === 0 && !this.#loadSettled && this.#loaded !== undefined) {
      // Not started, while the module may be what kills threads: wait for the manifest's verdict.
      void this.#loaded.then(() => this.#handleFailure(batch, error, thread, death));
      return;
    }
    this.#batches.delete(batch.id);
    if (!this.#destroyed) {
      const unsettled = batch.tasks.filter((task) => pendingIn(batch, task));
      if (thread !== 0 && death?.retired === true) this.#recall(unsettled);
      else if (thread !== 0 && death !== undefined) this.#crashed(unsettled, death);
      else if (thread !== 0) {
        // The thread lives but piscina could not send the reply: only the last result rides in it,
        // the others came as notices.
        const last = batch.tasks[batch.tasks.length - 1]!;
        if (pendingIn(batch, last)) this.#ledger.settle(last, false, new TaskResultError(error));
      } else if (batch.assigned !== undefined && this.#deaths.get(batch.assigned)?.retired === true) this.#recall(unsettled);
      else if (this.#deathCount !== batch.deathsAtSend && !this.#alive(batch.assigned)) {
        // Prefetched behind a task its thread died running: that task is blamed, these go back uncounted.
        const holder = batch.assigned === undefined ? undefined : this.#deaths.get(batch.assigned);
        if (holder?.busy === true) this.#recall(unsettled);
        else this.#requeue(unsettled, false, error);
      } else this.#unsendable(unsettled, error);
    }
    // piscina rejects all of a dead thread's requests at once, so the rejections of those it held
    // unstarted (prefetched) are already queued: they go back to the queue before the pump fills
    // the freed slots, and keep their order.
    if (death !== undefined) queueMicrotask(() => this.#host.slotFreed());
    else this.#host.slotFreed();
  }

  /** The batch's thread has not died and is not on its way out: a failure there is not its death. */
  #alive(thread: number | undefined): boolean {
    if (thread === undefined || this.#deaths.has(thread)) return false;
    const lane = this.#lanes.get(thread);
    return lane !== undefined && lane.leaving === undefined;
  }

  /**
   * The thread died under the batch. Every result it posted was delivered first, so the first
   * unsettled task is the one that was running; the ones after it never started.
   */
  #crashed(unsettled: Task[], death: Death): void {
    const [running, ...rest] = unsettled;
    if (running === undefined) return;
    this.#ledger.settle(running, false, crashError(death));
    // Never started, and the one that killed the thread is blamed: no requeue counted against them.
    this.#recall(rest);
  }

  /**
   * The batch's thread retired: it ran the batch up to its last result (every one delivered) and
   * started nothing after, or never claimed the batch. The rest go back to the queue, uncounted as requeues.
   */
  #recall(unsettled: Task[]): void {
    const back: Task[] = [];
    for (const task of unsettled) {
      if (task.state !== TaskState.Dispatched) continue;
      if (task.transfer !== undefined) {
        this.#ledger.settle(task, false, buffersGone(undefined));
        continue;
      }
      this.#ledger.recall(task);
      back.push(task);
    }
    if (back.length > 0) this.#host.requeue(back);
  }

  /** Nothing of the batch reached a thread: clone failed on the way out. Find the culprit alone. */
  #unsendable(unsettled: Task[], error: unknown): void {
    if (unsettled.length > 1) return this.#requeue(unsettled, true, error);
    const task = unsettled[0];
    if (task === undefined) return;
    let valueType: string;
    try {
      valueType = uncloneableType(task.input, this.#inputDepth) ?? (task.input === null ? 'null' : typeof task.input);
    } catch {
      valueType = 'unknown';
    }
    this.#ledger.settle(task, false, new TaskInputError(valueType, error));
  }

  #requeue(tasks: Task[], alone: boolean, error: unknown): void {
    const failure = this.#loadFailure;
    if (failure !== undefined) {
      for (const task of tasks) this.#ledger.settle(task, false, this.#loadErrorFor(failure));
      return;
    }
    const back: Task[] = [];
    for (const task of tasks) {
      if (task.transfer !== undefined) this.#ledger.settle(task, false, buffersGone(error));
      else if (this.#ledger.requeue(task, alone)) back.push(task);
      else this.#ledger.settle(task, false, new WorkerCrashError('exit', undefined, error));
    }
    if (back.length > 0) this.#host.requeue(back);
  }
}
