/**
 * More hostile values (see hostile-values.test.ts): arrays that lie about their length, a partitioner
 * whose answer cannot be read, Proxies where a URL or a flow belongs. Each becomes that call's typed
 * rejection (or createPool's typed throw), never a plain TypeError/RangeError, a raw thrown value or
 * a synchronous throw from a method that promises to reject.
 */
import { describe, expect, it } from 'vitest';
import {
  createPool,
  defineFlow,
  FlowDefinitionError,
  InvalidOptionTypeError,
  PartitionError,
  SourceError,
  TaskInputError,
  type Pool,
} from '../src/index.ts';
import type * as Echo from './fixtures/echo.ts';
import { hostileProxy } from './fixtures/hostile-tasks.ts';
import { fixture, hostFaults, makePool, outcome, show, track, within } from './helpers.ts';

const HANG = 10_000;

/** An array Proxy of [1, 2, 3] whose `length` answers `length`. */
function lying(length: unknown): unknown[] {
  return new Proxy([1, 2, 3], { get: (target, key, receiver) => (key === 'length' ? length : Reflect.get(target, key, receiver)) });
}

const badLengths = [
  { label: '-1', length: -1 },
  { label: '1.5', length: 1.5 },
  { label: '2 ** 32 (more than an array holds)', length: 2 ** 32 },
  { label: "'abc'", length: 'abc' },
  { label: 'NaN', length: NaN },
];

describe('an array Proxy whose length is no array length', () => {
  it.each(badLengths)('pool.map, length $label: rejects with TaskInputError; the pool works on', async ({ length }) => {
    const pool = makePool<typeof Echo>('echo.ts');
    const s = await outcome(() => pool.map('echo', lying(length) as number[]), 'pool.map');
    expect(s.status, show(s.value)).toBe('rejected');
    expect(s.reason, show(s.reason)).toBeInstanceOf(TaskInputError);
    expect(await within(pool.map('echo', [1, 2, 3]), HANG, 'a later map')).toEqual([1, 2, 3]);
    expect(hostFaults()).toEqual([]);
  });

  it.each(badLengths)('pool.batch, length $label: never throws, rejects with SourceError; the pool works on', async ({ length }) => {
    const pool = makePool<typeof Echo>('echo.ts');
    const s = await outcome(() => pool.batch('echo', lying(length) as number[]), 'pool.batch');
    expect(s.status).toBe('rejected');
    expect(s.reason, show(s.reason)).toBeInstanceOf(SourceError);
    expect((await within(pool.batch('echo', [1, 2]), HANG, 'a later batch')).fulfilled).toBe(2);
    expect(hostFaults()).toEqual([]);
  });
});

describe('a partitioner whose split answers what cannot be read', () => {
  function partitioned(split: () => unknown): Pool<typeof Echo> {
    return track(
      createPool<typeof Echo>({
        module: fixture('echo.ts'),
        maxThreads: 2,
        minThreads: 2,
        partitions: { add: { task: 'echo', split: split as () => never[], merge: (results: unknown[]) => results.length } },
      }),
    );
  }

  it.each([
    {
      label: 'a revoked Proxy',
      split: () => {
        const { proxy, revoke } = Proxy.revocable([1], {});
        revoke();
        return proxy;
      },
    },
    { label: 'an array Proxy claiming 1e9 parts', split: () => lying(1e9) },
    { label: "an array Proxy whose length is 'abc'", split: () => lying('abc') },
    { label: 'an array Proxy whose traps throw', split: () => hostileProxy([]) },
    {
      label: 'an array whose part 0 is a getter that throws a Proxy whose traps throw',
      split: () =>
        Object.defineProperty([1], 0, {
          get() {
            throw hostileProxy();
          },
        }),
    },
  ])('split returns $label: the run rejects with PartitionError; the pool works on', async ({ split }) => {
    const pool = partitioned(split);
    await pool.ready();
    const s = await outcome(() => pool.run('add', { a: 1, b: 2 }), 'the partitioned run');
    expect(s.status).toBe('rejected');
    expect(s.reason, show(s.reason)).toBeInstanceOf(PartitionError);
    expect(await within(pool.run('echo', 7), HANG, 'a later run')).toBe(7);
    expect(hostFaults()).toEqual([]);
  });
});

describe('a Proxy or a fake where a URL belongs', () => {
  it.each([
    { label: 'a Proxy of a URL', module: () => new Proxy(fixture('echo.ts'), {}) },
    { label: 'Object.create(URL.prototype)', module: () => Object.create(URL.prototype) as URL },
    { label: 'a Proxy whose traps throw', module: () => hostileProxy() as URL },
  ])('createPool({ module: $label }) throws InvalidOptionTypeError', ({ module }) => {
    let thrown: unknown;
    try {
      track(createPool({ module: module(), maxThreads: 1 }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown, show(thrown)).toBeInstanceOf(InvalidOptionTypeError);
    expect(thrown).toMatchObject({ code: 'TESSERA_INVALID_OPTION', message: expect.stringMatching(/^Expected `module` to be a URL/) });
  });

  it('a subclass of URL is still a URL: the pool runs its module', async () => {
    class TaskUrl extends URL {}
    const pool = track(createPool<typeof Echo>({ module: new TaskUrl(fixture('echo.ts').href), maxThreads: 1, minThreads: 1 }));
    expect(await within(pool.run('echo', 3), HANG, 'a run')).toBe(3);
  });

  it('pool.run with a revoked Proxy as `transfer` rejects with InvalidOptionTypeError', async () => {
    const pool = makePool<typeof Echo>('echo.ts');
    const { proxy, revoke } = Proxy.revocable([], {});
    revoke();
    const s = await outcome(() => pool.run('echo', 1, { transfer: proxy }), 'pool.run');
    expect(s.status).toBe('rejected');
    expect(s.reason, show(s.reason)).toBeInstanceOf(InvalidOptionTypeError);
    expect(await within(pool.run('echo', 2), HANG, 'a later run')).toBe(2);
  });
});

describe('a Proxy where a flow belongs', () => {
  const real = defineFlow<typeof Echo>().node('a', { task: 'echo', input: 1 });

  it.each([
    {
      label: 'a Proxy whose getPrototypeOf throws a string',
      flow: () =>
        new Proxy(
          {},
          {
            getPrototypeOf() {
              throw 'trap!';
            },
          },
        ),
    },
    { label: 'a Proxy whose traps throw', flow: () => hostileProxy() },
    { label: 'a Proxy of a real flow', flow: () => new Proxy(real, {}) },
  ])('pool.flow($label) rejects with FlowDefinitionError, never throws; a real flow runs on', async ({ flow }) => {
    const pool = makePool<typeof Echo>('echo.ts');
    const s = await outcome(() => pool.flow(flow() as typeof real), 'pool.flow');
    expect(s.status).toBe('rejected');
    expect(s.reason, show(s.reason)).toBeInstanceOf(FlowDefinitionError);
    expect((await within(pool.flow(real), HANG, 'a real flow')).results).toEqual({ a: 1 });
    expect(hostFaults()).toEqual([]);
  });

  it('`after` whose read throws a Proxy with throwing traps: FlowDefinitionError, not the thrown Proxy', () => {
    const after = new Proxy([], {
      get() {
        throw hostileProxy();
      },
    });
    let thrown: unknown;
    try {
      defineFlow<typeof Echo>().nodes({ a: { task: 'echo', after } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown, show(thrown)).toBeInstanceOf(FlowDefinitionError);
  });
});
