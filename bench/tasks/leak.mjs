// The recycling bench's task module: every run leaks on purpose, as a cache that never evicts would.

/** Kept for the thread's lifetime: the leak. */
const kept = [];

/** Keeps `kb` KiB of V8 heap (a plain array of numbers) for good, and returns x + 1. */
export function leaky({ x, kb }) {
  kept.push(new Array(kb * 128).fill(x));
  return x + 1;
}
