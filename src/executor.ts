/**
 * The only file that talks to piscina. piscina owns the threads (start, idle reaping, replacing the
 * dead, terminating on abort, resource limits); this file sends it batches, reads the results the
 * threads post, and works out what a thread's death means for each task of its batch.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MessagePort, TransferListItem } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { BatchSizer } from './batching.ts';
import { MapItemError, ModuleLoadError, TaskInputError, TaskResultError, UnknownTaskError, WorkerCrashError } from './errors.ts';
import type { ResolvedPoolOptions } from './options.ts';
import type { Batch, Task } from './task.ts';
import { uncloneableType } from './worker/clone.ts';
import {
  FIRST,
  Kind,
  Status,
  TAG,
  type BatchReply,
  type ItemFailure,
  type ManifestReply,
  type Notice,
  type Request,
  type WireError,
  type WorkerConfig,
} from './worker/protocol.ts';
import { fromWire } from './worker/wire-error.ts';

/** What the executor reports back to the pool. */
export interface ExecutorHost {
  /** The task finished; `ok` tells resolve from reject. Called at most once per task. */
  settle(task: Task, ok: boolean, value: unknown): void;
  /** These tasks were popped but never started (their thread died first): queue them again. */
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
function workerConfig(module: URL): WorkerConfig {
  const entryIsTs = import.meta.url.endsWith('.ts');
  const entry = new URL(entryIsTs ? './worker/entry.ts' : './worker/entry.js', import.meta.url).href;
  let tsx: string | undefined;
  if (entryIsTs || /\.[cm]?ts$/.test(module.pathname)) {
    try {
      tsx = resolveTsxApi();
    } catch (cause) {
      throw new ModuleLoadError(module.href, new Error('TypeScript task modules need tsx: `npm install --save-dev tsx`.', { cause }));
    }
  }
  return { entry, module: module.href, tsx };
}

/** piscina's message for a thread that exited under a task (piscina 5 `onWorkerExit`); it has no code field. */
const EXIT_MESSAGE = /^worker exited with code: (-?\d+)/;

function crashError(error: unknown): WorkerCrashError {
  const e = error as { code?: unknown; message?: unknown };
  if (e?.code === 'ERR_WORKER_OUT_OF_MEMORY') return new WorkerCrashError('out-of-memory', undefined, error);
  const exit = typeof e?.message === 'string' ? EXIT_MESSAGE.exec(e.message) : null;
  if (exit) return new WorkerCrashError('exit', Number(exit[1]), error);
  return new WorkerCrashError('uncaught-error', undefined, error);
}

export class Executor {
  readonly #piscina: Piscina;
  readonly #host: ExecutorHost;
  readonly #abortGrace: number;
  readonly #modulePath: string;
  readonly #batches = new Map<number, Batch>();
  readonly #cancelPorts = new Map<number, MessagePort>();
  #nextBatch = 0;
  #inFlight = 0;
  /** Batches whose reply came in before all their results did. */
  #lingering = 0;
  /**
   * Ref'd while a batch lingers. piscina unrefs a thread once its reply is in, but results posted
   * on the thread's other port may still be on their way; without this the process could exit with
   * a task's promise pending.
   */
  readonly #keepAlive = setInterval(() => {}, 2 ** 30).unref();
  #destroyed = false;
  /** Slots: batches that may be on threads at once. */
  readonly capacity: number;
  /** Learns task run times from the batch replies; the pool asks it for batch sizes. */
  readonly sizer: BatchSizer;

