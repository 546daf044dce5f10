import { expect, test } from 'vitest';
import { createPool, InvalidOptionRangeError, InvalidOptionTypeError } from '../src/index.ts';
import { fixture, makePool } from './helpers.ts';
import type * as tasks from './fixtures/retry.ts';

const module = fixture('retry.ts');

function throwingGetter(key: string): object {
  return Object.defineProperty({}, key, {
    get() {
      throw new Error('hostile getter');
    },
    enumerable: true,
  });
}

const revoked = (() => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
})();

test.each([
  ['a number', 3, InvalidOptionTypeError],
  ['an array', [], InvalidOptionTypeError],
  ['attempts 0', { attempts: 0 }, InvalidOptionRangeError],
  ['attempts 1.5', { attempts: 1.5 }, InvalidOptionRangeError],
  ['attempts NaN', { attempts: Number.NaN }, InvalidOptionTypeError],
  ['attempts Infinity', { attempts: Infinity }, InvalidOptionRangeError],
  ['attempts over 1000', { attempts: 1001 }, InvalidOptionRangeError],
  ['a backoff name', { backoff: 'linear' }, InvalidOptionTypeError],
  ['a negative delay', { delay: -1 }, InvalidOptionRangeError],
  ['a maxDelay past a timer', { maxDelay: 2 ** 31 }, InvalidOptionRangeError],
  ['jitter 2', { jitter: 2 }, InvalidOptionRangeError],
  ['jitter as text', { jitter: '0.5' }, InvalidOptionTypeError],
  ['retryOn true', { retryOn: true }, InvalidOptionTypeError],
  ['poisonAfter 0', { poisonAfter: 0 }, InvalidOptionRangeError],
  ['a throwing getter', throwingGetter('attempts'), InvalidOptionTypeError],
  ['a revoked Proxy', revoked, InvalidOptionTypeError],
])('the run option retry refuses %s with a typed rejection', async (_, retry, type) => {
  const pool = makePool<typeof tasks>('retry.ts');
  const error = await pool.run('flaky', { cells: new Int32Array(1), index: 0, failures: 0 }, { retry: retry as never }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(type);
  expect(error).toMatchObject({ code: 'TESSERA_INVALID_OPTION' });
  expect((error as Error).message).toMatch(/^Expected `retry/);
});

test('the pool options retry and retries throw at construction, naming the path', () => {
  expect(() => createPool({ module, retry: { attempts: 0 } })).toThrow(/Expected `retry.attempts` to be an integer from 1 to 1000, got `0` \(number\)/);
  expect(() => createPool({ module, retries: { flaky: { delay: -5 } } })).toThrow(/`retries.flaky.delay`/);
  expect(() => createPool({ module, retries: throwingGetter('flaky') as never })).toThrow(InvalidOptionTypeError);
  expect(() => createPool({ module, retries: revoked as never })).toThrow(InvalidOptionTypeError);
  expect(() => createPool({ module, retries: [] as never })).toThrow(InvalidOptionTypeError);
});

test('each field is read once', async () => {
  const reads = new Map<string, number>();
  const retry = new Proxy({ attempts: 2, delay: 0, backoff: 'fixed' as const }, {
    get(target, key, receiver) {
      reads.set(String(key), (reads.get(String(key)) ?? 0) + 1);
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  const pool = makePool<typeof tasks>('retry.ts');
  await pool.run('flaky', { cells: new Int32Array(new SharedArrayBuffer(4)), index: 0, failures: 1 }, { retry });
  for (const count of reads.values()) expect(count).toBe(1);
  expect(reads.get('attempts')).toBe(1);
});

test('pool.map takes no retry', async () => {
  const pool = makePool<typeof tasks>('retry.ts');
  await expect(pool.map('flaky', [], { retry: { attempts: 2 } } as never)).rejects.toThrow(/Expected `retry` to be left out: pool.map does not retry/);
});
