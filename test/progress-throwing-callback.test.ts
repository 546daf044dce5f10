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
