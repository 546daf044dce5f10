import type { MessagePort } from 'node:worker_threads';

/**
 * Every message the main thread and a worker thread exchange, with the encoders and decoders both
 * sides call: no other file computes a position in a message.
 *
 * Three channels carry them:
 * - piscina's task channel: a {@link Request} goes to a thread, a {@link BatchReply} or
 *   {@link ManifestReply} comes back as the piscina task's result. The reply carries the batch's last
 *   result when it is plainly cloneable, so a lone task costs one message each way;
 * - the thread's `parentPort` (piscina re-emits those messages as its pool's `'message'` event):
 *   {@link Notice}s, one per other finished task. Node drains this port before it reports a thread's
 *   exit, so every result a thread sent before it died is seen before its death is;
 * - a per-thread MessagePort the thread hands over in its `Hello`: {@link Cancel}s go to the thread,
 *   so a running task's `context.signal` can abort; and requests without flags or transfers, sent
 *   straight to the thread rather than through piscina (its per-request bookkeeping costs the main
 *   thread more than the rest of a task's trip). Their replies come back as {@link DoneNotice}s on
 *   parentPort, after their results on the same port.
 *
 * Every message is tagged by one {@link Kind}. This file is imported by both sides and imports only types.
 */

/*
 * Messages are tuples, not objects: structured clone pays per property, and a task's round trip is
 * two of these. Measured here, posting { kind, batch, names: [name], inputs: [input], tracked } cost
 * about 1.3 µs more than the equivalent flat array.
 */

/**
 * Marks a parentPort message as ours. User code may post on parentPort too, junk or messages shaped
 * like ours: a notice also carries the pool's secret (see {@link WorkerConfig.secret}), and the main
 * thread ignores any message without it.
 */
export const TAG = 'tessera' as const;

/** What a message is: the first element of a request, the second of a notice. */
export const Kind = {
  /** Request: runs tasks one after another on one thread. */
  Batch: 0,
  /** Request: runs one task over many items (a chunk of `pool.map`). */
  Chunk: 1,
  /** Request: loads the module and lists its task names. */
  Manifest: 2,
  /** Notice: one task of a batch finished. */
  Result: 3,
  /** Notice: a tracked batch is about to run; its timeout starts now. */
  Start: 4,
  /** Notice: a thread started; cancels and direct requests for it go to the port it sends. */
  Hello: 5,
  /** Notice: a task with `onProgress` reported progress (the latest value since its last one). */
  Progress: 6,
  /**
   * Notice: the thread passed `maxTasksPerThread` or `maxHeapPerThreadMb`. Posted ahead of the result
   * that took it there, so nothing is sent to it once that result is read; it starts nothing more, and
   * exits once its running requests are done (their results come before its exit is reported).
   */
  Retire: 7,
  /** Notice: a request sent on the thread's own port has run; its reply, as piscina's would be. */
  Done: 8,
} as const;

/**
 * What a request asks of the thread beyond running its tasks: a bit set, the request's fourth
 * element. 0, the common case, costs the thread one comparison.
 */
export const Flag = {
  /** Its one task has a signal or timeout: the thread announces its start and listens for a cancel. */
  Tracked: 1,
  /** Its one task's caller passed `onProgress`: `context.progress` posts `Progress` notices, and the result goes as a notice after them. */
  Progress: 2,
  /** Its one task's input is a {@link CallbackInput}: functions of the caller's, called over a port. */
  Callbacks: 4,
} as const;

/**
 * `[Kind.Batch, slot, batch id, flags, name₀, input₀, name₁, input₁, …]`. Every request starts with
 * its slot and id: the main thread puts the id in `slots[slot]` when it sends, and the thread that
 * takes the request swaps it for minus its thread id before it runs anything (see {@link claim}), so
 * the main thread knows whether a failed request ever reached a thread, and which. A batch with any
 * {@link Flag} holds exactly one task.
 */
export type BatchRequest = [kind: typeof Kind.Batch, slot: number, batch: number, flags: number, ...namesAndInputs: unknown[]];

/** `[Kind.Chunk, slot, batch id, flags, name, items]`: replies with a {@link ChunkValue}. Only `Flag.Tracked` applies. */
export type ChunkRequest = [kind: typeof Kind.Chunk, slot: number, batch: number, flags: number, name: string, items: unknown[]];

/**
 * The input of a request with `Flag.Callbacks`: the caller's input without its proxied fields, the
 * port comlink serves them on, and their names. The thread puts one async function under each name.
 */
export type CallbackInput = [input: Record<string, unknown>, port: MessagePort, names: string[]];

/** `[Kind.Manifest, slot, id]`: asks a thread to load the module and list its task names. */
export type ManifestRequest = [kind: typeof Kind.Manifest, slot: number, batch: number];

export type Request = BatchRequest | ChunkRequest | ManifestRequest;

