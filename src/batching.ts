/**
 * How many queued tasks go to a thread in one message.
 *
 * One message per task is what caps a pool's throughput on tiny tasks; carrying several per message
 * when the queue is deep removes most of that cost. Two limits keep it from hurting:
 * - fairness: a batch takes at most its slot's share of the queue, so the tail spreads over the threads;
 * - latency: a batch holds at most {@link BATCH_BUDGET_MS} of work by the measured time per task, so a
 *   newly queued high-priority task waits at most about that long for a thread.
 * A lone task always goes out at once, alone.
 */

/** Target work per batch, in milliseconds. */
export const BATCH_BUDGET_MS = 1;

/** Batch size limit until the first batch has been timed. */
const UNTIMED_LIMIT = 4;

/** Smoothing of the per-task time average. */
const ALPHA = 0.2;

export class BatchSizer {
  #perTaskMs = -1;
  readonly #max: number;

  constructor(maxBatch: number) {
    this.#max = maxBatch;
  }

  /** Records that a batch of `count` tasks ran for `elapsedMs`. */
  record(count: number, elapsedMs: number): void {
    const sample = elapsedMs / count;
    this.#perTaskMs = this.#perTaskMs < 0 ? sample : this.#perTaskMs + ALPHA * (sample - this.#perTaskMs);
  }

  /** Size of the next batch, given the tasks waiting (including the one in hand) and the pool's slots. */
  next(waiting: number, slots: number): number {
    if (this.#max === 1 || waiting <= slots) return 1;
    let n = Math.min(this.#max, Math.ceil(waiting / slots));
    if (this.#perTaskMs < 0) n = Math.min(n, UNTIMED_LIMIT);
    else if (this.#perTaskMs > 0) n = Math.min(n, Math.max(1, Math.floor(BATCH_BUDGET_MS / this.#perTaskMs)));
    return n;
  }
}
