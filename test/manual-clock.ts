/**
 * A clock the test moves by hand, for the rate limiter (`setRateLimitClock` in src/rate-limit.ts).
 * Only the limiter's windows and timers read it; worker threads and their messages run in real
 * time, so a test waits on them with events (SharedLog, until, onIdle) and moves this clock between.
 */
import { afterEach } from 'vitest';
import { setRateLimitClock, type RateLimitClock } from '../src/rate-limit.ts';

interface Timer {
  readonly due: number;
  readonly callback: () => void;
}

export class ManualClock implements RateLimitClock {
  #now = 0;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { due: this.#now + ms, callback });
    return id;
  }

  clearTimer(timer: unknown): void {
    this.#timers.delete(timer as number);
  }

  /** Timers armed and not yet fired or cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  /** When the next timer fires, or undefined. */
  get nextDue(): number | undefined {
    let next: number | undefined;
    for (const { due } of this.#timers.values()) if (next === undefined || due < next) next = due;
    return next;
  }

  /** Moves the time `ms` on, firing each timer due by then at its own time, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let first: [number, Timer] | undefined;
      for (const entry of this.#timers) if (entry[1].due <= target && (first === undefined || entry[1].due < first[1].due)) first = entry;
      if (first === undefined) break;
      this.#timers.delete(first[0]);
      this.#now = Math.max(this.#now, first[1].due);
      first[1].callback();
    }
    this.#now = target;
  }
}

/** A manual clock for the pools created until the end of the test. */
export function useManualClock(): ManualClock {
  const clock = new ManualClock();
  setRateLimitClock(clock);
  return clock;
}

afterEach(() => setRateLimitClock(undefined));