/** Where a batch request's first name sits. */
const FIRST = 4;

/** What a batch request carries of each task. */
interface Sendable {
  readonly name: string;
  readonly input: unknown;
}

export function encodeBatch(slot: number, batch: number, flags: number, tasks: readonly Sendable[]): BatchRequest {
  const request: BatchRequest = [Kind.Batch, slot, batch, flags];
  for (let i = 0; i < tasks.length; i++) {
    const task = tasks[i]!;
    request[FIRST + 2 * i] = task.name;
    request[FIRST + 2 * i + 1] = task.input;
  }
  return request;
}

export function encodeChunk(slot: number, batch: number, flags: number, name: string, items: unknown[]): ChunkRequest {
  return [Kind.Chunk, slot, batch, flags, name, items];
}

export function encodeManifest(slot: number, id: number): ManifestRequest {
  return [Kind.Manifest, slot, id];
}

/** Main thread, before sending request `id` in `slot`. */
export function openSlot(slots: Int32Array, slot: number, id: number): void {
  Atomics.store(slots, slot, id);
}

/**
 * Thread, before running a request; false when the main thread took it back (see {@link takeBack}) or
 * gave up on it (a cancelled one, its slot reused): the thread then skips it. A compare-exchange, so
 * such a request cannot overwrite the cell of a newer one.
 */
export function claim(slots: Int32Array, slot: number, id: number, thread: number): boolean {
  return Atomics.compareExchange(slots, slot, id, -thread) === id;
}

/**
 * Main thread: takes back request `id` if no thread has claimed it yet; the thread that holds it then
 * fails its {@link claim} and skips it. Exactly one of the two wins.
 */
export function takeBack(slots: Int32Array, slot: number, id: number): boolean {
  return Atomics.compareExchange(slots, slot, id, 0) === id;
}

/** Main thread: the thread that took the request in `slot`, or 0 if none did. */
export function claimedBy(slots: Int32Array, slot: number): number {
  const cell = Atomics.load(slots, slot);
  return cell < 0 ? -cell : 0;
}

/** Tasks in a batch request. */
export function batchSize(request: BatchRequest): number {
  return (request.length - FIRST) >> 1;
}

/** Name of task `i` of a batch request. */
export function batchName(request: BatchRequest, i: number): string {
  return request[FIRST + 2 * i] as string;
}

/** Input of task `i` of a batch request. */
export function batchInput(request: BatchRequest, i: number): unknown {
  return request[FIRST + 2 * i + 1];
}

/** Replaces the input of task `i` of a batch request (the thread, once it has unpacked a {@link CallbackInput}). */
export function setBatchInput(request: BatchRequest, i: number, input: unknown): void {
  request[FIRST + 2 * i + 1] = input;
}

/** A chunk's result: one per item, in order. */
export interface ChunkValue {
  readonly results: unknown[];
  /** Milliseconds spent on the items, for chunk sizing. */
  readonly ms: number;
}

/** Why a chunk failed: the item's index in the chunk and its error. */
export interface ItemFailure {
  readonly index: number;
  readonly error: WireError;
}

/**
 * Returned when a batch has run: `[elapsed ms]`, or `[elapsed ms, status, value]` when the last
 * task's result rides along instead of in a `Result` notice.
 */
export type BatchReply = [elapsed: number] | [elapsed: number, status: Status, value: unknown];

export type ManifestReply = { readonly ok: true; readonly names: string[] } | { readonly ok: false; readonly error: WireError };

