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
  type Cancel,
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

/** Runs one task. Synchronous tasks return their outcome directly: no promise, no microtask hop. */
function runOne(batch: number, name: string, input: unknown, tracked: boolean): Outcome | Promise<Outcome> {
  if (loadError !== undefined) return { status: Status.ModuleLoad, value: loadError };
  const fn = tasks!.get(name);
  if (fn === undefined) return { status: Status.UnknownTask, value: taskNames };
  let context = untrackedContext;
  if (tracked) {
    const controller = new AbortController();
    controllers.set(batch, controller);
    context = { signal: controller.signal };
    parent.postMessage({ [TAG]: 'start', batch, thread: threadId });
  }
  let value: unknown;
  try {
    value = fn(input, context);
  } catch (error) {
    if (tracked) controllers.delete(batch);
    return { status: Status.Threw, value: toWire(error) };
  }
  if (!isThenable(value)) {
    if (tracked) controllers.delete(batch);
    return { status: Status.Ok, value };
  }
  return Promise.resolve(value).then(
    (result): Outcome => ({ status: Status.Ok, value: result }),
    (error: unknown): Outcome => ({ status: Status.Threw, value: toWire(error) }),
  ).finally(() => {
    if (tracked) controllers.delete(batch);
  });
}

/** piscina's handler: one call per batch. */
export default async function handle(request: Request): Promise<BatchReply | ManifestReply> {
  if (tasks === undefined && loadError === undefined) await loading;
  if (request.kind === 'manifest') {
    return loadError !== undefined ? { ok: false, error: loadError } : { ok: true, names: taskNames };
  }
  const { batch, names, inputs, tracked } = request;
  const last = names.length - 1;
  const start = performance.now();
  for (let i = 0; i <= last; i++) {
    // Tasks of a batch run one after another: that is what lets the main thread blame the right task
    // when the thread dies, and requeue the ones that never started.
    let outcome = runOne(batch, names[i]!, inputs[i], tracked);
    if (outcome instanceof Promise) outcome = await outcome;
    if (i === last && surelyCloneable(outcome.value)) {
      // The last result rides in the reply: a lone task costs one message each way.
      return { elapsed: performance.now() - start, status: outcome.status, value: outcome.value };
    }
    send(batch, i, outcome.status, outcome.value);
  }
  return { elapsed: performance.now() - start };
}
