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
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  /** `start`: the time it reads at first (0 for the rate limiter; an epoch ms for a wall clock). */
  constructor(start = 0) {
    this.#now = start;
  }

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

  /** Moves the time `ms` on, firing each timer due by then at its own time, in order (a punctual process). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (let first = this.#first(target); first !== undefined; first = this.#first(target)) {
      this.#timers.delete(first[0]);
      this.#now = Math.max(this.#now, first[1].due);
      first[1].callback();
    }
    this.#now = target;
  }

  /** Moves the time `ms` on at once (the event loop was blocked), then fires the timers due by then, late. */
  stall(ms: number): void {
    this.#now += ms;
    for (let first = this.#first(this.#now); first !== undefined; first = this.#first(this.#now)) {
      this.#timers.delete(first[0]);
      first[1].callback();
    }
  }

  /** Sets the time to `time` (later than now), firing what is due on the way. */
  advanceTo(time: number): void {
    this.advance(time - this.#now);
  }

  #first(by: number): [number, Timer] | undefined {
    let first: [number, Timer] | undefined;
    for (const entry of this.#timers) if (entry[1].due <= by && (first === undefined || entry[1].due < first[1].due)) first = entry;
    return first;
  }
}

/** A manual clock for the pools created until the end of the test. */
export function useManualClock(): ManualClock {
  const clock = new ManualClock();
  setRateLimitClock(clock);
  return clock;
}

afterEach(() => setRateLimitClock(undefined));
