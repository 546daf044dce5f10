/**
 * A cheap, conservative test for "structured clone will accept this", so a thread can put a result
 * in piscina's reply (one message) instead of posting it on its own (two). piscina posts the reply
 * itself and a clone failure there kills the thread, so anything not proven safe within a small
 * budget takes the path that catches the failure.
 */

import { TRANSFER } from './transfer.ts';

const BUDGET = 64;

export function surelyCloneable(value: unknown): boolean {
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
