/**
 * What each worker thread runs: loads the pool's task module once, then runs the requests piscina
 * hands it and the ones the main thread posts straight to its own port. Never imports main-thread modules.
 *
 * Every function here is total: whatever a task throws, returns or rejects with (a Proxy, a throwing
 * getter, no prototype) becomes that task's outcome. The handler never throws and never rejects, so a
 * piscina error for a request can only mean the request never arrived or the thread died.
 */
import { MessageChannel, parentPort, threadId, workerData, type TransferListItem } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { TaskContext } from './context.ts';
import {
  claim,
  batchInput,
  doneNotice,
  batchName,
  batchSize,
  Flag,
  helloNotice,
  Kind,
  progressNotice,
  resultNotice,
  retireNotice,
  setBatchInput,
  startNotice,
  Status,
  type BatchReply,
  type BatchRequest,
  type CallbackInput,
  type Cancel,
  type ChunkRequest,
  type ManifestReply,
  type Request,
  type WireError,
  type WorkerConfig,
} from './protocol.ts';
import { NEVER, openCallbacks } from './callbacks.ts';
import { MAX_DEPTH, nestsDeeperThan, surelyCloneable, tooDeepError } from './clone.ts';
import { Reporter } from './progress.ts';
import { isTransfer, TRANSFER } from './transfer.ts';
import { toWire } from './wire-error.ts';

type TaskFunction = (input: unknown, context: TaskContext) => unknown;

const config = workerData as WorkerConfig;
const parent = parentPort!;
// Taken before the task module loads, and gone from workerData for it (see WorkerConfig.secret).
const secret = config.secret!;
delete config.secret;

// Cancels and direct requests arrive on a port of our own: piscina owns the task channel and
// parentPort's inbound side.
const controllers = new Map<number, AbortController>();
const own = new MessageChannel();
own.port1.on('message', (message: Cancel | BatchRequest | ChunkRequest) => {
  if (Array.isArray(message)) direct(message);
  else controllers.get(message.batch)?.abort(message.reason);
});
own.port1.unref();
parent.postMessage(helloNotice(secret, threadId, own.port2), [own.port2]);

let tasks: Map<string, TaskFunction> | undefined;
let taskNames: string[] = [];
let loadError: WireError | undefined;

/**
 * import() resolves its promise with the module namespace, and a namespace that exports `then` is a
 * thenable: the promise would call that export instead of resolving. A one-line wrapper module
 * re-exports the namespace under a name, so what import() resolves with never has a `then`.
 */
function importNamespace(href: string): Promise<{ tasks: Record<string, unknown> }> {
  const source = `export * as tasks from ${JSON.stringify(href)};`;
  return import(`data:text/javascript,${encodeURIComponent(source)}`) as Promise<{ tasks: Record<string, unknown> }>;
}

// Starts loading at once so the first task does not pay for it; a failure is reported per task.
const loading = importNamespace(config.module)
  .then((loaded) => {
    const found = new Map<string, TaskFunction>();
    for (const [name, value] of Object.entries(loaded.tasks)) {
      if (typeof value === 'function') found.set(name, value as TaskFunction);
    }
    tasks = found;
    taskNames = [...found.keys()];
  })
  .catch((error: unknown) => {
    loadError = toWire(error);
  });

const noProgress = (): void => {};
const untrackedContext: TaskContext = Object.freeze({ signal: NEVER, progress: noProgress });

/** Reporters of the running requests with `Flag.Progress`, by batch id. */
const reporters = new Map<number, Reporter>();

/** Posts a progress value; one that cannot be posted (already cloned once, so only in theory) is dropped. */
function postProgress(batch: number, value: unknown): void {
  try {
    parent.postMessage(progressNotice(secret, batch, value));
  } catch {
    // dropped: the task goes on, and the next value or the result follows
  }
}

/**
 * Posts a task's outcome as a `Result` notice; a value that cannot be posted becomes `ResultNotCloneable`.
 * A task's pending progress goes first.
 */
function post(batch: number, index: number, status: Status, value: unknown): void {
  if (reporters.size > 0) reporters.get(batch)?.end();
  try {
    // Serializing here would succeed (this thread's stack is larger), and reading it back fail on
    // the main thread, the message lost: the run would never settle.
    if (typeof value === 'object' && value !== null && nestsDeeperThan(isTransfer(value) ? value.value : value, MAX_DEPTH)) {
      throw tooDeepError("The task's result");
    }
    if (isTransfer(value)) parent.postMessage(resultNotice(secret, batch, index, status, value.value), value[TRANSFER] as TransferListItem[]);
    else parent.postMessage(resultNotice(secret, batch, index, status, value));
  } catch (error) {
    // toWire's output always clones.
    parent.postMessage(resultNotice(secret, batch, index, Status.ResultNotCloneable, toWire(error)));
  }
}

