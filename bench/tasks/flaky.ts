/** Task module of bench/retries.ts. */

/** Spins for `us` microseconds, then fails with probability `failRate` (a transient error), else returns `id`. */
export function work(input: { id: number; us: number; failRate: number }): number {
  const end = performance.now() + input.us / 1000;
  while (performance.now() < end) {
    // busy
  }
  if (Math.random() < input.failRate) throw new Error('transient');
  return input.id;
}
