import type { TransferListItem } from 'node:worker_threads';

/**
 * Zero-copy helpers for task authors. Import them in task modules from `tessera-pool/worker`: that entry
 * loads nothing of the main-thread runtime.
 */

/** Brand of a result wrapped by {@link transfer}; `Symbol.for` so it survives two copies of this module. */
export const TRANSFER = Symbol.for('tessera.transfer');

/** A task result whose buffers move to the main thread instead of being copied. */
export interface Transfer<T> {
  readonly [TRANSFER]: readonly Transferable[];
  readonly value: T;
}

type Transferable = TransferListItem;

/**
 * Returns `value` from a task with `list`'s buffers moved, not copied (the task's copies become
 * unusable). The caller receives `value` itself. Use it for large results that are not already in
 * a SharedArrayBuffer.
 */
export function transfer<T>(value: T, list: readonly Transferable[]): T {
  return { [TRANSFER]: list, value } satisfies Transfer<T> as unknown as T;
}

/** Is `value` a {@link transfer} wrapper? */
export function isTransfer(value: unknown): value is Transfer<unknown> {
  return value !== null && typeof value === 'object' && TRANSFER in value;
}

/**
 * Copies bytes into a SharedArrayBuffer once, so every thread that receives the view reads and
 * writes the same memory (structured clone shares SharedArrayBuffers instead of copying them).
 */
export function toShared(bytes: ArrayBufferView | ArrayBuffer): Uint8Array {
  if (bytes instanceof Uint8Array && bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const source = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (source.buffer instanceof SharedArrayBuffer) return source;
  const shared = new Uint8Array(new SharedArrayBuffer(source.byteLength));
  shared.set(source);
  return shared;
}
