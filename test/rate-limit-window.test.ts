/**
 * The window counter of src/rate-limit.ts on its own, on the main thread, with times the test
 * picks: what `wait` answers, and (seeded, `RATE_SEED` to replay) that a scheduler starting tasks
 * only when `wait` says 0 never exceeds the limit.
 */
import { describe, expect, test } from 'vitest';
import { RateWindow } from '../src/rate-limit.ts';
import { Rng, seedFrom } from './helpers.ts';

const window = (limit: number, interval: number, strict: boolean) => new RateWindow({ limit, interval, strict });

describe('fixed windows', () => {
  test('a window opens with the first start and holds `limit` starts', () => {
    const w = window(2, 100, false);
    expect(w.wait(50, 1)).toBe(0);
    w.take(50, 1);
    w.take(60, 1);
    expect(w.wait(60, 1)).toBe(90); // until 150
    expect(w.wait(149, 1)).toBe(1);
    expect(w.wait(150, 1)).toBe(0);
    w.take(150, 2);
    expect(w.wait(150, 1)).toBe(100);
  });

  test('units above the limit count as the limit (a lone oversized start goes in a fresh window)', () => {
    const w = window(3, 100, false);
    expect(w.wait(0, 10)).toBe(0);
    w.take(0, 2);
    expect(w.wait(0, 2)).toBe(100);
    expect(w.wait(0, 1)).toBe(0);
  });
});

describe('strict (sliding) window', () => {
  test('a start ages out `interval` ms after it happened', () => {
    const w = window(2, 100, true);
    w.take(0, 1);
    w.take(60, 1);
    expect(w.wait(60, 1)).toBe(40); // the start at 0 leaves at 100
    expect(w.wait(100, 1)).toBe(0);
    w.take(100, 1);
    expect(w.wait(100, 1)).toBe(60); // the start at 60 leaves at 160
    expect(w.wait(100, 2)).toBe(100); // both 60 and 100 must leave
  });

  test('starts at the same time are kept as one run', () => {
    const w = window(5, 100, true);
    w.take(10, 2);
    w.take(10, 2);
    expect(w.wait(10, 1)).toBe(0);
    expect(w.wait(10, 2)).toBe(100);
    w.take(10, 1);
    expect(w.wait(50, 1)).toBe(60);
  });
});

describe.each([false, true])('strict: %s, a scheduler that obeys wait()', (strict) => {
  test('never starts more than `limit` in a window, and is never kept waiting when there is room', () => {
    const seed = seedFrom('RATE_SEED');
    const rng = new Rng(seed);
    const limit = 1 + rng.int(5);
    const interval = 10 + rng.int(90);
    const w = window(limit, interval, strict);
    const starts: number[] = [];
    let now = 0;
    for (let step = 0; step < 2_000; step++) {
      now += rng.chance(0.5) ? 0 : rng.int(interval);
      const units = 1 + rng.int(limit);
      const wait = w.wait(now, units);
      if (wait > 0) {
        // Just before the answer, there is still no room; at it, there is.
        if (wait > 1) expect(w.wait(now + wait - 1, units), `seed ${seed}`).toBeGreaterThan(0);
        now += wait;
        expect(w.wait(now, units), `seed ${seed}`).toBe(0);
      }
      w.take(now, units);
      for (let i = 0; i < units; i++) starts.push(now);
    }
    // Any `interval` ms span holds at most `limit` starts (strict), or `2 × limit` across a fixed window's edge.
    const most = strict ? limit : 2 * limit;
    let from = 0;
    for (let to = 0; to < starts.length; to++) {
      while (starts[to]! - starts[from]! >= interval) from++;
      expect(to - from + 1, `seed ${seed}: starts in [${starts[from]}, ${starts[to]}]`).toBeLessThanOrEqual(most);
    }
    if (!strict) {
      // Windows open at a start at least `interval` after the previous window opened; each holds at most `limit`.
      let opened = -Infinity;
      let count = 0;
      for (const at of starts) {
        if (at >= opened + interval) {
          opened = at;
          count = 0;
        }
        count++;
        expect(count, `seed ${seed}: window opened at ${opened}`).toBeLessThanOrEqual(limit);
      }
    }
  });
});