  constructor(options: ResolvedPoolOptions, host: ExecutorHost) {
    this.#host = host;
    this.#abortGrace = options.abortGrace;
    this.#modulePath = options.module.href;
    this.capacity = options.maxThreads * options.concurrentTasksPerWorker;
    this.sizer = new BatchSizer(options.maxBatch);
    this.#piscina = new Piscina({
      filename: fileURLToPath(new URL('./worker/bootstrap.js', import.meta.url)),
      workerData: workerConfig(options.module),
      minThreads: options.minThreads,
      maxThreads: options.maxThreads,
      idleTimeout: options.idleTimeout,
      concurrentTasksPerWorker: options.concurrentTasksPerWorker,
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
      // Our queue is the bound; piscina's only ever holds a task for a moment.
      maxQueue: Infinity,
      recordTiming: false,
      niceIncrement: options.niceIncrement,
    });
    this.#piscina.on('message', (message: unknown) => {
      if (Array.isArray(message) && message[0] === TAG) this.#onNotice(message as Notice);
    });
    this.#piscina.on('workerDestroy', (worker: { id: number }) => {
      this.#cancelPorts.get(worker.id)?.close();
      this.#cancelPorts.delete(worker.id);
    });
    // A thread that dies with no task on it (an error thrown from a stray timer, say) is replaced by
    // piscina; there is no caller to tell, and an unhandled 'error' event would kill the process.
    this.#piscina.on('error', () => {});
  }

  /** Slots not taken by a batch. */
  get free(): number {
    return this.capacity - this.#inFlight;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get threads(): number {
    return this.#piscina.threads.length;
  }

  /** Loads the module in a thread and lists its task names. */
  async manifest(): Promise<string[]> {
    const request: Request = [Kind.Manifest];
    const reply = (await this.#piscina.run(request)) as ManifestReply;
    if (reply.ok) return reply.names;
    throw new ModuleLoadError(this.#modulePath, fromWire(reply.error));
  }

  /** Sends tasks to a thread as one batch. A tracked batch holds exactly one task. */
  send(tasks: Task[], tracked: boolean): void {
    const id = this.#nextBatch++;
    const controller = tracked ? new AbortController() : undefined;
    const batch: Batch = {
      id,
      tasks,
      received: 0,
      controller,
      thread: undefined,
      cancelled: false,
      cancelReason: undefined,
      replied: false,
      graceTimer: undefined,
    };
    const first = tasks[0]!;
    let request: Request;
    if (first.offset >= 0) {
      first.batch = batch;
      request = [Kind.Chunk, id, tracked, first.name, first.input as unknown[]];
    } else {
      request = [Kind.Batch, id, tracked];
      for (let i = 0; i < tasks.length; i++) {
        const task = tasks[i]!;
        task.batch = batch;
        request[FIRST + 2 * i] = task.name;
        request[FIRST + 2 * i + 1] = task.input;
      }
    }
    this.#batches.set(id, batch);
    this.#inFlight++;
    const transfer = tasks.length === 1 ? first.transfer : undefined;
    const options =
      controller || transfer
        ? { ...(controller ? { signal: controller.signal } : {}), ...(transfer ? { transferList: transfer as TransferListItem[] } : {}) }
        : undefined;
    this.#piscina.run(request, options).then(
      (reply: BatchReply) => this.#onReply(batch, reply),
      (error: unknown) => this.#onFailure(batch, error),
    );
  }

  /**
   * Gives up on a task on a thread: the caller was already told. A tracked task's `context.signal`
   * aborts at once, and its thread is terminated if the task has not settled `abortGrace` ms later.
   */
  cancel(task: Task, reason: unknown): void {
    const batch = task.batch;
    if (!batch?.controller || batch.cancelled) return;
    batch.cancelled = true;
    batch.cancelReason = reason;
    const controller = batch.controller;
    if (this.#abortGrace === 0) {
      controller.abort(reason);
      return;
    }
    // The task may already run even if its start notice is still on its way: the notice then
    // forwards the cancel. One not started when the grace ends is dropped from piscina's queue.
    if (batch.thread !== undefined) this.#forwardCancel(batch);
    batch.graceTimer = setTimeout(() => controller.abort(reason), this.#abortGrace);
  }

  /** Aborts the `context.signal` of a cancelled batch's task, on its thread. */
  #forwardCancel(batch: Batch): void {
    const port = this.#cancelPorts.get(batch.thread!);
    if (port === undefined) return;
    try {
      port.postMessage({ batch: batch.id, reason: batch.cancelReason });
    } catch {
      port.postMessage({ batch: batch.id, reason: String(batch.cancelReason) });
    }
  }

  /** Tasks on threads whose callers are still waiting. */
  *pendingTasks(): Iterable<Task> {
    for (const batch of this.#batches.values()) for (const task of batch.tasks) if (!task.settled) yield task;
  }

  /** Rejects nothing itself: the pool has settled every task. Stops every thread. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    clearInterval(this.#keepAlive);
    this.#batches.clear();
    await this.#piscina.destroy();
  }

  #onNotice(notice: Notice): void {
    if (notice[1] === 'result') {
      const batch = this.#batches.get(notice[2]);
      if (batch !== undefined) this.#deliver(batch, notice[3], notice[4], notice[5]);
    } else if (notice[1] === 'start') {
      const batch = this.#batches.get(notice[2]);
      if (batch === undefined) return;
      batch.thread = notice[3];
      if (batch.cancelled) return this.#forwardCancel(batch);
      const task = batch.tasks[0]!;
      if (task.timeout !== undefined && !task.settled) {
        task.timer = setTimeout(() => this.#host.timedOut(task), task.timeout);
      }
    } else if (notice[1] === 'hello') {
      this.#cancelPorts.set(notice[2], notice[3]);
      notice[3].unref();
    }
  }

  /** Settles task `index` of `batch` from its result. */
  #deliver(batch: Batch, index: number, status: Status, value: unknown): void {
    const task = batch.tasks[index]!;
    if (++batch.received === batch.tasks.length) {
      this.#batches.delete(batch.id);
      if (batch.replied && --this.#lingering === 0) this.#keepAlive.unref();
    }
    if (task.settled) return;
    switch (status) {
      case Status.Ok:
        return this.#host.settle(task, true, value);
      case Status.Threw:
        return this.#host.settle(task, false, fromWire(value as WireError));
      case Status.UnknownTask:
        return this.#host.settle(task, false, new UnknownTaskError(task.name, value as string[]));
      case Status.ModuleLoad:
        return this.#host.settle(task, false, new ModuleLoadError(this.#modulePath, fromWire(value as WireError)));
      case Status.ResultNotCloneable:
        return this.#host.settle(task, false, new TaskResultError(fromWire(value as WireError)));
      case Status.ItemThrew: {
        const failure = value as ItemFailure;
        return this.#host.settle(task, false, new MapItemError(task.offset + failure.index, fromWire(failure.error)));
      }
    }
  }

  #onReply(batch: Batch, reply: BatchReply): void {
    if (reply.length === 3) this.#deliver(batch, batch.tasks.length - 1, reply[1], reply[2]);
    if (batch.received < batch.tasks.length) {
      batch.replied = true;
      if (this.#lingering++ === 0) this.#keepAlive.ref();
    }
    this.#inFlight--;
    if (batch.graceTimer !== undefined) clearTimeout(batch.graceTimer);
    if (batch.graceTimer !== undefined) clearTimeout(batch.graceTimer);
    // A chunk's time says nothing about single tasks; the map sizes its own chunks.
    if (batch.tasks[0]!.offset < 0) this.sizer.record(batch.tasks.length, reply[0]);
    this.#host.slotFreed();
  }

  #onFailure(batch: Batch, error: unknown): void {
    this.#inFlight--;
    if (batch.graceTimer !== undefined) clearTimeout(batch.graceTimer);
    if (batch.graceTimer !== undefined) clearTimeout(batch.graceTimer);
    this.#batches.delete(batch.id);
    if (this.#destroyed) return;
    const tasks = batch.tasks;
    if ((error as Error)?.name === 'DataCloneError') {
      // Nothing ran: find the culprit by sending the tasks one by one.
      if (tasks.length > 1) {
        for (const task of tasks) this.send([task], batch.controller !== undefined);
      } else {
        const task = tasks[0]!;
        if (!task.settled) this.#host.settle(task, false, new TaskInputError(uncloneableType(task.input) ?? typeof task.input, error));
      }
    } else if (!batch.cancelled) {
      // The thread died. Its results were all delivered before piscina reported the exit, so the
      // first unsettled task is the one that was running; the ones after it never started.
      const requeue: Task[] = [];
      let blamed = false;
      for (const task of tasks) {
        if (task.settled) continue;
        if (!blamed) {
          blamed = true;
          this.#host.settle(task, false, crashError(error));
        } else {
          task.batch = undefined;
          requeue.push(task);
        }
      }
      if (requeue.length > 0) this.#host.requeue(requeue);
    }
    this.#host.slotFreed();
  }

}
