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

/** Tags a parentPort message as ours (user code may post on parentPort too). */
export const TAG = 'tessera' as const;

/** Runs tasks one after another on one thread; the results come back as `result` notices. */
export interface BatchRequest {
  readonly kind: 'batch';
  /** Batch id, echoed in every notice about it. */
  readonly batch: number;
  readonly names: readonly string[];
  readonly inputs: readonly unknown[];
  /** A single task with a signal or timeout: the thread announces its start and listens for a cancel. */
  readonly tracked: boolean;
}

/** Runs one task over many items (a chunk of `pool.map`); replies with a {@link ChunkValue}. */
export interface ChunkRequest {
  readonly kind: 'chunk';
  readonly batch: number;
  readonly name: string;
  readonly items: readonly unknown[];
  readonly tracked: boolean;
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

/** Asks a thread to load the module and list its task names. */
export interface ManifestRequest {
  readonly kind: 'manifest';
}

export type Request = BatchRequest | ChunkRequest | ManifestRequest;

/** Returned when a batch has run: how long its tasks took, and usually the last task's result. */
export interface BatchReply {
  /** Milliseconds spent running the batch's tasks. */
  readonly elapsed: number;
  /** Set when the last task's result travels here instead of in a `result` notice. */
  readonly status?: Status;
  readonly value?: unknown;
}

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

export interface ResultNotice {
  readonly [TAG]: 'result';
  readonly batch: number;
  /** Index of the task in its batch. */
  readonly index: number;
  readonly status: Status;
  readonly value: unknown;
}

/** Sent by a tracked task just before its function is called: its timeout starts now. */
export interface StartNotice {
  readonly [TAG]: 'start';
  readonly batch: number;
  readonly thread: number;
}

/** Sent once when a thread starts: the port the main thread sends cancels to. */
export interface HelloNotice {
  readonly [TAG]: 'hello';
  readonly thread: number;
  readonly port: MessagePort;
}

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
