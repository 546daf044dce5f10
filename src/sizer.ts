/**
 * How many tasks (or map items) go to a thread in one message.
 *
 * One message per task is what caps a pool's throughput on tiny tasks; carrying several per message
 * removes most of that cost. One estimator serves both users, configured apart:
 * - batches of queued runs ({@link batchSizing}): a batch holds about 1 ms of work by the measured
 *   time per task, so a newly queued high-priority task waits at most about that long for a thread;
 * - chunks of `pool.map` ({@link chunkSizing}): a chunk holds about 4 ms of items, which amortises the
 *   message over many items while keeping a stream's read-ahead small.
 * Either way a unit takes at most its slot's share of what is available, so the tail spreads over
 * the threads.
 */

/** How a {@link Sizer} is configured. */
export interface Sizing {
  /** Work per unit to aim at, in milliseconds. */
  readonly targetMs: number;
  /** Size before the first unit has been timed. */
  readonly untimed: number;
  /** Largest size. */
  readonly max: number;
  /** Weight of a new sample in the running average per item. */
  readonly smoothing: number;
}

/** Batches of queued runs; `max` is the `maxBatch` pool option. */
export const batchSizing = (maxBatch: number): Sizing => ({ targetMs: 1, untimed: 4, max: maxBatch, smoothing: 0.2 });

/** Chunks of `pool.map`. */
export const chunkSizing: Sizing = { targetMs: 4, untimed: 8, max: 10_000, smoothing: 0.5 };

export class Sizer {
  #perItemMs = -1;
  readonly #sizing: Sizing;

  constructor(sizing: Sizing) {
    this.#sizing = sizing;
  }

  /** Measured milliseconds per item, or -1 before the first record. */
  get perItemMs(): number {
    return this.#perItemMs;
  }

  /** Records that `count` items ran for `elapsedMs`. */
  record(count: number, elapsedMs: number): void {
    const sample = elapsedMs / count;
    this.#perItemMs = this.#perItemMs < 0 ? sample : this.#perItemMs + this.#sizing.smoothing * (sample - this.#perItemMs);
  }

  /** Size of the next unit, given the items available (undefined: a stream of unknown length) and the pool's slots. */
  next(available: number | undefined, slots: number): number {
    const { targetMs, untimed, max } = this.#sizing;
    const share = available === undefined ? max : Math.ceil(available / slots);
    const perItem = this.#perItemMs;
    const byTime = perItem < 0 ? untimed : perItem === 0 ? max : Math.floor(targetMs / perItem);
    return Math.max(1, Math.min(max, share, byTime));
  }
}
