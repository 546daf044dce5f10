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

async function runOne(batch: number, index: number, name: string, input: unknown, tracked: boolean): Promise<void> {
  if (loadError !== undefined) return send(batch, index, Status.ModuleLoad, loadError);
  const fn = tasks!.get(name);
  if (fn === undefined) return send(batch, index, Status.UnknownTask, taskNames);
  let context = untrackedContext;
  if (tracked) {
    const controller = new AbortController();
    controllers.set(batch, controller);
    context = { signal: controller.signal };
    parent.postMessage({ [TAG]: 'start', batch, thread: threadId });
  }
  let status: Status = Status.Ok;
  let value: unknown;
  try {
    value = fn(input, context);
    // Awaiting only real thenables keeps a microtask hop off every synchronous task.
    if (value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function') value = await value;
  } catch (error) {
    status = Status.Threw;
    value = toWire(error);
  } finally {
    if (tracked) controllers.delete(batch);
  }
  send(batch, index, status, value);
}

/** piscina's handler: one call per batch. */
export default async function handle(request: Request): Promise<BatchReply | ManifestReply> {
  if (tasks === undefined && loadError === undefined) await loading;
  if (request.kind === 'manifest') {
    return loadError !== undefined ? { ok: false, error: loadError } : { ok: true, names: taskNames };
  }
  const { batch, names, inputs, tracked } = request;
  const start = performance.now();
  for (let i = 0; i < names.length; i++) {
    // Tasks of a batch run one after another: that is what lets the main thread blame the right task
    // when the thread dies, and requeue the ones that never started.
    await runOne(batch, i, names[i]!, inputs[i], tracked);
  }
  return { elapsed: performance.now() - start };
}
