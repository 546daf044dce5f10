/**
 * Deadlines on one timer: the runs held by `delay` / `runAt` and the next fire of every cron schedule
 * of a pool wait here, in a min-heap by due time (FIFO among equal times), under one timer armed for
 * the earliest. Thousands of delayed runs cost one timer, not thousands; an empty heap holds none.
 *
 * Times are wall-clock milliseconds (`Date.now()`): `runAt` and cron patterns name wall-clock instants.
 * One wait is at most {@link MAX_WAIT}: the clock is read again at least that often, so a clock set
 * forward (NTP, a machine waking from sleep) is noticed within it, and a clock set back never fires
 * anything early (a deadline fires only once the clock has reached it).
 */
import type { RateLimitClock } from './rate-limit.ts';
import { describeValue } from './worker/wire-error.ts';

/** Where deadlines read the time (epoch milliseconds) and set their timer. */
export type DueClock = RateLimitClock;

const wallClock: DueClock = {
  now: () => Date.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

let clockForNewPools = wallClock;

/**
 * Test hook, not part of the package's API (`src/index.ts` does not export it): the clock of the
 * pools created from now on; `undefined` restores the wall clock (`Date.now`, `setTimeout`).
 */
export function setDueClockForTests(clock: DueClock | undefined): void {
  clockForNewPools = clock ?? wallClock;
}

/** The longest single wait in milliseconds (croner waits at most 30 s at a time, for the same reason). */
const MAX_WAIT = 30_000;

/** One deadline. Its fields belong to {@link DueTimers}. */
export interface Deadline {
  readonly due: number;
  readonly seq: number;
  readonly fire: () => void;
  /** Its place in the heap; -1 once it fired or was cancelled. */
  index: number;
}

export class DueTimers {
  readonly #clock: DueClock;
  readonly #heap: Deadline[] = [];
  #seq = 0;
  #timer: unknown = undefined;
  /** When the armed timer wakes; Infinity when none is armed. */
  #wakeAt = Infinity;

  constructor(clock: DueClock = clockForNewPools) {
    this.#clock = clock;
  }

  now(): number {
    return this.#clock.now();
  }

  /** Deadlines waiting. */
  get size(): number {
    return this.#heap.length;
  }

  /** Calls `fire` once the clock reaches `due`, after the deadlines due before it or added before it at the same time. */
  add(due: number, fire: () => void): Deadline {
    const deadline: Deadline = { due, seq: this.#seq++, fire, index: this.#heap.length };
    this.#heap.push(deadline);
    this.#up(deadline.index);
    if (due < this.#wakeAt) this.#arm();
    return deadline;
  }

  /** Forgets `deadline`; false when it already fired or was cancelled. */
  cancel(deadline: Deadline): boolean {
    const index = deadline.index;
    if (index < 0) return false;
    this.#take(index);
    // An earlier wake than needed costs one re-arm; only an empty heap must let go of its timer.
    if (this.#heap.length === 0) this.#disarm();
    return true;
  }

  /** Cancels every deadline and the timer. */
  clear(): void {
    for (const deadline of this.#heap) deadline.index = -1;
    this.#heap.length = 0;
    this.#disarm();
  }

  #arm(): void {
    this.#disarm();
    const first = this.#heap[0];
    if (first === undefined) return;
    const now = this.#clock.now();
    const wait = Math.min(Math.max(0, first.due - now), MAX_WAIT);
    this.#wakeAt = now + wait;
    this.#timer = this.#clock.setTimer(() => this.#wake(), wait);
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#wakeAt = Infinity;
  }

  /** Fires every deadline the clock has reached, earliest first, then waits for the next. */
  #wake(): void {
    this.#timer = undefined;
    this.#wakeAt = Infinity;
    const now = this.#clock.now();
    const heap = this.#heap;
    // A deadline added by a fire at a time already reached fires in this same loop.
    while (heap.length > 0 && heap[0]!.due <= now) {
      const first = heap[0]!;
      this.#take(0);
      try {
        first.fire();
      } catch (error) {
        // The fires are the pool's own code, which settles through the ledger and guards user code;
        // were one to throw, the deadlines after it must still fire, and the host must not die.
        process.emitWarning(`A deadline's callback threw: ${describeValue(error)}`, 'TesseraWarning');
      }
    }
    if (this.#timer === undefined) this.#arm();
  }

  /** Removes the entry at `index`, keeping the heap's order. */
  #take(index: number): void {
    const heap = this.#heap;
    const taken = heap[index]!;
    taken.index = -1;
    const last = heap.pop()!;
    if (last === taken) return;
    heap[index] = last;
    last.index = index;
    this.#down(index);
    this.#up(last.index);
  }

  #before(a: Deadline, b: Deadline): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  #up(index: number): void {
    const heap = this.#heap;
    const entry = heap[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (!this.#before(entry, parent)) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = entry;
    entry.index = index;
  }

  #down(index: number): void {
    const heap = this.#heap;
    const entry = heap[index]!;
    const length = heap.length;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      if (child + 1 < length && this.#before(heap[child + 1]!, heap[child]!)) child++;
      if (!this.#before(heap[child]!, entry)) break;
      heap[index] = heap[child]!;
      heap[index]!.index = index;
      index = child;
    }
    heap[index] = entry;
    entry.index = index;
  }
}
