import type { MessagePort } from 'node:worker_threads';

/**
 * Every message the main thread and a worker thread exchange, in one place.
 *
 * Three channels carry them:
 * - piscina's task channel: a {@link Request} goes to a thread, a {@link BatchReply} or
 *   {@link ManifestReply} comes back as the piscina task's result. The reply carries the batch's last
 *   result when it is plainly cloneable, so a lone task costs one message each way;
 * - the thread's `parentPort` (piscina re-emits those messages as its pool's `'message'` event):
 *   {@link Notice}s, one per other finished task. Node drains this port before it reports a thread's
 *   exit, so every result a thread sent before it died is seen before its crash is;
 * - a per-thread MessagePort the thread hands over in its `hello`: {@link Cancel}s go to the thread,
 *   so a running task's `context.signal` can abort.
 *
 * This file is imported by both sides and imports only types.
 */

/*
 * Messages are tuples, not objects: structured clone pays per property, and a task's round trip is
 * two of these. Measured here, posting { kind, batch, names: [name], inputs: [input], tracked } cost
 * about 1.3 µs more than the equivalent flat array.
 */

/** Tags a parentPort message as ours (user code may post on parentPort too). */
export const TAG = 'tessera' as const;

/** First element of a {@link Request}. */
export const Kind = {
  /** Runs tasks one after another on one thread. */
  Batch: 0,
  /** Runs one task over many items (a chunk of `pool.map`). */
  Chunk: 1,
  /** Loads the module and lists its task names. */
  Manifest: 2,
} as const;

/**
 * `[Kind.Batch, batch id, tracked, name₀, input₀, name₁, input₁, …]`. Results come back as `result`
 * notices, the last one usually in the {@link BatchReply}. A tracked batch holds one task with a signal
 * or timeout: the thread announces its start and listens for a cancel.
 */
export type BatchRequest = [kind: typeof Kind.Batch, batch: number, tracked: boolean, ...namesAndInputs: unknown[]];

/** `[Kind.Chunk, batch id, tracked, name, items]`: replies with a {@link ChunkValue}. */
export type ChunkRequest = [kind: typeof Kind.Chunk, batch: number, tracked: boolean, name: string, items: unknown[]];

/** Asks a thread to load the module and list its task names; replies with a {@link ManifestReply}. */
export type ManifestRequest = [kind: typeof Kind.Manifest];

export type Request = BatchRequest | ChunkRequest | ManifestRequest;

/** Where a batch request's first name sits; task i's name is at `FIRST + 2i`, its input right after. */
export const FIRST = 3;

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
 * task's result rides along instead of in a `result` notice.
 */
export type BatchReply = [elapsed: number] | [elapsed: number, status: Status, value: unknown];

export type ManifestReply = { readonly ok: true; readonly names: string[] } | { readonly ok: false; readonly error: WireError };

/** How a task ended, in a `result` notice. */
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

/** `[TAG, 'result', batch id, index in the batch, status, value]`: one task of a batch finished. */
export type ResultNotice = [tag: typeof TAG, kind: 'result', batch: number, index: number, status: Status, value: unknown];

/** `[TAG, 'start', batch id, thread id]`: a tracked task is about to be called; its timeout starts now. */
export type StartNotice = [tag: typeof TAG, kind: 'start', batch: number, thread: number];

/** `[TAG, 'hello', thread id, port]`: sent once when a thread starts; cancels go to the port. */
export type HelloNotice = [tag: typeof TAG, kind: 'hello', thread: number, port: MessagePort];

export type Notice = ResultNotice | StartNotice | HelloNotice;

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
}