interface Outcome {
  status: Status;
  value: unknown;
}

const ok = (value: unknown): Outcome => ({ status: Status.Ok, value });
const threw = (error: unknown): Outcome => ({ status: Status.Threw, value: toWire(error) });

/**
 * For a request with flags: its context. Tracked: a signal the main thread can abort, and the start
 * notice that starts its timeout. Progress: a coalescing reporter. Requests without flags share one
 * context whose signal never aborts and whose `progress` does nothing.
 */
function contextFor(batch: number, flags: number): TaskContext {
  let signal = NEVER;
  if (flags & Flag.Tracked) {
    const controller = new AbortController();
    controllers.set(batch, controller);
    parent.postMessage(startNotice(secret, batch, threadId));
    signal = controller.signal;
  }
  let progress: (value: unknown) => void = noProgress;
  if (flags & Flag.Progress) {
    const reporter = new Reporter((value) => postProgress(batch, value));
    reporters.set(batch, reporter);
    progress = reporter.report;
  }
  return { signal, progress };
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
    return threw(error);
  }
  if (value === null || typeof value !== 'object') return ok(value);
  let then: unknown;
  try {
    then = (value as Partial<PromiseLike<unknown>>).then;
  } catch (error) {
    // The task returned a value whose reading throws (a getter, a Proxy trap): its result is bad.
    return { status: Status.ResultNotCloneable, value: toWire(error) };
  }
  if (typeof then !== 'function') return ok(value);
  return Promise.resolve(value).then(ok, threw);
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
  return ok({ results, ms: performance.now() - start });
}

type Reply = BatchReply | ManifestReply;

/** Requests started and not yet replied to. */
let active = 0;
/** Requests that arrived while `config.concurrency` were running: prefetched ones, unclaimed until they start. */
const waiting: Array<() => void> = [];

// Recycling (`maxTasksPerThread`, `maxHeapPerThreadMb`). With both off, `recycle` is false and no
// task pays more than that one check.
const maxTasks = config.maxTasks;
const maxHeapBytes = config.maxHeapBytes;
const recycle = maxTasks !== Infinity || maxHeapBytes !== undefined;
/** Tasks (map items) this thread has finished. */
let finished = 0;
/**
 * Past a limit: every result from now on goes as a notice, no task starts after the running ones,
 * requests waiting here stay unclaimed (the main thread queues them again), and once the running
 * requests are done the thread says so and exits.
 */
let retiring = false;

/** A request cut short by retirement: its tasks after the last result never started. */
const HALT = Symbol('halt');
/** The reply of a request cut short: none, ever. The thread exits; piscina then fails the request. */
const never = new Promise<never>(() => {});

/**
 * Counts `n` finished tasks and decides whether the thread retires. It says so at once, ahead of the
 * result that took it past its limit (the same port keeps that order): had the main thread read that
 * result first, it could send a run in between, to a thread that would exit without starting it
 * (a run that moves buffers would lose them).
 */
function tally(n: number): void {
  finished += n;
  if (retiring) return;
  if (finished >= maxTasks || (maxHeapBytes !== undefined && getHeapStatistics().used_heap_size > maxHeapBytes)) {
    retiring = true;
    parent.postMessage(retireNotice(secret, threadId));
  }
}

/** Once the running requests are done; every result was posted (on parentPort) before it. */
function retire(): never {
  process.exit(0);
}

/**
 * piscina's handler: one call per request. Returns a plain value when every task was synchronous,
 * so a lone synchronous task costs no promise on this side.
 */
export default function handle(request: Request): Reply | Promise<Reply> {
  if (request[0] === Kind.Manifest) {
    claim(config.slots, request[1], request[2], threadId);
    return tasks === undefined && loadError === undefined ? loading.then(manifest) : manifest();
  }
  // A batch is claimed once the module has loaded: a thread that dies loading it (process.exit at
  // import) never started the batch, which then goes back to the queue rather than take the blame.
  if (tasks === undefined && loadError === undefined) return loading.then(() => admit(request, undefined));
  return admit(request, undefined);
}

/**
 * A request the main thread posted to this thread's own port, bypassing piscina: its reply goes as a
 * `Done` notice on parentPort, after its results on the same port. Only requests without flags or
 * transfers come this way.
 */
function direct(request: BatchRequest | ChunkRequest): void {
  const send = (reply: BatchReply): void => parent.postMessage(doneNotice(secret, request[2], reply));
  if (tasks === undefined && loadError === undefined) void loading.then(() => admit(request, send));
  else void admit(request, send);
}

/**
 * Starts a request now, or once a running one ends. A request that waits here is not claimed: if
 * the thread dies first, the main thread sees it never started and queues it again. `send` posts a
 * direct request's reply.
 */
function admit(request: BatchRequest | ChunkRequest, send: Send | undefined): BatchReply | Promise<BatchReply> {
  if (active < config.concurrency && !retiring) return start(request, send);
  return new Promise((resolve) => waiting.push(() => resolve(start(request, send))));
}

