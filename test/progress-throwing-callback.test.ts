import { afterEach, beforeEach, expect, test } from 'vitest';
import type * as tasks from './fixtures/progress.ts';
import { hostFaults, makePool } from './helpers.ts';

const warnings: Error[] = [];
const onWarning = (warning: Error): void => void warnings.push(warning);
beforeEach(() => {
  warnings.length = 0;
  process.on('warning', onWarning);
});
afterEach(() => void process.off('warning', onWarning));

test('an onProgress that throws does not reach the host; the run resolves and one warning is emitted', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  const faults = hostFaults().length;
  let calls = 0;
  const hostile = new Proxy(
    {},
    {
      get() {
        throw new Error('trap');
      },
    },
  );
  const result = await pool.run(
    'steps',
    { n: 100 },
    {
      onProgress: () => {
        calls++;
        throw hostile;
      },
    },
  );
  expect(result).toBe('done');
  expect(calls).toBeGreaterThan(0);
  // Warnings are emitted on the next tick.
  await new Promise((resolve) => process.nextTick(resolve));
  const ours = warnings.filter((w) => w.name === 'TesseraWarning' && w.message.includes('onProgress'));
  expect(ours).toHaveLength(1);
  expect(hostFaults().length).toBe(faults);
});

test('an onProgress that returns a rejected promise does not make an unhandled rejection', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  const faults = hostFaults().length;
  const result = await pool.run('steps', { n: 50 }, { onProgress: () => Promise.reject(new Error('async boom')) });
  expect(result).toBe('done');
  await new Promise((resolve) => setImmediate(resolve));
  expect(hostFaults().length).toBe(faults);
  expect(warnings.some((w) => w.message.includes('async boom'))).toBe(true);
});

test('an onProgress that returns a Proxy whose traps throw, or a thenable whose then throws, is contained', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  const faults = hostFaults().length;
  const trap = (): never => {
    throw new Error('trap');
  };
  // `instanceof Promise` would run getPrototypeOf; reading `then` runs get: both throw here.
  const proxy = new Proxy({}, { get: trap, getPrototypeOf: trap, has: trap });
  const thenable = Object.defineProperty({}, 'then', { get: trap });
  let calls = 0;
  const result = await pool.run('steps', { n: 50 }, { onProgress: () => (calls++ % 2 === 0 ? proxy : thenable) });
  expect(result).toBe('done');
  expect(calls).toBeGreaterThan(0);
  await new Promise((resolve) => setImmediate(resolve));
  expect(hostFaults().length).toBe(faults);
  expect(warnings.filter((w) => w.name === 'TesseraWarning' && w.message.includes('onProgress'))).toHaveLength(1);
});
