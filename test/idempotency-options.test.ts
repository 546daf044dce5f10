import { describe, expect, test } from 'vitest';
import { createPool, InvalidOptionRangeError, InvalidOptionTypeError, type PoolOptions } from '../src/index.ts';
import type * as keyed from './fixtures/keyed.ts';
import { hostileProxy } from './fixtures/hostile-tasks.ts';
import { SharedLog, fixture, hostFaults, makePool, track } from './helpers.ts';

/** What a run with these options rejects with (it must reject, never throw). */
async function refusal(options: unknown): Promise<unknown> {
  const pool = makePool<typeof keyed>('keyed.ts');
  let promise: Promise<unknown>;
  try {
    promise = pool.run('count', { log: new SharedLog().cells, id: 1 }, options as never);
  } catch (error) {
    throw new Error(`run() threw instead of rejecting: ${String(error)}`);
  }
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('key', () => {
  test.each([
    ['a number', 42],
    ['a String object', new String('k')],
    ['null', null],
    ['a symbol', Symbol('k')],
    ['an array', ['k']],
    ['a Proxy whose every trap throws', hostileProxy()],
  ])('%s is refused with InvalidOptionTypeError', async (_, key) => {
    const error = await refusal({ key });
    expect(error).toBeInstanceOf(InvalidOptionTypeError);
    expect(error).toMatchObject({ code: 'TESSERA_INVALID_OPTION', name: 'TypeError' });
    expect((error as Error).message).toMatch(/^Expected `key` to be a string, got /);
  });

  test('an empty key, or one over 1,024 characters, is refused with InvalidOptionRangeError (the message stays short)', async () => {
    const empty = await refusal({ key: '' });
    expect(empty).toBeInstanceOf(InvalidOptionRangeError);
    expect(empty).toMatchObject({ code: 'TESSERA_INVALID_OPTION', message: 'Expected `key` to be a string of 1 to 1024 characters, got `` (string)' });
    const long = await refusal({ key: 'x'.repeat(100_000) });
    expect(long).toBeInstanceOf(InvalidOptionRangeError);
    expect((long as Error).message).toContain('(100000 characters)');
    expect((long as Error).message.length).toBeLessThan(200);
    expect(await refusal({ key: 'x'.repeat(1_024) })).toBeUndefined();
  });
});

describe('keyTtl', () => {
  test.each([
    ['-1', -1, InvalidOptionRangeError],
    ['1.5', 1.5, InvalidOptionRangeError],
    ['NaN', Number.NaN, InvalidOptionTypeError],
    ["'10'", '10', InvalidOptionTypeError],
  ])('%s is refused', async (_, keyTtl, type) => {
    const error = await refusal({ key: 'k', keyTtl });
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ code: 'TESSERA_INVALID_OPTION' });
    expect((error as Error).message).toMatch(/^Expected `keyTtl` to be an integer >= 0 or Infinity, got /);
  });

  test('without a key it is refused rather than silently ignored', async () => {
    const error = await refusal({ keyTtl: 1_000 });
    expect(error).toBeInstanceOf(InvalidOptionTypeError);
    expect((error as Error).message).toBe('Expected `keyTtl` to be left out when there is no `key`, got `1000` (number)');
  });

  test('0 and Infinity are accepted', async () => {
    expect(await refusal({ key: 'k', keyTtl: 0 })).toBeUndefined();
    expect(await refusal({ key: 'k', keyTtl: Infinity })).toBeUndefined();
  });
});

describe('hostile options objects', () => {
  const throwingKey = {
    get key(): string {
      throw new Error('no key for you');
    },
  };
  const throwingTtl = {
    key: 'k',
    get keyTtl(): number {
      throw new Error('no ttl');
    },
  };
  const trapOnKey = new Proxy(
    { key: 'k' },
    {
      get: (target, name) => {
        if (name === 'key') throw new Error('trap');
        return Reflect.get(target, name) as unknown;
      },
    },
  );
  test.each([
    ['a getter on key that throws', throwingKey, 'key'],
    ['a getter on keyTtl that throws', throwingTtl, 'keyTtl'],
    ['a Proxy whose get trap throws for key alone', trapOnKey, 'key'],
  ])('%s: InvalidOptionTypeError, nothing escapes to the host', async (_, options, name) => {
    const error = await refusal(options);
    expect(error).toBeInstanceOf(InvalidOptionTypeError);
    expect(error).toMatchObject({ code: 'TESSERA_INVALID_OPTION', message: `Expected \`${name}\` to be readable, but reading it threw. Pass a plain options object.` });
    expect(hostFaults()).toEqual([]);
  });

  test('a key read once: a getter answering differently each time cannot split a run from its key', async () => {
    const pool = makePool<typeof keyed>('keyed.ts');
    const log = new SharedLog();
    let reads = 0;
    const options = {
      get key() {
        reads++;
        return reads === 1 ? 'k' : 17;
      },
    };
    expect((await pool.run('count', { log: log.cells, id: 1 }, options as never)).id).toBe(1);
    expect(reads).toBe(1);
  });
});

describe('maxKeys', () => {
  test.each([
    ['-1', -1, InvalidOptionRangeError],
    ['1.5', 1.5, InvalidOptionRangeError],
    ['Infinity (the LRU is always bounded)', Infinity, InvalidOptionRangeError],
    ["'10'", '10', InvalidOptionTypeError],
  ])('%s is refused by createPool', (_, maxKeys, type) => {
    let thrown: unknown;
    try {
      track(createPool({ module: fixture('keyed.ts'), maxThreads: 1, maxKeys } as PoolOptions));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(type);
    expect(thrown).toMatchObject({ code: 'TESSERA_INVALID_OPTION' });
    expect((thrown as Error).message).toMatch(/^Expected `maxKeys` to be an integer >= 0, got /);
  });
});

test('pool.map takes no key: refused with InvalidOptionTypeError', async () => {
  const pool = makePool<typeof keyed>('keyed.ts');
  const log = new SharedLog();
  const error = await pool.map('count', [{ log: log.cells, id: 1 }], { key: 'k' } as never).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidOptionTypeError);
  expect((error as Error).message).toBe('Expected `key` to be left out: pool.map takes no idempotency key, got `k` (string)');
  const stream = pool.map('count', new Set([{ log: log.cells, id: 2 }]), { key: 'k' } as never);
  const drain = async () => {
    for await (const item of stream) void item;
  };
  await expect(drain()).rejects.toBeInstanceOf(InvalidOptionTypeError);
  expect(log.entries()).toEqual([]);
});
