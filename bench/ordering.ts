/**
 * Ordering keys and delayed runs against plain runs: `node --import tsx bench/ordering.ts`.
 *
 * Submits --runs runs at once (each --us µs of CPU) to a pool of --threads threads, and measures
 * throughput (runs settled per second of wall time) in four scenarios, in one process, one after
 * the other: plain runs (the baseline); every run with one of --keys ordering keys (runs of a key
 * one at a time, keys in parallel); every run with one single key (fully serial: one thread works,
 * and each run waits for the one before it to come back); every run with `delay: 0` (the delay
 * path, due at once). Prints each scenario's throughput and its ratio to the baseline.
 *
 *   options: --runs N (20000), --us N (50), --threads N (2), --keys N (1000)
 */
import { parseArgs } from 'node:util';
import { createPool, type RunOptions } from '../src/index.ts';
import type * as tasks from './tasks/flaky.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20000' },
    us: { type: 'string', default: '50' },
    threads: { type: 'string', default: '2' },
    keys: { type: 'string', default: '1000' },
  },
  strict: true,
});
const RUNS = Number(values.runs);
const US = Number(values.us);
const THREADS = Number(values.threads);
const KEYS = Number(values.keys);

async function scenario(options: (id: number) => RunOptions | undefined): Promise<number> {
  const pool = createPool<typeof tasks>({
    module: new URL('./tasks/flaky.ts', import.meta.url),
    maxThreads: THREADS,
    minThreads: THREADS,
    maxQueue: Infinity,
  });
  await pool.ready();
  const start = performance.now();
  await Promise.all(Array.from({ length: RUNS }, (_, id) => pool.run('work', { id, us: US, failRate: 0 }, options(id))));
  const seconds = (performance.now() - start) / 1000;
  await pool.close();
  return RUNS / seconds;
}

const baseline = await scenario(() => undefined);
const rows: Array<[string, number]> = [
  ['plain runs (baseline)', baseline],
  [`${KEYS} ordering keys`, await scenario((id) => ({ orderingKey: `k${id % KEYS}` }))],
  ['1 ordering key (serial)', await scenario(() => ({ orderingKey: 'one' }))],
  ['delay: 0', await scenario(() => ({ delay: 0 }))],
];
console.log(`${RUNS} runs of ${US} µs on ${THREADS} threads`);
for (const [label, rate] of rows) console.log(`${label.padEnd(26)} ${Math.round(rate).toString().padStart(7)} runs/s  ${(rate / baseline).toFixed(2)}x`);
