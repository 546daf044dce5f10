import { expect, test } from 'vitest';
import type * as tasks from './fixtures/progress.ts';
import { hostFaults, makePool } from './helpers.ts';

test('context.progress throws in the task for a value structured clone refuses; the task goes on', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  const faults = hostFaults().length;
  const seen: unknown[] = [];
  const caught = await pool.run('uncloneable', undefined, { onProgress: (value) => seen.push(value) });
  // A function, a symbol, a Proxy: DataCloneError; a getter that throws: its own error.
  expect(caught).toEqual(['DataCloneError', 'DataCloneError', 'DataCloneError', 'getter']);
  expect(seen).toEqual(['after']);
  expect(hostFaults().length).toBe(faults);
});
