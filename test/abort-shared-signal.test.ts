import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AbortError, type Pool } from '../src/index.ts';
import { Gate, makePool } from './helpers.ts';
import type * as Lifecycle from './fixtures/lifecycle.ts';

describe('one signal shared by many tasks', () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });

  it('adds one listener, so 200 tasks raise no MaxListenersExceededWarning, and aborting rejects them all', async () => {
    const pool: Pool<typeof Lifecycle> = makePool('lifecycle.ts', { maxQueue: 1_000 });
    const gate = new Gate();
    const controller = new AbortController();
    const blocked = pool.run('block', { cells: gate.cells });
    await gate.started();
    const runs = Array.from({ length: 200 }, () => pool.run('count', { log: new Int32Array(new SharedArrayBuffer(8)), id: 1 }, { signal: controller.signal }));
    const settled = Promise.allSettled(runs);
    controller.abort(new Error('request cancelled'));
    const outcomes = await settled;
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason instanceof AbortError)).toBe(true);
    gate.open();
    await blocked;
    // Warnings are emitted on the next tick: let them arrive before looking.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    expect(pool.stats().queued).toBe(0);
  });

  it('tasks that settle normally stop listening, and a later abort touches nothing', async () => {
    const pool: Pool<typeof Lifecycle> = makePool('lifecycle.ts', { maxThreads: 2, minThreads: 2 });
    const controller = new AbortController();
    const log = new Int32Array(new SharedArrayBuffer(4 * 64));
    const results = await Promise.all(Array.from({ length: 50 }, (_, id) => pool.run('count', { log, id }, { signal: controller.signal })));
    expect(results).toHaveLength(50);
    controller.abort();
    await expect(pool.run('count', { log, id: 99 })).resolves.toMatchObject({ id: 99 });
    expect(pool.stats().failed).toBe(0);
  });
});
