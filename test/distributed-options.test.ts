// tessera's options in BullMQ's terms (no Redis needed): every option maps exactly or is refused
// with a typed error at once; nothing is dropped.
import { describe, expect, test } from 'vitest';
import { mapJobOptions, mapRateLimits, PRIORITY_ORIGIN, TIMEOUT_OPTION } from '../src/distributed/options-mapping.ts';
import { InvalidOptionRangeError, InvalidOptionTypeError, UnsupportedOptionError } from '../src/index.ts';

const add = (options: unknown) => mapJobOptions('resize', options, 'add');

describe('job options', () => {
  test('priority: higher first in tessera becomes lower first in BullMQ, every job prioritised', () => {
    expect(add(undefined).opts.priority).toBe(PRIORITY_ORIGIN);
    const bull = [-1_000_000, -1, 0, 1, 1_000_000].map((priority) => add({ priority }).opts.priority!);
    expect(bull).toEqual([...bull].sort((a, b) => b - a));
    expect(Math.min(...bull)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...bull)).toBeLessThanOrEqual(2_097_151);
    expect(() => add({ priority: 1.5 })).toThrow(UnsupportedOptionError);
    expect(() => add({ priority: 2_000_000 })).toThrow(InvalidOptionRangeError);
  });

  test('retry: attempts and a built-in backoff with tessera’s jitter defaults', () => {
    expect(add({ retry: { attempts: 3 } }).opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 100, jitter: 1 } });
    expect(add({ retry: { attempts: 4, backoff: 'fixed', delay: 50 } }).opts).toMatchObject({ attempts: 4, backoff: { type: 'fixed', delay: 50, jitter: 0 } });
    expect(add({ retry: { attempts: 1 } }).opts).toMatchObject({ attempts: 1 });
    expect(add({ retry: { attempts: 1 } }).opts.backoff).toBeUndefined();
  });

  test('retry: what BullMQ cannot do is refused, naming the field', () => {
    const refused = (retry: object): string => {
      try {
        add({ retry });
      } catch (error) {
        expect(error).toBeInstanceOf(UnsupportedOptionError);
        return (error as UnsupportedOptionError).option;
      }
      throw new Error('not refused');
    };
    expect(refused({ attempts: 3, backoff: () => 10 })).toBe('retry.backoff');
    expect(refused({ attempts: 3, retryOn: () => true })).toBe('retry.retryOn');
    expect(refused({ attempts: 3, poisonAfter: 2 })).toBe('retry.poisonAfter');
    // A cap that would bind: 100 * 2^10 ms > 30 s (tessera's default maxDelay); BullMQ has no cap.
    expect(refused({ attempts: 12 })).toBe('retry.maxDelay');
    expect(refused({ attempts: 3, backoff: 'fixed', delay: 5_000, maxDelay: 1_000 })).toBe('retry.maxDelay');
    // A cap that never binds is fine.
    expect(add({ retry: { attempts: 12, maxDelay: 102_400 } }).opts.attempts).toBe(12);
    expect(() => add({ retry: { attempts: 0 } })).toThrow(InvalidOptionRangeError);
  });

  test('timeout travels in the job’s options; delay is BullMQ’s', () => {
    expect(add({ timeout: 250, delay: 1_000 }).opts).toMatchObject({ [TIMEOUT_OPTION]: 250, delay: 1_000 });
    expect(() => add({ timeout: 0 })).toThrow(InvalidOptionRangeError);
    expect(() => add({ delay: -1 })).toThrow(InvalidOptionRangeError);
    expect(() => add({ delay: '1s' })).toThrow(InvalidOptionTypeError);
  });

  test('key: deduplication while unfinished; keyTtl Infinity: a job id kept with the job; other ttls refused', () => {
    expect(add({ key: 'photo:1' }).opts).toMatchObject({ deduplication: { id: 'resize:photo:1' } });
    const kept = add({ key: 'photo:1', keyTtl: Infinity }).opts;
    expect(kept.jobId).toBe('tessera-resize-photo%3A1');
    expect(kept.jobId).not.toContain(':');
    expect(kept.removeOnFail).toBe(true);
    expect(() => add({ key: 'k', keyTtl: 60_000 })).toThrow(UnsupportedOptionError);
    expect(() => add({ keyTtl: 10 })).toThrow(InvalidOptionTypeError);
  });

  test('options of other shapes are refused, never dropped: BullMQ’s own names, transfer, run-only options on add', () => {
    for (const [options, option] of [
      [{ attempts: 3 }, 'attempts'],
      [{ jobId: 'x' }, 'jobId'],
      [{ transfer: [] }, 'transfer'],
      [{ signal: new AbortController().signal }, 'signal'],
      [{ onProgress: () => {} }, 'onProgress'],
      [{ lifo: true }, 'lifo'],
    ] as const) {
      expect(() => add(options), option).toThrow(expect.objectContaining({ code: 'TESSERA_UNSUPPORTED_OPTION', option }));
    }
    expect(mapJobOptions('resize', { signal: new AbortController().signal, checkInterval: 10 }, 'run').checkInterval).toBe(10);
  });

  test('hostile options: a throwing getter or Proxy is a typed error, read once', () => {
    let reads = 0;
    const counted = { get priority() { reads++; return 5; } };
    expect(add(counted).opts.priority).toBe(PRIORITY_ORIGIN - 5);
    expect(reads).toBe(1);
    expect(() => add({ get priority() { throw new Error('boom'); } })).toThrow(InvalidOptionTypeError);
    const trap = new Proxy({}, { ownKeys() { throw new Error('trap'); } });
    expect(() => add(trap)).toThrow(InvalidOptionTypeError);
    expect(() => add(null)).toThrow(InvalidOptionTypeError);
  });
});

describe('rate limits', () => {
  test("'*' is BullMQ's limiter; per-name limits and strict windows are refused", () => {
    expect(mapRateLimits({ '*': { limit: 10, interval: 1_000 } })).toEqual({ max: 10, duration: 1_000 });
    expect(mapRateLimits(undefined)).toBeUndefined();
    expect(() => mapRateLimits({ resize: { limit: 1, interval: 10 } })).toThrow(expect.objectContaining({ option: 'rateLimits.resize' }));
    expect(() => mapRateLimits({ '*': { limit: 1, interval: 10, strict: true } })).toThrow(UnsupportedOptionError);
    expect(() => mapRateLimits({ '*': { limit: 0, interval: 10 } })).toThrow(InvalidOptionRangeError);
  });
});
