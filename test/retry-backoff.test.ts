import { describe, expect, test } from 'vitest';
import { checkRetry } from '../src/options.ts';
import { retryDefaults, retryDelay } from '../src/retry.ts';

const error = new Error('x');
const policy = (given: object) => checkRetry(given, 'retry');

describe('retryDelay', () => {
  test('exponential without jitter doubles from `delay`, capped at `maxDelay`', () => {
    const p = policy({ attempts: 10, delay: 100, maxDelay: 1_000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelay(p, n, error))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  test('full jitter (the exponential default) draws from [0, d]: the random\'s ends give its bounds', () => {
    const p = policy({ attempts: 10, delay: 100 });
    expect(p.jitter).toBe(1);
    expect(retryDelay(p, 3, error, () => 0)).toBe(0);
    expect(retryDelay(p, 3, error, () => 0.999999)).toBe(399);
    expect(retryDelay(p, 3, error, () => 0.5)).toBe(200);
  });

  test('a jitter factor j draws from [d * (1 - j), d]', () => {
    const p = policy({ attempts: 10, delay: 1_000, jitter: 0.25 });
    expect(retryDelay(p, 1, error, () => 0)).toBe(750);
    expect(retryDelay(p, 1, error, () => 0.999999)).toBe(999);
    for (let i = 0; i < 200; i++) {
      const ms = retryDelay(p, 2, error) as number;
      expect(ms).toBeGreaterThanOrEqual(1_500);
      expect(ms).toBeLessThanOrEqual(2_000);
    }
  });

  test('fixed waits `delay` every time, without jitter unless asked', () => {
    const p = policy({ attempts: 10, backoff: 'fixed', delay: 250 });
    expect([1, 2, 7].map((n) => retryDelay(p, n, error, () => 0))).toEqual([250, 250, 250]);
    const jittered = policy({ attempts: 10, backoff: 'fixed', delay: 250, jitter: 1 });
    expect(retryDelay(jittered, 7, error, () => 0.5)).toBe(125);
  });

  test('a function gets the attempt and the error; its result is capped at maxDelay and gets no jitter', () => {
    const seen: Array<[number, unknown]> = [];
    const p = policy({ attempts: 10, maxDelay: 500, backoff: (n: number, e: unknown) => (seen.push([n, e]), n * 300) });
    expect(retryDelay(p, 1, error, () => 0)).toBe(300);
    expect(retryDelay(p, 2, error, () => 0)).toBe(500);
    expect(seen).toEqual([
      [1, error],
      [2, error],
    ]);
  });

  test('a function that throws or returns no usable number gives a problem, not a delay', () => {
    const boom = new Error('boom');
    const thrower = policy({ attempts: 2, backoff: () => { throw boom; } });
    expect(retryDelay(thrower, 1, error)).toEqual({ problem: 'threw', cause: boom });
    for (const bad of [Number.NaN, -1, '5', undefined, null, {}]) {
      const result = retryDelay(policy({ attempts: 2, backoff: () => bad }), 1, error);
      expect(typeof result, String(bad)).toBe('object');
    }
  });

  test('defaults are as documented', () => {
    expect(retryDefaults).toMatchObject({ attempts: 1, backoff: 'exponential', delay: 100, maxDelay: 30_000, jitter: 1, poisonAfter: 3 });
    const p = policy({});
    expect(p).toMatchObject({ attempts: 1, backoff: 'exponential', delay: 100, maxDelay: 30_000, jitter: 1, poisonAfter: 3, retryOn: undefined });
  });
});
