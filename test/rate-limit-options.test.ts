/**
 * `rateLimits` is checked at createPool time: a wrong shape throws a typed option error in the one
 * message format, and so does an options object whose reads throw (getters, Proxy traps); a name
 * the module does not export is reported once the module is loaded, as a process warning.
 */
import { describe, expect, test } from 'vitest';
import { createPool, InvalidOptionRangeError, InvalidOptionTypeError, type Pool, type PoolOptions } from '../src/index.ts';
import type * as rate from './fixtures/rate.ts';
import { fixture, track, within } from './helpers.ts';

const module = fixture('rate.ts');

function thrown(rateLimits: unknown): unknown {
  try {
    track(createPool({ module, maxThreads: 1, minThreads: 1, rateLimits } as PoolOptions));
  } catch (error) {
    return error;
  }
  return undefined;
}

const throwing = (): never => {
  throw new Error('hostile');
};

describe('a wrong shape throws an option error naming the field', () => {
  test.each([
    { rateLimits: 5, kind: 'type', name: 'rateLimits', got: '`5` (number)' },
    { rateLimits: null, kind: 'type', name: 'rateLimits', got: '`null` (null)' },
    { rateLimits: [{ limit: 1, interval: 1 }], kind: 'type', name: 'rateLimits', got: '`[{"limit":1,"interval":1}]` (object)' },
    { rateLimits: { count: 5 }, kind: 'type', name: 'rateLimits.count', got: '`5` (number)' },
    { rateLimits: { count: null }, kind: 'type', name: 'rateLimits.count', got: '`null` (null)' },
    { rateLimits: { count: { interval: 1000 } }, kind: 'type', name: 'rateLimits.count.limit', got: '`undefined` (undefined)' },
    { rateLimits: { count: { limit: '10', interval: 1000 } }, kind: 'type', name: 'rateLimits.count.limit', got: '`10` (string)' },
    { rateLimits: { count: { limit: 0, interval: 1000 } }, kind: 'range', name: 'rateLimits.count.limit', got: '`0` (number)' },
    { rateLimits: { count: { limit: 1.5, interval: 1000 } }, kind: 'range', name: 'rateLimits.count.limit', got: '`1.5` (number)' },
    { rateLimits: { count: { limit: Infinity, interval: 1000 } }, kind: 'range', name: 'rateLimits.count.limit', got: '`Infinity` (number)' },
    { rateLimits: { count: { limit: 1 } }, kind: 'type', name: 'rateLimits.count.interval', got: '`undefined` (undefined)' },
    { rateLimits: { count: { limit: 1, interval: 0 } }, kind: 'range', name: 'rateLimits.count.interval', got: '`0` (number)' },
    { rateLimits: { count: { limit: 1, interval: 2 ** 31 } }, kind: 'range', name: 'rateLimits.count.interval', got: '`2147483648` (number)' },
    { rateLimits: { count: { limit: 1, interval: NaN } }, kind: 'type', name: 'rateLimits.count.interval', got: '`NaN` (number)' },
    { rateLimits: { count: { limit: 1, interval: 10, strict: 'yes' } }, kind: 'type', name: 'rateLimits.count.strict', got: '`yes` (string)' },
    { rateLimits: { '*': { limit: -1, interval: 10 } }, kind: 'range', name: "rateLimits['*'].limit", got: '`-1` (number)' },
  ])('$rateLimits → $kind error naming `$name`', ({ rateLimits, kind, name, got }) => {
    const error = thrown(rateLimits) as Error & { code?: string };
    expect(error).toBeInstanceOf(kind === 'type' ? InvalidOptionTypeError : InvalidOptionRangeError);
    expect(error.code).toBe('TESSERA_INVALID_OPTION');
    const escape = (text: string) => text.replace(/[.()[\]*]/g, '\\$&');
    expect(error.message).toMatch(new RegExp(`^Expected \`${escape(name)}\` to be .+, got ${escape(got)}$`));
  });

  test('valid shapes are accepted: both modes, the pool-wide key, an undefined entry, an empty object', () => {
    expect(thrown({})).toBeUndefined();
    expect(thrown(undefined)).toBeUndefined();
    expect(thrown({ count: undefined })).toBeUndefined();
    expect(thrown({ count: { limit: 1, interval: 1 }, tally: { limit: 5, interval: 2_147_483_647, strict: true }, '*': { limit: 9, interval: 50, strict: false } })).toBeUndefined();
  });
});

describe('hostile option objects give InvalidOptionTypeError, never a crash', () => {
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  test.each([
    { label: 'a rateLimits getter that throws', options: Object.defineProperty({ module }, 'rateLimits', { get: throwing, enumerable: true }) },
    { label: 'a Proxy whose ownKeys trap throws', options: { module, rateLimits: new Proxy({}, { ownKeys: throwing }) } },
    { label: 'an entry getter that throws', options: { module, rateLimits: Object.defineProperty({}, 'count', { get: throwing, enumerable: true }) } },
    { label: 'a Proxy entry whose get trap throws', options: { module, rateLimits: { count: new Proxy({ limit: 1, interval: 1 }, { get: throwing }) } } },
    { label: 'a limit getter that throws', options: { module, rateLimits: { count: { interval: 1, get limit(): number { return throwing(); } } } } },
    { label: 'a revoked Proxy', options: { module, rateLimits: revoked.proxy } },
    { label: 'a revoked Proxy entry', options: { module, rateLimits: { count: revoked.proxy } } },
  ])('$label', ({ options }) => {
    let error: unknown;
    try {
      track(createPool(options as PoolOptions));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidOptionTypeError);
    expect(error).toMatchObject({ code: 'TESSERA_INVALID_OPTION' });
    expect((error as Error).message).toMatch(/^Expected `rateLimits[^`]*` to be/);
  });
});

test('the options object is read once and not mutated', () => {
  let reads = 0;
  const limits = { count: { limit: 2, interval: 100 } };
  const options = Object.freeze({
    module,
    maxThreads: 1,
    get rateLimits() {
      reads++;
      return limits;
    },
  });
  track(createPool<typeof rate>(options));
  expect(reads).toBe(1);
  expect(limits).toEqual({ count: { limit: 2, interval: 100 } });
});

test('a limit for a name the module does not export is reported as a warning once the module loads', async () => {
  const warned = new Promise<Error>((resolve) => {
    const listener = (warning: Error) => {
      if (warning.name !== 'TesseraWarning') return;
      process.off('warning', listener);
      resolve(warning);
    };
    process.on('warning', listener);
  });
  const pool = track(createPool({ module, maxThreads: 1, minThreads: 1, rateLimits: { nope: { limit: 1, interval: 10 }, count: { limit: 1, interval: 10 } } }));
  await pool.ready();
  const warning = await within(warned, 10_000, 'the warning');
  expect(warning.message).toContain('`nope`');
  expect(warning.message).not.toContain('`count`');
});

test('with a typed module, a misspelled name is a compile error', () => {
  // Never called: tsc checks these lines.
  const mistakes = (): Pool<typeof rate> =>
    createPool<typeof rate>({
      module,
      // @ts-expect-error: the module exports no task `cuont`
      rateLimits: { cuont: { limit: 1, interval: 10 } },
    });
  const fine = (): Pool<typeof rate> => createPool<typeof rate>({ module, rateLimits: { count: { limit: 1, interval: 10 }, '*': { limit: 5, interval: 10 } } });
  expect([typeof mistakes, typeof fine]).toEqual(['function', 'function']);
});
