/** The bounded log-bucket histogram behind stats().waitTime/runTime and the Prometheus histograms. */
import { expect, test } from 'vitest';
import { Histogram, MAX_EXP, MIN_EXP } from '../src/histogram.ts';
import { Rng } from './helpers.ts';

test('quantiles are within 9% above the exact ones, p50 <= p90 <= p99 <= max, min and max exact', () => {
  const rng = new Rng(42);
  const histogram = new Histogram();
  // Log-uniform over 10 µs .. 10 s: every octave of the range gets values.
  const values = Array.from({ length: 20_000 }, () => 10 ** (rng.next() * 6 - 2));
  for (const value of values) histogram.record(value);
  values.sort((a, b) => a - b);
  const exact = (q: number): number => values[Math.ceil(q * values.length) - 1]!;
  const summary = histogram.summary();
  expect(summary.count).toBe(values.length);
  expect(summary.min).toBe(values[0]);
  expect(summary.max).toBe(values[values.length - 1]);
  expect(summary.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6);
  for (const [q, got] of [[0.5, summary.p50], [0.9, summary.p90], [0.99, summary.p99]] as const) {
    expect(got).toBeGreaterThanOrEqual(exact(q));
    expect(got).toBeLessThanOrEqual(exact(q) * 2 ** (1 / 8) + 1e-12);
  }
  expect(summary.p50).toBeLessThanOrEqual(summary.p90);
  expect(summary.p90).toBeLessThanOrEqual(summary.p99);
  expect(summary.p99).toBeLessThanOrEqual(summary.max);
});

test('counts at powers of two are exact, bounds inclusive (as Prometheus `le`)', () => {
  const histogram = new Histogram();
  for (const value of [0.5, 1, 1, 1.0001, 2, 3.99, 4, 4.01, 1e9]) histogram.record(value);
  expect(histogram.countAtOrBelow(-1)).toBe(1);
  expect(histogram.countAtOrBelow(0)).toBe(3);
  expect(histogram.countAtOrBelow(1)).toBe(5);
  expect(histogram.countAtOrBelow(2)).toBe(7);
  expect(histogram.countAtOrBelow(3)).toBe(8);
  // Above the top bound: only in the total.
  expect(histogram.countAtOrBelow(MAX_EXP - 1)).toBe(8);
  expect(histogram.countAtOrBelow(MAX_EXP)).toBe(9);
  expect(histogram.max).toBe(1e9);
});

test('values below the lowest bound, zero, negatives and NaN land in the first bucket without breaking the summary', () => {
  const histogram = new Histogram();
  for (const value of [0, -1, Number.NaN, 2 ** (MIN_EXP - 3)]) histogram.record(value);
  expect(histogram.count).toBe(4);
  expect(histogram.countAtOrBelow(MIN_EXP)).toBe(4);
  expect(histogram.quantile(0.99)).toBeLessThanOrEqual(2 ** MIN_EXP);
});

test('add() merges two histograms as if one had recorded both', () => {
  const a = new Histogram();
  const b = new Histogram();
  const both = new Histogram();
  for (let i = 1; i <= 500; i++) {
    (i % 2 ? a : b).record(i / 7);
    both.record(i / 7);
  }
  a.add(b);
  // The sum is added in another order: equal to rounding.
  const { mean, ...rest } = a.summary();
  const { mean: expectedMean, ...expected } = both.summary();
  expect(rest).toEqual(expected);
  expect(mean).toBeCloseTo(expectedMean, 9);
  expect(a.countAtOrBelow(4)).toBe(both.countAtOrBelow(4));
});

test('an empty histogram summarises as zeros', () => {
  expect(new Histogram().summary()).toEqual({ count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
});
