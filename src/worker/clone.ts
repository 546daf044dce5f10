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
  return check(value, { left: BUDGET });
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

/** Names the first value in `input` that structured clone rejects (for `TaskInputError`; off the hot path). */
export function uncloneableType(input: unknown, seen = new Set<unknown>()): string | undefined {
  if (typeof input === 'function') return 'function';
  if (typeof input === 'symbol') return 'symbol';
  if (input === null || typeof input !== 'object' || seen.has(input)) return undefined;
  seen.add(input);
  if (input instanceof WeakMap || input instanceof WeakSet || input instanceof WeakRef) return input.constructor.name;
  if (input instanceof Promise) return 'Promise';
  const values = input instanceof Map ? [...input.keys(), ...input.values()] : input instanceof Set ? [...input] : Object.values(input);
  for (const value of values) {
    const found = uncloneableType(value, seen);
    if (found) return found;
  }
  return undefined;
}
