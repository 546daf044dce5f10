/**
 * What structured clone accepts, asked cheaply.
 *
 * A cheap, conservative test for "structured clone will accept this", so a thread can put a result
 * in piscina's reply (one message) instead of posting it on its own (two). piscina posts the reply
 * itself and a clone failure there kills the thread, so anything not proven safe within a small
 * budget takes the path that catches the failure.
 */

import { TRANSFER } from './transfer.ts';

const BUDGET = 64;

export function surelyCloneable(value: unknown): boolean {
  // Most small results are primitives: answer those without allocating the budget.
  const type = typeof value;
  if (type !== 'object') return type !== 'function' && type !== 'symbol';
  // A result is a user's value: a getter or a Proxy trap that throws means "not proven safe".
  try {
    return check(value, { left: BUDGET });
  } catch {
    return false;
  }
}

function check(value: unknown, budget: { left: number }): boolean {
  if (--budget.left < 0) return false;
  const type = typeof value;
  if (type !== 'object') return type !== 'function' && type !== 'symbol';
  if (value === null || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true;
  if (value instanceof Date || value instanceof RegExp) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (!check(item, budget)) return false;
    return true;
  }
  // A transfer() wrapper must take the path that hands over its transfer list.
  if (Object.getPrototypeOf(value) !== Object.prototype || TRANSFER in (value as object)) return false;
  for (const key in value) if (!check((value as Record<string, unknown>)[key], budget)) return false;
  return true;
}

/**
 * Levels of nesting a value may have on its way to the main thread. Structured clone reads a value
 * back recursively, on the receiver's stack: the main thread's default stack gives out at about
 * 1,600 levels of plain objects on Node 22 (2,000 on Node 20, more for arrays), and there the failure
 * is a 'messageerror' event with the message lost, not an error the sender sees. So a thread
 * refuses a deeper value itself, while it still knows whose it is.
 */
export const MAX_DEPTH = 1_000;

/**
 * Whether `value` nests more than `limit` levels deep along what structured clone copies (own
 * enumerable properties and array items, Map and Set entries), each object counted where a
 * depth-first walk first meets it, as the serializer does. Iterative, so it cannot overflow itself.
 * A getter or Proxy trap that throws, throws.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const seen = new Set<object>();
  const stack: object[] = [value];
  const depths: number[] = [1];
  while (stack.length > 0) {
    const current = stack.pop()!;
    const depth = depths.pop()!;
    if (seen.has(current)) continue;
    seen.add(current);
    if (depth > limit) return true;
    if (ArrayBuffer.isView(current) || current instanceof ArrayBuffer || current instanceof Date || current instanceof RegExp) continue;
    let children: unknown[];
    if (current instanceof Map) {
      children = [];
      for (const [key, entry] of current) children.push(key, entry);
    } else if (current instanceof Set) children = [...current];
    else children = Object.values(current);
    // Pushed in reverse, popped in order: the serializer's own order.
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (typeof child === 'object' && child !== null) {
        stack.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** The error a value nested past {@link MAX_DEPTH} levels is refused with, where it is sent. */
export function tooDeepError(what: string, limit = MAX_DEPTH): Error {
  return new RangeError(
    `${what} nests deeper than ${limit} levels, more than structured clone can read back on the receiving thread: flatten it, or send it as JSON text or bytes.`,
  );
}

/** Nesting past which structured clone may run out of stack: named when nothing else is found. */
const DEEP = 2_000;

/**
 * Names the first value in `input` that structured clone rejects (for `TaskInputError`; off the hot
 * path). `input` may be hostile: a getter or Proxy trap that throws while looking is named instead.
 * Iterative, so a deeply nested input cannot overflow the stack here too.
 */
export function uncloneableType(input: unknown, deep = DEEP): string | undefined {
  try {
    const seen = new Set<unknown>();
    const stack: Array<[unknown, number]> = [[input, 0]];
    let deepest = 0;
    while (stack.length > 0) {
      const [value, depth] = stack.pop()!;
      if (typeof value === 'function') return 'function';
      if (typeof value === 'symbol') return 'symbol';
      if (value === null || typeof value !== 'object' || seen.has(value)) continue;
      seen.add(value);
      if (depth > deepest) deepest = depth;
      if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) return value.constructor.name;
      if (value instanceof Promise) return 'Promise';
      const children = value instanceof Map ? [...value.keys(), ...value.values()] : value instanceof Set ? [...value] : Object.values(value);
      for (let i = children.length - 1; i >= 0; i--) stack.push([children[i], depth + 1]);
    }
    return deepest >= deep ? `object nested ${deepest} levels deep` : undefined;
  } catch {
    return 'getter or Proxy trap that throws';
  }
}