/** How a task ended. */
export const Status = {
  /** `value` is the result. */
  Ok: 0,
  /** `value` is the {@link WireError} the task threw or rejected with. */
  Threw: 1,
  /** `value` is the list of task names the module exports. */
  UnknownTask: 2,
  /** `value` is the {@link WireError} the module failed to load with. */
  ModuleLoad: 3,
  /** `value` is the {@link WireError} of the failed clone of the result. */
  ResultNotCloneable: 4,
  /** `value` is the {@link ItemFailure} of a chunk. */
  ItemThrew: 5,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

/** `[TAG, Kind.Result, secret, batch id, index in the batch, status, value]`: one task of a batch finished. */
export type ResultNotice = [tag: typeof TAG, kind: typeof Kind.Result, secret: number, batch: number, index: number, status: Status, value: unknown];

/** `[TAG, Kind.Start, secret, batch id, thread id]`: a tracked task is about to be called; its timeout starts now. */
export type StartNotice = [tag: typeof TAG, kind: typeof Kind.Start, secret: number, batch: number, thread: number];

/** `[TAG, Kind.Hello, secret, thread id, port]`: sent once when a thread starts; cancels and direct requests go to the port. */
export type HelloNotice = [tag: typeof TAG, kind: typeof Kind.Hello, secret: number, thread: number, port: MessagePort];

/** `[TAG, Kind.Progress, secret, batch id, value]`: the latest value a task with `Flag.Progress` reported. */
export type ProgressNotice = [tag: typeof TAG, kind: typeof Kind.Progress, secret: number, batch: number, value: unknown];

/** `[TAG, Kind.Retire, secret, thread id]`: the thread retires (see {@link Kind.Retire}); its exit follows. */
export type RetireNotice = [tag: typeof TAG, kind: typeof Kind.Retire, secret: number, thread: number];

/**
 * `[TAG, Kind.Done, secret, batch id, elapsed ms]`, or with `status, value` after it when the last
 * task's result rides along: a {@link BatchReply}, flat.
 */
export type DoneNotice =
  | [tag: typeof TAG, kind: typeof Kind.Done, secret: number, batch: number, elapsed: number]
  | [tag: typeof TAG, kind: typeof Kind.Done, secret: number, batch: number, elapsed: number, status: Status, value: unknown];

export type Notice = ResultNotice | StartNotice | HelloNotice | ProgressNotice | RetireNotice | DoneNotice;

export function resultNotice(secret: number, batch: number, index: number, status: Status, value: unknown): ResultNotice {
  return [TAG, Kind.Result, secret, batch, index, status, value];
}

export function startNotice(secret: number, batch: number, thread: number): StartNotice {
  return [TAG, Kind.Start, secret, batch, thread];
}

export function helloNotice(secret: number, thread: number, port: MessagePort): HelloNotice {
  return [TAG, Kind.Hello, secret, thread, port];
}

export function progressNotice(secret: number, batch: number, value: unknown): ProgressNotice {
  return [TAG, Kind.Progress, secret, batch, value];
}

export function retireNotice(secret: number, thread: number): RetireNotice {
  return [TAG, Kind.Retire, secret, thread];
}

export function doneNotice(secret: number, batch: number, reply: BatchReply): DoneNotice {
  return reply.length === 1 ? [TAG, Kind.Done, secret, batch, reply[0]] : [TAG, Kind.Done, secret, batch, reply[0], reply[1], reply[2]];
}

/** The reply a {@link DoneNotice} carries. */
export function doneReply(notice: DoneNotice): BatchReply {
  return notice.length === 5 ? [notice[4]] : [notice[4], notice[5], notice[6]];
}

/** The notice in a parentPort message, or undefined for anything else (a message a task posted). */
export function asNotice(message: unknown, secret: number): Notice | undefined {
  return Array.isArray(message) && message[0] === TAG && message[2] === secret ? (message as Notice) : undefined;
}

/** A secret for a pool's notices: 52 random bits, a number that clones as itself. */
export function newSecret(): number {
  const [high, low] = crypto.getRandomValues(new Uint32Array(2));
  return (high! & 0xfffff) * 0x1_0000_0000 + low!;
}

/** Main → thread over the hello port: abort the running tracked batch's `context.signal`. */
export interface Cancel {
  readonly batch: number;
  readonly reason: unknown;
}

/** An error flattened for the trip between threads; see `wire-error.ts`. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** Own enumerable properties, `code` among them, that survived cloning. */
  readonly props: Record<string, unknown>;
  /** The `cause`, flattened the same way when it is an Error. */
  readonly cause?: WireError | { readonly value: unknown };
  /** A thrown value that was not an Error at all. */
  readonly thrown?: { readonly value: unknown };
}

/** What a thread receives as `workerData` (read by `bootstrap.js` and `entry.ts`). */
export interface WorkerConfig {
  /** href of `entry.ts` or, when built, `entry.js`. */
  readonly entry: string;
  /** href of the task module. */
  readonly module: string;
  /** href of tsx's ESM API, when the entry or the task module is TypeScript. */
  readonly tsx: string | undefined;
  /** Requests a thread runs at once (`concurrentTasksPerWorker`); more wait in the thread, unclaimed. */
  readonly concurrency: number;
  /**
   * Every result goes as a `Result` notice, none in the reply. Set when a thread may hold more than
   * one request: piscina rejects a dead thread's requests without reading replies still on their way,
   * so a result in a reply could vanish when the next request kills the thread; parentPort is drained
   * before the exit is reported.
   */
  readonly notify: boolean;
  /** One cell per request slot: see {@link claim}. */
  readonly slots: Int32Array;
  /** Tasks (map items) a thread runs before it retires: `maxTasksPerThread`; Infinity never. */
  readonly maxTasks: number;
  /** Used heap in bytes past which a thread retires after its task (`maxHeapPerThreadMb`); undefined never. */
  readonly maxHeapBytes: number | undefined;
  /**
   * Carried by every notice. The entry takes it and deletes it from `workerData` before the task
   * module loads, so a task cannot read it there and forge a notice, even by accident.
   */
  secret?: number;
}
