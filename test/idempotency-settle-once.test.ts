/**
 * Keyed runs in seeded random mixes (keys shared or not, signals shared between runs, aborts at any
 * moment, priorities, kept results, blocked threads, close/destroy/onIdle): every run settles exactly
 * once, a keyed run's result is one its key's execution produced, and the stats reconcile.
 * `KEYS_SEED` replays a seed.
 */
import { expect, test } from 'vitest';
import type * as keyed from './fixtures/keyed.ts';
import {
  Gate,
  Rng,
  SharedLog,
  allSettledWithin,
  claimsIdle,
  idleStatsProblem,
  makePool,
  record,
  seedFrom,
  turns,
  within,
  type Settlement,
  type Stats,
} from './helpers.ts';

const SEED = seedFrom('KEYS_SEED');
const ROUNDS = 8;
const OPS = 50;
const HANG = 20_000;

interface Submitted {
  readonly id: number;
  readonly name: string;
  readonly key: string | undefined;
  readonly settlement: Settlement;
}

test(`keyed runs in any mix settle exactly once, with their key's result (KEYS_SEED=${SEED})`, async () => {
  const rng = new Rng(SEED);
  let shared = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const pool = makePool<typeof keyed>('keyed.ts', {
      maxThreads: 2,
      minThreads: 1,
      maxBatch: rng.pick([1, 64]),
      abortGrace: rng.pick([0, 20]),
      maxKeys: rng.pick([0, 2, 100]),
      priorityAging: rng.pick([1, 1_000, Infinity]),
    });
    const gate = new Gate();
    const log = new SharedLog(1_024);
    const controllers = Array.from({ length: 3 }, () => new AbortController());
    const runs: Submitted[] = [];
    const context = `round ${round} of KEYS_SEED=${SEED}`;

    for (let id = 1; id <= OPS; id++) {
      const op = rng.weighted({ count: 6, fail: 2, block: 1, wait: 1, abort: 2, turn: 2 });
      if (op === 'abort') {
        rng.pick(controllers).abort(`abort at ${id}`);
        continue;
      }
      if (op === 'turn') {
        await turns(1 + rng.int(2));
        continue;
      }
      const key = rng.chance(0.85) ? rng.pick(['a', 'b', 'c']) : undefined;
      const options: Record<string, unknown> = { priority: rng.int(7) - 3 };
      if (key !== undefined) {
        options.key = key;
        const keyTtl = rng.pick([undefined, 0, 5, Infinity]);
        if (keyTtl !== undefined) options.keyTtl = keyTtl;
      }
      if (rng.chance(0.5)) options.signal = rng.pick(controllers).signal;
      let promise: Promise<unknown>;
      let name: string;
      if (op === 'count' || op === 'fail') {
        name = op === 'count' ? 'count' : 'countThenFail';
        promise = pool.run(name as 'count', { log: log.cells, id }, options);
      } else if (op === 'block') {
        name = 'block';
        promise = pool.run('block', { cells: gate.cells, value: id }, options);
      } else {
        // Ends only by its timeout or an abort; every run of it has a timeout, so the first of a key does.
        name = 'wait';
        promise = pool.run('wait', { cells: new Int32Array(new SharedArrayBuffer(8)) }, { ...options, timeout: 5 + rng.int(20) });
      }
      runs.push({ id, name, key, settlement: record(promise) });
    }

    gate.open();
    const ending = rng.pick(['close', 'destroy', 'idle'] as const);
    if (ending === 'close') await within(pool.close(), HANG, `close() in ${context}`);
    else if (ending === 'destroy') await within(pool.destroy(), HANG, `destroy() in ${context}`);
    else await within(pool.onIdle(), HANG, `onIdle() in ${context}`);
    await allSettledWithin(
      runs.map((r) => r.settlement.promise),
      HANG,
      `the runs of ${context}`,
    );
    await turns(2);

    const byId = new Map(runs.map((r) => [r.id, r]));
    for (const run of runs) {
      const { settlement } = run;
      expect(settlement.count, `run ${run.id} settled ${settlement.count} times in ${context}`).toBe(1);
      if (settlement.status !== 'fulfilled') continue;
      // The id its result carries is the run whose input the execution ran: the same task and key.
      const producedBy =
        run.name === 'count' ? (settlement.value as { id: number }).id : run.name === 'block' ? (settlement.value as number) : undefined;
      if (producedBy === undefined) continue;
      const producer = byId.get(producedBy)!;
      expect(producer, `run ${run.id} got the result of unknown run ${producedBy} in ${context}`).toBeDefined();
      if (run.key === undefined) expect(producedBy, `unkeyed run ${run.id} in ${context}`).toBe(run.id);
      else expect([producer.name, producer.key], `run ${run.id} (${run.name}, ${run.key}) in ${context}`).toEqual([run.name, run.key]);
      expect(producedBy).toBeLessThanOrEqual(run.id);
    }
    // No count ran twice.
    for (const [id, times] of log.counts()) expect(times, `run ${id} ran ${times} times in ${context}`).toBe(1);

    const stats = pool.stats() as Stats;
    if (ending !== 'destroy') {
      expect(await claimsIdle(pool), `pool idle after ${ending} in ${context}`).toBe(true);
      expect(idleStatsProblem(stats), context).toBeUndefined();
    }
    expect(stats.accepted + stats.shared, context).toBeLessThanOrEqual(runs.length);
    shared += stats.shared;
    await pool.destroy();
  }
  // The mixes did share executions (else this test would prove nothing about keys).
  expect(shared).toBeGreaterThan(0);
});
