import { availableParallelism } from 'node:os';
import { describe, expect, test } from 'vitest';
import { createPool, InvalidOptionRangeError, InvalidOptionTypeError, poolDefaults, type PoolOptions } from '../src/index.ts';
import type * as lifecycle from './fixtures/lifecycle.ts';
import { Gate, SharedLog, fixture, track } from './helpers.ts';

const module = fixture('lifecycle.ts');

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

/** Runs createPool and returns what it threw (tracking the pool if it did not throw). */
function thrown(options: unknown): unknown {
  try {
    track(createPool(options as PoolOptions));
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('defaults', () => {
  test('poolDefaults documents the defaults and cannot be changed', () => {
    expect(poolDefaults).toEqual({
      maxQueue: 10_000,
      idleTimeout: 30_000,
      concurrentTasksPerWorker: 1,
      priorityAging: 1_000,
      abortGrace: 50,
      maxBatch: 64,
      niceIncrement: 0,
      prefetch: 1,
      maxKeys: 10_000,
      maxTasksPerThread: Infinity,
    });
    expect(Object.isFrozen(poolDefaults)).toBe(true);
  });

  test('maxThreads defaults to os.availableParallelism() and minThreads to half of it', async () => {
    const cores = availableParallelism();
    const pool = track(createPool<typeof lifecycle>({ module }));
    await pool.ready();
    expect(pool.stats().threads).toBe(Math.max(1, Math.floor(cores / 2)));
    // Exactly `cores` tasks can run at once: the next one waits in the queue.
    const gate = new Gate();
    const blockers = Array.from({ length: cores }, () => pool.run('block', { cells: gate.cells }));
    await gate.started(cores);
    const log = new SharedLog();
    const extra = pool.run('count', { log: log.cells, id: 1 });
    expect(pool.stats()).toMatchObject({ threads: cores, running: cores, queued: 1 });
    gate.open();
    await Promise.all([...blockers, extra]);
  });

  test('maxQueue defaults to poolDefaults.maxQueue', async () => {
    const pool = track(createPool<typeof lifecycle>({ module, maxThreads: 1, minThreads: 1 }));
    const gate = new Gate();
    const blocked = pool.run('block', { cells: gate.cells });
    await gate.started();
    const queued = Array.from({ length: poolDefaults.maxQueue }, (_, i) => pool.run('echo', i));
    expect(pool.stats().queued).toBe(poolDefaults.maxQueue);
    await expect(pool.run('echo', -1)).rejects.toMatchObject({ code: 'TESSERA_QUEUE_FULL', maxQueue: poolDefaults.maxQueue });
    gate.open();
    await blocked;
    const results = await Promise.all(queued);
    expect(results[poolDefaults.maxQueue - 1]).toBe(poolDefaults.maxQueue - 1);
  });

  test('module may be a URL, a file: URL string or an absolute path', async () => {
    for (const given of [module, module.href, module.pathname]) {
      const pool = track(createPool({ module: given, maxThreads: 1, minThreads: 1 }));
      expect(await pool.run('echo', 'ok')).toBe('ok');
    }
  });
});

describe('invalid pool options throw synchronously', () => {
  test.each([
    { options: { maxQueue: -1 }, kind: 'range', name: 'maxQueue', got: '`-1` (number)' },
    { options: { maxQueue: 1.5 }, kind: 'range', name: 'maxQueue', got: '`1.5` (number)' },
    { options: { maxQueue: '10' }, kind: 'type', name: 'maxQueue', got: '`10` (string)' },
    { options: { maxQueue: NaN }, kind: 'type', name: 'maxQueue', got: '`NaN` (number)' },
    { options: { maxThreads: 0 }, kind: 'range', name: 'maxThreads', got: '`0` (number)' },
    { options: { maxThreads: Infinity }, kind: 'range', name: 'maxThreads', got: '`Infinity` (number)' },
    { options: { maxThreads: null }, kind: 'type', name: 'maxThreads', got: '`null` (null)' },
    { options: { minThreads: -1 }, kind: 'range', name: 'minThreads', got: '`-1` (number)' },
    { options: { minThreads: 3, maxThreads: 2 }, kind: 'range', name: 'minThreads', got: '`3` (number)' },
    { options: { idleTimeout: -5 }, kind: 'range', name: 'idleTimeout', got: '`-5` (number)' },
    { options: { concurrentTasksPerWorker: 0 }, kind: 'range', name: 'concurrentTasksPerWorker', got: '`0` (number)' },
    { options: { priorityAging: 0 }, kind: 'range', name: 'priorityAging', got: '`0` (number)' },
    { options: { priorityAging: true }, kind: 'type', name: 'priorityAging', got: '`true` (boolean)' },
    { options: { abortGrace: -1 }, kind: 'range', name: 'abortGrace', got: '`-1` (number)' },
    // Past what a Node.js timer waits, setTimeout would fire after 1 ms: refused, as `timeout` is.
    { options: { idleTimeout: 2_147_483_648 }, kind: 'range', name: 'idleTimeout', got: '`2147483648` (number)' },
    { options: { idleTimeout: 3e9 }, kind: 'range', name: 'idleTimeout', got: '`3000000000` (number)' },
    { options: { abortGrace: 2_147_483_648 }, kind: 'range', name: 'abortGrace', got: '`2147483648` (number)' },
    { options: { abortGrace: Infinity }, kind: 'range', name: 'abortGrace', got: '`Infinity` (number)' },
    { options: { maxBatch: 0 }, kind: 'range', name: 'maxBatch', got: '`0` (number)' },
    { options: { resourceLimits: 'big' }, kind: 'type', name: 'resourceLimits', got: '`big` (string)' },
    { options: { module: 'relative/path.ts' }, kind: 'type', name: 'module', got: '`relative/path.ts` (string)' },
    { options: { module: 42 }, kind: 'type', name: 'module', got: '`42` (number)' },
    { options: { module: undefined }, kind: 'type', name: 'module', got: '`undefined` (undefined)' },
  ])('$options → $kind error naming `$name`', ({ options, kind, name, got }) => {
    const error = thrown({ module, ...options }) as Error & { code?: string };
    expect(error).toBeInstanceOf(kind === 'type' ? TypeError : RangeError);
    expect(error).toBeInstanceOf(kind === 'type' ? InvalidOptionTypeError : InvalidOptionRangeError);
    expect(error.code).toBe('TESSERA_INVALID_OPTION');
    expect(error.name).toBe(kind === 'type' ? 'TypeError' : 'RangeError');
    // One format for every option: Expected `<name>` to be <what>, got `<value>` (<type>)
    expect(error.message).toMatch(new RegExp(`^Expected \`${name}\` to be .+, got ${got.replace(/[.()]/g, '\\$&')}$`));
  });

  test('the message of the example in the spec', () => {
    const error = thrown({ module, maxQueue: -1 }) as Error;
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toMatch(/^Expected `maxQueue` to be an integer >= 0\b.*, got `-1` \(number\)$/);
  });

  test.each([null, undefined, 'options', 5])('options %s → TypeError', (options) => {
    const error = thrown(options);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'TESSERA_INVALID_OPTION' });
  });

  test('valid edge values are accepted', () => {
    expect(thrown({ module, maxQueue: 0, maxThreads: 1, minThreads: 0 })).toBeUndefined();
    expect(thrown({ module, maxQueue: Infinity, idleTimeout: Infinity, priorityAging: Infinity, maxThreads: 1 })).toBeUndefined();
    expect(thrown({ module, abortGrace: 0, maxBatch: 1, maxThreads: 1, resourceLimits: {} })).toBeUndefined();
    expect(thrown({ module, idleTimeout: 2_147_483_647, abortGrace: 2_147_483_647, maxThreads: 1 })).toBeUndefined();
  });
});

