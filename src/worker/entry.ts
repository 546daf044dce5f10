/**
 * What each worker thread runs: loads the pool's task module once, then runs the batches piscina
 * hands it. Never imports main-thread modules.
 */
import { MessageChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { TaskContext } from './context.ts';
import {
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
import { toWire } from './wire-error.ts';

type TaskFunction = (input: unknown, context: TaskContext) => unknown;

const config = workerData as WorkerConfig;
const parent = parentPort!;

// Cancels arrive on a port of our own: piscina owns the task channel and parentPort's inbound side.
const controllers = new Map<number, AbortController>();
const cancels = new MessageChannel();
cancels.port1.on('message', (message: Cancel) => controllers.get(message.batch)?.abort(message.reason));
cancels.port1.unref();
parent.postMessage({ [TAG]: 'hello', thread: threadId, port: cancels.port2 }, [cancels.port2]);

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
    parent.postMessage({ [TAG]: 'result', batch, index, status, value });
  } catch (error) {
    parent.postMessage({ [TAG]: 'result', batch, index, status: Status.ResultNotCloneable, value: toWire(error) });
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
  parent.postMessage({ [TAG]: 'start', batch, thread: threadId });
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
async function runChunk(request: ChunkRequest, context: TaskContext): Promise<Outcome> {
  const { name, items } = request;
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

/** piscina's handler: one call per batch. */
export default async function handle(request: Request): Promise<BatchReply | ManifestReply> {
  if (tasks === undefined && loadError === undefined) await loading;
  if (request.kind === 'manifest') {
    return loadError !== undefined ? { ok: false, error: loadError } : { ok: true, names: taskNames };
  }
  const context = track(request.batch, request.tracked);
  try {
    return await (request.kind === 'chunk' ? chunk(request, context) : batch(request, context));
  } finally {
    if (request.tracked) controllers.delete(request.batch);
  }
}

async function chunk(request: ChunkRequest, context: TaskContext): Promise<BatchReply> {
  const start = performance.now();
  const outcome = await runChunk(request, context);
  if (!surelyCloneable(outcome.value)) {
    send(request.batch, 0, outcome.status, outcome.value);
    return { elapsed: performance.now() - start };
  }
  return { elapsed: performance.now() - start, status: outcome.status, value: outcome.value };
}

async function batch(request: BatchRequest, context: TaskContext): Promise<BatchReply> {
  const { names, inputs } = request;
  const last = names.length - 1;
  const start = performance.now();
  for (let i = 0; i <= last; i++) {
    // Tasks of a batch run one after another: that is what lets the main thread blame the right task
    // when the thread dies, and requeue the ones that never started.
    let outcome = runOne(names[i]!, inputs[i], context);
    if (outcome instanceof Promise) outcome = await outcome;
    if (i === last && surelyCloneable(outcome.value)) {
      // The last result rides in the reply: a lone task costs one message each way.
      return { elapsed: performance.now() - start, status: outcome.status, value: outcome.value };
    }
    send(request.batch, i, outcome.status, outcome.value);
  }
  return { elapsed: performance.now() - start };
}
