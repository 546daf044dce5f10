/**
 * What observability costs on the hot path: the tiny-task burst (N runs of `x + 1` submitted at
 * once, 2 threads) against a baseline build of tessera without it, in the same process, rounds
 * interleaved, medians of tasks/s.
 *
 *   npm run build                                  (this tree into dist/)
 *   git archive <baseline> | tar -x -C /tmp/base && ln -s $PWD/node_modules /tmp/base/node_modules \
 *     && (cd /tmp/base && npx tsc -p tsconfig.build.json)
 *   npm run bench:observability -- --baseline /tmp/base/dist     (--runs 20000 --rounds 9 --threads 2)
 *
 * Cases: the baseline; this build with nobody listening (always recording: counts, histograms,
 * slot time); with a `taskSettle` and a `taskDispatch` listener; with a subscriber on the
 * `tessera-pool:run` tracing channel; with a prom-client registration scraped after each burst.
 */
import diagnostics from 'node:diagnostics_channel';
import { parseArgs } from 'node:util';
import type * as Tessera from '../src/index.ts';
import type * as Prometheus from '../src/metrics-prometheus.ts';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    build: { type: 'string', default: new URL('../dist', import.meta.url).pathname },
    runs: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '9' },
    threads: { type: 'string', default: '2' },
  },
  strict: true,
});
if (values.baseline === undefined) {
  console.error('bench/observability.ts needs --baseline DIR: the dist/ of a build without observability (see the comment at the top).');
  process.exit(2);
}
const RUNS = Number(values.runs);
const ROUNDS = Number(values.rounds);
const THREADS = Number(values.threads);
const load = async <T>(dir: string, file: string): Promise<T> => (await import(new URL(`file://${dir}/src/${file}`).href)) as T;
const base = await load<typeof Tessera>(values.baseline, 'index.js');
const current = await load<typeof Tessera>(values.build, 'index.js');
const { registerPoolMetrics } = await load<typeof Prometheus>(values.build, 'metrics-prometheus.js');
const { Registry } = await import('prom-client');
const module = new URL('./tasks/kernel.mjs', import.meta.url);

type Pool = Tessera.Pool<any>;
interface Case {
  readonly label: string;
  readonly make: () => Pool;
  /** Run around each burst (a scrape). */
  readonly after?: (pool: Pool) => Promise<unknown>;
  readonly samples: number[];
}

const options = { module, minThreads: THREADS, maxThreads: THREADS, maxQueue: Infinity };
const registries = new Map<Pool, InstanceType<typeof Registry>>();
const tracer = {
  start() {},
  end() {},
  asyncStart() {},
  asyncEnd() {},
  error() {},
};
const cases: Case[] = [
  { label: 'baseline (no observability)', make: () => base.createPool(options), samples: [] },
  { label: 'this build, nobody listening', make: () => current.createPool(options), samples: [] },
  {
    label: 'this build, taskDispatch + taskSettle listeners',
    make: () => {
      const pool = current.createPool(options);
      pool.events.on('taskDispatch', () => {});
      pool.events.on('taskSettle', () => {});
      return pool;
    },
    samples: [],
  },
  {
    label: 'this build, tracing channel subscribed',
    make: () => {
      diagnostics.tracingChannel(current.channelNames.run).subscribe(tracer);
      return current.createPool(options);
    },
    after: () => Promise.resolve(diagnostics.tracingChannel(current.channelNames.run).unsubscribe(tracer)),
    samples: [],
  },
  {
    label: 'this build, Prometheus registered, scraped per burst',
    make: () => {
      const pool = current.createPool(options);
      const registry = new Registry();
      registerPoolMetrics(pool, { name: 'bench', registry });
      registries.set(pool, registry);
      return pool;
    },
    after: (pool) => registries.get(pool)!.metrics(),
    samples: [],
  },
];

async function burst(pool: Pool): Promise<number> {
  const start = performance.now();
  const runs: Promise<unknown>[] = new Array(RUNS);
  for (let i = 0; i < RUNS; i++) runs[i] = pool.run('tiny', i);
  await Promise.all(runs);
  return RUNS / ((performance.now() - start) / 1000);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Each round: a fresh pool per case, one warm-up burst, one measured; the cases' order rotates.
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < cases.length; k++) {
    const c = cases[(round + k) % cases.length]!;
    const pool = c.make();
    await pool.ready();
    await burst(pool);
    c.samples.push(await burst(pool));
    await c.after?.(pool);
    await pool.close();
  }
}

const baseline = median(cases[0]!.samples);
console.log(`tiny-task burst: ${RUNS.toLocaleString('en')} runs at once, ${THREADS} threads, median of ${ROUNDS} rounds, Node ${process.version}`);
console.log('| case | tasks/s (median) | min-max | vs baseline |');
console.log('|---|---|---|---|');
for (const c of cases) {
  const m = median(c.samples);
  console.log(
    `| ${c.label} | ${Math.round(m).toLocaleString('en')} | ${Math.round(Math.min(...c.samples)).toLocaleString('en')}-${Math.round(Math.max(...c.samples)).toLocaleString('en')} | ${(m / baseline).toFixed(3)}x |`,
  );
}
