/**
 * `maxTasksPerThread` and `maxHeapPerThreadMb` are checked at createPool time: typed option errors
 * in the one message format (code TESSERA_INVALID_OPTION), hostile option objects included.
 */
import { describe, expect, test } from 'vitest';
import { createPool, InvalidOptionRangeError, InvalidOptionTypeError, poolDefaults, type PoolOptions } from '../src/index.ts';
import type * as tasks from './fixtures/recycle.ts';
import { fixture, track } from './helpers.ts';

const module = fixture('recycle.ts');

function thrown(options: Record<string, unknown>): unknown {
  try {
    track(createPool({ module, maxThreads: 1, minThreads: 1, ...options } as PoolOptions));
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('a wrong value throws an option error naming the option', () => {
  test.each([
    { options: { maxTasksPerThread: 0 }, kind: 'range', message: 'Expected `maxTasksPerThread` to be an integer >= 1 or Infinity, got `0` (number)' },
    { options: { maxTasksPerThread: -3 }, kind: 'range', message: 'Expected `maxTasksPerThread` to be an integer >= 1 or Infinity, got `-3` (number)' },
    { options: { maxTasksPerThread: 2.5 }, kind: 'range', message: 'Expected `maxTasksPerThread` to be an integer >= 1 or Infinity, got `2.5` (number)' },
    { options: { maxTasksPerThread: -Infinity }, kind: 'range', message: 'Expected `maxTasksPerThread` to be an integer >= 1 or Infinity, got `-Infinity` (number)' },
    { options: { maxTasksPerThread: NaN }, kind: 'type', message: 'Expected `maxTasksPerThread` to be an integer >= 1 or Infinity, got `NaN` (number)' },
    { options: { maxTasksPerThread: '5' }, kind: 'type', message: 'Expected `maxTasksPerThread` to be an integer >= 1 or Infinity, got `5` (string)' },
    { options: { maxTasksPerThread: null }, kind: 'type', message: 'Expected `maxTasksPerThread` to be an integer >= 1 or Infinity, got `null` (null)' },
    { options: { maxHeapPerThreadMb: 0 }, kind: 'range', message: 'Expected `maxHeapPerThreadMb` to be a finite number of megabytes > 0, got `0` (number)' },
    { options: { maxHeapPerThreadMb: -1 }, kind: 'range', message: 'Expected `maxHeapPerThreadMb` to be a finite number of megabytes > 0, got `-1` (number)' },
    { options: { maxHeapPerThreadMb: Infinity }, kind: 'range', message: 'Expected `maxHeapPerThreadMb` to be a finite number of megabytes > 0, got `Infinity` (number)' },
    { options: { maxHeapPerThreadMb: NaN }, kind: 'type', message: 'Expected `maxHeapPerThreadMb` to be a number of megabytes > 0, got `NaN` (number)' },
    { options: { maxHeapPerThreadMb: '64' }, kind: 'type', message: 'Expected `maxHeapPerThreadMb` to be a number of megabytes > 0, got `64` (string)' },
    { options: { maxHeapPerThreadMb: { valueOf: (): number => 64 } }, kind: 'type', message: 'Expected `maxHeapPerThreadMb` to be a number of megabytes > 0, got `{}` (object)' },
  ])('$options.maxTasksPerThread $options.maxHeapPerThreadMb', ({ options, kind, message }) => {
    const error = thrown(options);
    expect(error).toBeInstanceOf(kind === 'type' ? InvalidOptionTypeError : InvalidOptionRangeError);
    expect(error).toMatchObject({ code: 'TESSERA_INVALID_OPTION', message });
  });
});

test('an options object whose read of the option throws gets a typed error, not the raw throw', () => {
  for (const name of ['maxTasksPerThread', 'maxHeapPerThreadMb']) {
    const hostile = {
      module,
      get [name](): never {
        throw new Error('hostile getter');
      },
    };
    const error = (() => {
      try {
        track(createPool(hostile as PoolOptions));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidOptionTypeError);
    expect(error).toMatchObject({ code: 'TESSERA_INVALID_OPTION', message: expect.stringContaining(`\`${name}\``) });
  }
  // A Proxy whose get trap throws for the option.
  const proxy = new Proxy(
    { module },
    {
      get(target, key) {
        if (key === 'maxTasksPerThread') throw new Error('hostile trap');
        return Reflect.get(target, key);
      },
    },
  );
  expect(() => track(createPool(proxy as PoolOptions))).toThrow(InvalidOptionTypeError);
});

test('each option is read once: a getter answering differently twice cannot slip a bad value through', async () => {
  let reads = 0;
  const options = {
    module,
    maxThreads: 1,
    minThreads: 1,
    get maxTasksPerThread(): number {
      reads++;
      return reads === 1 ? 3 : 0;
    },
  };
  const pool = track(createPool<typeof tasks>(options));
  expect(reads).toBe(1);
  expect(await pool.run('threadIdOf')).toEqual(expect.any(Number));
});

test('defaults: maxTasksPerThread is Infinity (never recycle), and Infinity is accepted', async () => {
  expect(poolDefaults.maxTasksPerThread).toBe(Infinity);
  const pool = track(createPool<typeof tasks>({ module, maxThreads: 1, minThreads: 1, maxTasksPerThread: Infinity }));
  const first = await pool.run('threadIdOf');
  for (let i = 0; i < 5; i++) expect(await pool.run('threadIdOf')).toBe(first);
  expect(pool.stats().retired).toBe(0);
});
