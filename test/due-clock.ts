/**
 * A wall clock the test moves by hand, for delayed runs and schedules (`setDueClockForTests` in
 * src/due-timers.ts). Only the pool's deadlines read it; worker threads and their messages run in
 * real time, so a test waits on them with events and moves this clock between.
 *
 * `advance` is a punctual process: each timer fires at its own time, in order. `stall` is a busy
 * one: the time jumps, and the timers due meanwhile fire late, all at the end.
 */
import { afterEach } from 'vitest';
import { setDueClockForTests, type DueClock } from '../src/due-timers.ts';

interface Timer {
  readonly due: number;
  readonly callback: () => void;
}

export class DueClockForTests implements DueClock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  constructor(start: number) {
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

  /** Moves the time `ms` on, firing each timer due by then at its own time, in order. */
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

  /** Sets the time to `time` (an absolute epoch ms, later than now), firing what is due on the way. */
  advanceTo(time: number): void {
    this.advance(time - this.#now);
  }

  #first(by: number): [number, Timer] | undefined {
    let first: [number, Timer] | undefined;
    for (const entry of this.#timers) if (entry[1].due <= by && (first === undefined || entry[1].due < first[1].due)) first = entry;
    return first;
  }
}

/** A hand-moved wall clock starting at `start` (epoch ms), for the pools created until the end of the test. */
export function useDueClock(start = Date.UTC(2025, 0, 1)): DueClockForTests {
  const clock = new DueClockForTests(start);
  setDueClockForTests(clock);
  return clock;
}

afterEach(() => setDueClockForTests(undefined));
