import { expect, test } from 'vitest';
import { proxy } from '../src/index.ts';
import type * as tasks from './fixtures/progress.ts';
import { hostFaults, makePool } from './helpers.ts';

test('a callback that throws rejects the awaited call inside the task, never in the host', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  const faults = hostFaults().length;
  const fail = proxy(() => {
    throw new Error('no asset');
  });
  expect(await pool.run('catches', { fail })).toEqual({ caught: true, message: 'no asset' });
  const rejects = proxy(() => Promise.reject(new Error('async no asset')));
  expect(await pool.run('catches', { fail: rejects })).toEqual({ caught: true, message: 'async no asset' });
  expect(hostFaults().length).toBe(faults);
});

test('hostile values thrown or returned by a callback are contained', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  const faults = hostFaults().length;
  const trap = new Proxy(
    {},
    {
      get() {
        throw new Error('trap');
      },
      getPrototypeOf() {
        throw new Error('trap');
      },
    },
  );
  const throwsHostile = proxy(() => {
    throw trap;
  });
  const returnsFunction = proxy(() => () => 1);
  const returnsHostileThenable = proxy(() => trap);
  for (const fail of [throwsHostile, returnsFunction, returnsHostileThenable]) {
    expect(await pool.run('catches', { fail })).toMatchObject({ caught: true });
  }
  expect(hostFaults().length).toBe(faults);
});
