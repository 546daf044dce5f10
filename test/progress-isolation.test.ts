import { expect, test } from 'vitest';
import type * as tasks from './fixtures/progress.ts';
import { Gate, makePool } from './helpers.ts';

test('progress from a batch-mate never reaches another run', async () => {
  const pool = makePool<typeof tasks>('progress.ts', { prefetch: 0 });
  const gate = new Gate();
  const blocked = pool.run('block', { cells: gate.cells });
  await gate.started();
  // A deep queue: the runs without onProgress go out in batches, those with it alone.
  const seen = new Map<number, unknown[]>();
  const runs: Array<Promise<number>> = [];
  for (let id = 1; id <= 40; id++) {
    if (id % 3 === 0) {
      const mine: unknown[] = [];
      seen.set(id, mine);
      runs.push(pool.run('own', { id }, { onProgress: (value) => mine.push(value) }));
    } else runs.push(pool.run('own', { id }));
  }
  gate.open();
  await blocked;
  expect(await Promise.all(runs)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  for (const [id, values] of seen) {
    expect(values.length).toBeGreaterThan(0);
    expect(new Set(values)).toEqual(new Set([id]));
  }
});
