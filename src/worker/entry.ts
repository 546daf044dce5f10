/**
 * What each worker thread runs: loads the pool's task module once, then runs the batches piscina
 * hands it. Never imports main-thread modules.
 */
import { MessageChannel, parentPort, threadId, workerData, type TransferListItem } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { TaskContext } from './context.ts';
import {
  FIRST,
  Kind,
  Status,
  TAG,
  type BatchReply,
  type BatchRequest,
  type Cancel,
  type ChunkRequest,
  type ManifestReply,
  type Request,
  type WireError,
  type WorkerConfig,
} from './protocol.ts';
import { surelyCloneable } from './clone.ts';
import { isTransfer, TRANSFER } from './transfer.ts';
import { toWire } from './wire-error.ts';

type TaskFunction = (input: unknown, context: TaskContext) => unknown;

const config = workerData as WorkerConfig;
const parent = parentPort!;

// Cancels arrive on a port of our own: piscina owns the task channel and parentPort's inbound side.
const controllers = new Map<number, AbortController>();
const cancels = new MessageChannel();
cancels.port1.on('message', (message: Cancel) => controllers.get(message.batch)?.abort(message.reason));
cancels.port1.unref();
parent.postMessage([TAG, 'hello', threadId, cancels.port2], [cancels.port2]);

let tasks: Map<string, TaskFunction> | undefined;
let taskNames: string[] = [];
let loadError: WireError | undefined;

// Starts loading at once so the first task does not pay for it; a failure is reported per task.
const loading = import(config.module).then(
  (module: Record<string, unknown>) => {
    const found = new Map<string, TaskFunction>();
    for (const [name, value] of Object.entries(module)) {
      if (typeof value === 'function') found.set(name, value as TaskFunction);
    }
    tasks = found;
    taskNames = [...found.keys()];
  },
  (error: unknown) => {
    loadError = toWire(error);
  },
);

const untrackedContext: TaskContext = Object.freeze({ signal: new AbortController().signal });

function send(batch: number, index: number, status: Status, value: unknown): void {
  try {
    if (isTransfer(value)) parent.postMessage([TAG, 'result', batch, index, status, value.value], value[TRANSFER] as TransferListItem[]);
    else parent.postMessage([TAG, 'result', batch, index, status, value]);
  } catch (error) {
    parent.postMessage([TAG, 'result', batch, index, Status.ResultNotCloneable, toWire(error)]);
  }
}

interface Outcome {
  status: Status;
  value: unknown;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * For a tracked request: its context, whose signal the main thread can abort, and the start notice
 * that starts its timeout. Untracked requests share one context whose signal never aborts.
 */
function track(batch: number, tracked: boolean): TaskContext {
  if (!tracked) return untrackedContext;
  const controller = new AbortController();
  controllers.set(batch, controller);
  parent.postMessage([TAG, 'start', batch, threadId]);
  return { signal: controller.signal };
}

/** Runs one task. Synchronous tasks return their outcome directly: no promise, no microtask hop. */
function runOne(name: string, input: unknown, context: TaskContext): Outcome | Promise<Outcome> {
  if (loadError !== undefined) return { status: Status.ModuleLoad, value: loadError };
  const fn = tasks!.get(name);
  if (fn === undefined) return { status: Status.UnknownTask, value: taskNames };
  let value: unknown;
  try {
    value = fn(input, context);
  } catch (error) {
    return { status: Status.Threw, value: toWire(error) };
  }
  if (!isThenable(value)) return { status: Status.Ok, value };
  return Promise.resolve(value).then(
    (result): Outcome => ({ status: Status.Ok, value: result }),
    (error: unknown): Outcome => ({ status: Status.Threw, value: toWire(error) }),
  );
}

/** Runs one task over each item of a chunk, in order, stopping at the first failure. */
async function runChunk(name: string, items: unknown[], context: TaskContext): Promise<Outcome> {
  const start = performance.now();
  const results = new Array<unknown>(items.length);
  for (let i = 0; i < items.length; i++) {
    let outcome = runOne(name, items[i], context);
    if (outcome instanceof Promise) outcome = await outcome;
    if (outcome.status === Status.Threw) return { status: Status.ItemThrew, value: { index: i, error: outcome.value } };
    if (outcome.status !== Status.Ok) return outcome;
    results[i] = outcome.value;
  }
  return { status: Status.Ok, value: { results, ms: performance.now() - start } };
}

/**
 * piscina's handler: one call per request. Returns a plain value when every task was synchronous,
 * so a lone synchronous task costs no promise on this side.
 */
export default function handle(request: Request): BatchReply | ManifestReply | Promise<BatchReply | ManifestReply> {
  if (tasks === undefined && loadError === undefined) return loading.then(() => handle(request));
  if (request[0] === Kind.Manifest) {
    return loadError !== undefined ? { ok: false, error: loadError } : { ok: true, names: taskNames };
  }
  const id = request[1];
  const tracked = request[2];
  const context = tracked ? track(id, true) : untrackedContext;
  const reply = request[0] === Kind.Chunk ? chunk(request, context) : batch(request, context);
  if (!tracked) return reply;
  const untrack = (): void => void controllers.delete(id);
  if (reply instanceof Promise) return reply.finally(untrack);
  untrack();
  return reply;
}

async function chunk(request: ChunkRequest, context: TaskContext): Promise<BatchReply> {
  const start = performance.now();
  const outcome = await runChunk(request[3], request[4], context);
  if (!surelyCloneable(outcome.value)) {
    send(request[1], 0, outcome.status, outcome.value);
    return [performance.now() - start];
  }
  return [performance.now() - start, outcome.status, outcome.value];
}

/**
 * Runs a batch's tasks one after another: that is what lets the main thread blame the right task
 * when the thread dies, and requeue the ones that never started. Stays synchronous until a task
 * returns a promise.
 */
function batch(request: BatchRequest, context: TaskContext, from = FIRST, start = performance.now()): BatchReply | Promise<BatchReply> {
  for (let at = from; at < request.length; at += 2) {
    const outcome = runOne(request[at] as string, request[at + 1], context);
    if (outcome instanceof Promise) {
      return outcome.then((settled) => finishOne(request, at, settled, start) ?? batch(request, context, at + 2, start));
    }
    const reply = finishOne(request, at, outcome, start);
    if (reply) return reply;
  }
  return [performance.now() - start];
}

/** Sends the result of the task at `at`, or returns the reply that carries it when it is the batch's last. */
function finishOne(request: BatchRequest, at: number, outcome: Outcome, start: number): BatchReply | undefined {
  const last = at + 2 >= request.length;
  if (last && surelyCloneable(outcome.value)) {
    // The last result rides in the reply: a lone task costs one message each way.
    return [performance.now() - start, outcome.status, outcome.value];
  }
  send(request[1], (at - FIRST) >> 1, outcome.status, outcome.value);
  return last ? [performance.now() - start] : undefined;
}