test("the caller's options object is not mutated", async () => {
  const options = deepFreeze({
    module: fixture('lifecycle.ts').href,
    maxThreads: 1,
    minThreads: 1,
    maxQueue: 5,
    resourceLimits: { maxOldGenerationSizeMb: 256 },
  });
  const copy = structuredClone(options);
  // Frozen: an implementation that writes to it would throw here (ESM is strict mode).
  const pool = track(createPool<typeof lifecycle>(options));
  expect(await pool.run('echo', 1)).toBe(1);
  expect(options).toEqual(copy);

  const unfrozen = { module: fixture('lifecycle.ts'), maxThreads: 1 };
  const before = { ...unfrozen };
  track(createPool(unfrozen));
  expect(unfrozen).toEqual(before);
  expect(Object.keys(unfrozen)).toEqual(['module', 'maxThreads']);
});

describe('invalid run options reject (run never throws)', () => {
  test.each([
    { label: 'priority not a number', options: { priority: 'high' }, type: TypeError, name: 'priority' },
    { label: 'priority NaN', options: { priority: NaN }, type: TypeError, name: 'priority' },
    { label: 'priority Infinity', options: { priority: Infinity }, type: RangeError, name: 'priority' },
    { label: 'priority too large', options: { priority: 1e9 }, type: RangeError, name: 'priority' },
    { label: 'timeout 0', options: { timeout: 0 }, type: RangeError, name: 'timeout' },
    { label: 'timeout negative', options: { timeout: -1 }, type: RangeError, name: 'timeout' },
    { label: 'timeout not a number', options: { timeout: '1s' }, type: TypeError, name: 'timeout' },
    { label: 'timeout too large for a timer', options: { timeout: 2 ** 31 }, type: RangeError, name: 'timeout' },
    { label: 'signal not an AbortSignal', options: { signal: { aborted: false } }, type: TypeError, name: 'signal' },
    { label: 'transfer not an array', options: { transfer: 'buf' }, type: TypeError, name: 'transfer' },
    { label: 'options null', options: null, type: TypeError, name: 'options' },
    { label: 'options a string', options: 'fast', type: TypeError, name: 'options' },
  ])('$label', async ({ options, type, name }) => {
    const pool = track(createPool({ module, maxThreads: 1, minThreads: 1 }));
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = pool.run('echo', 1, options as never);
    }).not.toThrow();
    const error = await promise!.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ code: 'TESSERA_INVALID_OPTION' });
    expect((error as Error).message).toMatch(new RegExp(`^Expected \`${name}\` to be .+, got .+ \\(\\w+\\)$`));
    // Nothing was queued or counted, and the pool works.
    expect(pool.stats()).toMatchObject({ queued: 0, running: 0, failed: 0 });
    expect(await pool.run('echo', 2)).toBe(2);
  });

  test('valid run options are accepted', async () => {
    const pool = track(createPool({ module, maxThreads: 1, minThreads: 1 }));
    const buffer = new ArrayBuffer(8);
    const result = await pool.run('echo', buffer, {
      priority: -1_000_000,
      timeout: 2_147_483_647,
      signal: new AbortController().signal,
      transfer: [buffer],
    });
    expect(result).toBeInstanceOf(ArrayBuffer);
    expect((result as ArrayBuffer).byteLength).toBe(8);
    // Transferred, not copied: the caller's buffer is detached.
    expect(buffer.byteLength).toBe(0);
  });
});

describe('niceIncrement', () => {
  test('accepts 0 to 19 and rejects the rest with the common message format', () => {
    expect(() => createPool({ module, niceIncrement: 20 })).toThrow(RangeError);
    expect(() => createPool({ module, niceIncrement: 20 })).toThrow('Expected `niceIncrement` to be an integer from 0 to 19, got `20` (number)');
    expect(() => createPool({ module, niceIncrement: '5' as unknown as number })).toThrow(TypeError);
  });

  test('a pool with lowered thread priority still runs tasks', async () => {
    const pool = track(createPool<typeof lifecycle>({ module, maxThreads: 1, minThreads: 1, niceIncrement: 5 }));
    await expect(pool.ready()).resolves.toContain('count');
  });
});
