/**
 * Retries under transient failures: `node --import tsx bench/retries.ts`.
 *
 * Submits --runs runs at once (each --us µs of CPU) to a pool of --threads threads and measures
 * throughput (runs settled per second of wall time) and latency from submission to settlement
 * (p50, p99), in three scenarios: no failures and no retries (the baseline); every attempt failing
 * with probability 0.2 and retried up to 5 attempts with the default exponential full-jitter backoff
 * from --delay ms; the same with a fixed backoff of 0 ms (retry at once). Prints one line per
 * scenario, with the retries scheduled and the runs that still failed.
 *
 *   options: --runs N (5000), --us N (200), --threads N (2), --delay ms (10), --fail-rate x (0.2)
 */
import { parseArgs } from 'node:util';
import { createPool, type RetryOptions } from '../src/index.ts';
import type * as tasks from './tasks/flaky.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5000' },
    us: { type: 'string', default: '200' },
    threads: { type: 'string', default: '2' },
    delay: { type: 'string', default: '10' },
    'fail-rate': { type: 'string', default: '0.2' },
  },
  strict: true,
});
const RUNS = Number(values.runs);
const US = Number(values.us);
const THREADS = Number(values.threads);
const DELAY = Number(values.delay);
const FAIL_RATE = Number(values['fail-rate']);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function scenario(label: string, failRate: number, retry: RetryOptions | undefined): Promise<void> {
  const pool = createPool<typeof tasks>({
    module: new URL('./tasks/flaky.ts', import.meta.url),
    maxThreads: THREADS,
    minThreads: THREADS,
    maxQueue: Infinity,
    ...(retry ? { retry } : {}),
  });
  await pool.ready();
  const latencies: number[] = [];
  const start = performance.now();
  const runs = Array.from({ length: RUNS }, (_, id) => {
    const submitted = performance.now();
    return pool.run('work', { id, us: US, failRate }).then(
      () => latencies.push(performance.now() - submitted),
      () => latencies.push(performance.now() - submitted),
    );
  });
  await Promise.all(runs);
  const wall = (performance.now() - start) / 1000;
  const { retries, failed, completed } = pool.stats();
  await pool.close();
  latencies.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(44)} ${(RUNS / wall).toFixed(0).padStart(7)} runs/s  p50 ${quantile(latencies, 0.5).toFixed(1).padStart(7)} ms  p99 ${quantile(latencies, 0.99).toFixed(1).padStart(7)} ms  retries ${String(retries).padStart(5)}  completed ${completed}  failed ${failed}`,
  );
}

console.log(`${RUNS} runs of ${US} µs on ${THREADS} threads, submitted at once`);
await scenario('no failures, no retry', 0, undefined);
await scenario(`${FAIL_RATE * 100}% failures, no retry`, FAIL_RATE, undefined);
await scenario(`${FAIL_RATE * 100}% failures, 5 attempts, exponential ${DELAY} ms`, FAIL_RATE, { attempts: 5, delay: DELAY });
await scenario(`${FAIL_RATE * 100}% failures, 5 attempts, fixed 0 ms`, FAIL_RATE, { attempts: 5, backoff: 'fixed', delay: 0 });