type Send = (reply: BatchReply) => void;

function start(request: BatchRequest | ChunkRequest, send: Send | undefined): BatchReply | Promise<BatchReply> {
  active++;
  // Not claimed: taken back by the main thread while it waited here, and another thread runs its tasks.
  if (!claim(config.slots, request[1], request[2], threadId)) return end([0], send);
  const reply = run(request, send !== undefined);
  if (reply instanceof Promise) return reply.then((settled) => end(settled, send));
  return end(reply, send);
}

/**
 * A request is done: its reply goes out before the next waiting request starts (that one may kill
 * the thread). A request cut short by retirement gets no reply, ever.
 */
function end(reply: BatchReply | typeof HALT, send: Send | undefined): BatchReply | Promise<never> {
  if (send !== undefined && reply !== HALT) send(reply);
  active--;
  if (!retiring) waiting.shift()?.();
  else if (active === 0) retire();
  return reply === HALT ? never : reply;
}

function manifest(): ManifestReply {
  return loadError !== undefined ? { ok: false, error: loadError } : { ok: true, names: taskNames };
}

/** `direct`: the request came on the thread's own port, and its reply goes on parentPort (see `direct`). */
function run(request: BatchRequest | ChunkRequest, direct: boolean): BatchReply | typeof HALT | Promise<BatchReply | typeof HALT> {
  const [, , id, flags] = request;
  if (flags === 0) {
    return request[0] === Kind.Chunk ? chunk(request, untrackedContext, direct) : batch(request, untrackedContext, 0, performance.now(), direct);
  }
  const context = contextFor(id, flags);
  let closeCallbacks: (() => void) | undefined;
  if (flags & Flag.Callbacks && request[0] === Kind.Batch) {
    // A flagged batch holds one task: its input carries the callbacks' port.
    const opened = openCallbacks(batchInput(request, 0) as CallbackInput, context.signal);
    setBatchInput(request, 0, opened.input);
    closeCallbacks = opened.close;
  }
  const reply = request[0] === Kind.Chunk ? chunk(request, context, direct) : batch(request, context, 0, performance.now(), direct);
  const untrack = (): void => {
    controllers.delete(id);
    reporters.get(id)?.end();
    reporters.delete(id);
    closeCallbacks?.();
  };
  if (reply instanceof Promise) return reply.finally(untrack);
  untrack();
  return reply;
}

async function chunk(request: ChunkRequest, context: TaskContext, direct: boolean): Promise<BatchReply> {
  const [, , id, , name, items] = request;
  const start = performance.now();
  const outcome = await runChunk(name, items, context);
  // A chunk counts one task per item.
  if (recycle) tally(items.length);
  if ((config.notify && !direct) || retiring || !surelyCloneable(outcome.value)) {
    post(id, 0, outcome.status, outcome.value);
    return [performance.now() - start];
  }
  return [performance.now() - start, outcome.status, outcome.value];
}

/**
 * Runs a batch's tasks one after another: that is what lets the main thread blame the right task
 * when the thread dies, and requeue the ones that never started. Stays synchronous until a task
 * returns a promise.
 */
function batch(
  request: BatchRequest,
  context: TaskContext,
  from: number,
  start: number,
  direct: boolean,
): BatchReply | typeof HALT | Promise<BatchReply | typeof HALT> {
  const size = batchSize(request);
  for (let i = from; i < size; i++) {
    const outcome = runOne(batchName(request, i), batchInput(request, i), context);
    if (outcome instanceof Promise) {
      return outcome.then((settled) => finishOne(request, i, size, settled, start, direct) ?? batch(request, context, i + 1, start, direct));
    }
    const reply = finishOne(request, i, size, outcome, start, direct);
    if (reply) return reply;
  }
  return [performance.now() - start];
}

/**
 * Posts the outcome of task `i`, or returns the reply that carries it when it is the batch's last;
 * returns HALT when the thread retires before the batch's next task.
 */
function finishOne(
  request: BatchRequest,
  i: number,
  size: number,
  outcome: Outcome,
  start: number,
  direct: boolean,
): BatchReply | typeof HALT | undefined {
  const last = i + 1 === size;
  if (recycle) tally(1);
  // With progress, the result follows the progress notices on the same port, never overtaking them.
  // A direct reply travels on parentPort like the notices, so it never needs `notify`.
  if (last && (direct || !config.notify) && !retiring && !(request[3] & Flag.Progress) && surelyCloneable(outcome.value)) {
    // The last result rides in the reply: a lone task costs one message each way.
    return [performance.now() - start, outcome.status, outcome.value];
  }
  const [, , id] = request;
  post(id, i, outcome.status, outcome.value);
  return last ? [performance.now() - start] : retiring ? HALT : undefined;
}
