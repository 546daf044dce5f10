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
import { ManualClock } from './manual-clock.ts';

/** The rate limiter's manual clock, started at a wall-clock time. */
export class DueClockForTests extends ManualClock implements DueClock {}

/** A hand-moved wall clock starting at `start` (epoch ms), for the pools created until the end of the test. */
export function useDueClock(start = Date.UTC(2025, 0, 1)): DueClockForTests {
  const clock = new DueClockForTests(start);
  setDueClockForTests(clock);
  return clock;
}

afterEach(() => setDueClockForTests(undefined));
