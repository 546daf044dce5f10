/**
 * The soak test: `npm run bench:soak` (node --expose-gc --import tsx bench/soak.ts).
 *
 * Pushes 1,000,000 tiny runs (bench/tasks/kernel.mjs `tiny`, x + 1) through one pool in waves with
 * back-pressure (at most --window runs in flight; each wave starts once half of them are done and after
 * pool.waitForCapacity()), then compares the main thread's heapUsed after forced GC with the figure
 * after a warm-up of 10,000 runs. It passes when the heap grew by at most --limit MiB (default 10) and
 * every run returned its value. Prints runs/s, the heap and RSS at start and end, and the heap after GC
 * at checkpoints along the way (a leak shows as a steady climb there); exits 1 on failure.
 *
 *   npm run bench:soak                      1,000,000 runs
 *   npm run bench:soak -- --runs 100000     a quicker check
 *   options: --runs N, --warmup N (10000), --threads N (2), --window N (10000), --limit MiB (10), --checkpoints N (10)
 *
 * tessera runs from source (src/ through tsx) unless TESSERA_BENCH_BUILD names a compiled build, as
 * for the bench contenders (bench/contenders/tessera.ts).
 */
import { parseArgs } from 'node:util';
import type * as Tessera from '../src/index.ts';
import type * as kernel from './tasks/kernel.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000000' },
    warmup: { type: 'string', default: '10000' },
    threads: { type: 'string', default: '2' },
    window: { type: 'string', default: '10000' },
    limit: { type: 'string', default: '10' },
    checkpoints: { type: 'string', default: '10' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log('Usage: npm run bench:soak -- [--runs N] [--warmup N] [--threads N] [--window N] [--limit MiB] [--checkpoints N]');
  process.exit(0);
}
function int(name: keyof typeof values, min: number): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${String(values[name])}`);
  return n;
}
const RUNS = int('runs', 1);
const WARMUP = int('warmup', 0);
const THREADS = int('threads', 1);
const WINDOW = int('window', 2);
const CHECKPOINTS = int('checkpoints', 1);
const LIMIT_MIB = Number(values.limit);
if (!(LIMIT_MIB > 0)) throw new Error(`--limit must be a number of MiB > 0, got ${values.limit}`);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('bench/soak.ts needs --expose-gc: run it with `npm run bench:soak` (node --expose-gc --import tsx bench/soak.ts).');
  process.exit(2);
}

const build = process.env.TESSERA_BENCH_BUILD;
const { createPool } = (await import(build ? new URL(`file://${build}/src/index.js`).href : '../src/index.ts')) as typeof Tessera;

const MiB = 2 ** 20;
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
const count = (n: number): string => n.toLocaleString('en-US');
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** heapUsed and RSS after forced GC, several times with a turn of the event loop between. */
async function settledMemory(): Promise<{ heap: number; rss: number }> {
  for (let i = 0; i < 6; i++) {
    gc!();
    await turn();
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc!();
  const { heapUsed, rss } = process.memoryUsage();
  return { heap: heapUsed, rss };
}

const pool = createPool<typeof kernel>({
  module: new URL('./tasks/kernel.mjs', import.meta.url),
  minThreads: THREADS,
  maxThreads: THREADS,
  maxQueue: WINDOW,
});

let failures = 0;
let firstError: unknown;

/** Runs tiny(from .. from + n - 1) in waves, at most WINDOW in flight; resolves with the sum of the results mod 2^32. */
async function drive(from: number, n: number): Promise<number> {
  let submitted = 0;
  let done = 0;
  let sum = 0;
  let wake: (() => void) | undefined;
  const low = Math.floor(WINDOW / 2);
  const settle = (): void => {
    done++;
    if (wake !== undefined && (submitted - done <= low || done === n)) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  const ok = (r: number): void => {
    sum = (sum + r) >>> 0;
    settle();
  };
  const fail = (error: unknown): void => {
    failures++;
    firstError ??= error;
    settle();
  };
  while (submitted < n) {
    await pool.waitForCapacity();
    // One wave: fill the window.
    while (submitted < n && submitted - done < WINDOW) pool.run('tiny', from + submitted++).then(ok, fail);
    // Back-pressure: the next wave once half the window is done.
    if (submitted - done > low) await new Promise<void>((resolve) => (wake = resolve));
  }
  while (done < n) await new Promise<void>((resolve) => (wake = resolve));
  return sum;
}

/** The expected sum of tiny(i) = i + 1 for i in [from, from + n), mod 2^32. */
function expected(from: number, n: number): number {
  let sum = 0;
  for (let i = from; i < from + n; i++) sum = (sum + i + 1) >>> 0;
  return sum;
}

await pool.ready();
console.log(
  `tessera soak: ${count(RUNS)} tiny runs, ${THREADS} threads, at most ${count(WINDOW)} in flight, after ${count(WARMUP)} warm-up runs; Node ${process.version}; tessera from ${build ? 'a compiled build' : 'source (src/ through tsx)'}`,
);

let wrong = 0;
if (WARMUP > 0 && (await drive(0, WARMUP)) !== expected(0, WARMUP)) wrong++;
const start = await settledMemory();
console.log(`after warm-up: heap ${mib(start.heap)}, RSS ${mib(start.rss)} (after forced GC)`);

const t0 = performance.now();
const step = Math.ceil(RUNS / CHECKPOINTS);
let measuredMs = 0;
for (let from = 0; from < RUNS; from += step) {
  const n = Math.min(step, RUNS - from);
  const t = performance.now();
  const sum = await drive(WARMUP + from, n);
  measuredMs += performance.now() - t;
  if (sum !== expected(WARMUP + from, n)) wrong++;
  const m = await settledMemory();
  const rate = (from + n) / (measuredMs / 1000);
  console.log(
    `  ${count(from + n).padStart(count(RUNS).length)} runs  ${count(Math.round(rate)).padStart(9)} runs/s  heap ${mib(m.heap).padStart(10)} (${m.heap >= start.heap ? '+' : ''}${mib(m.heap - start.heap)})  RSS ${mib(m.rss)}`,
  );
}
const wallS = (performance.now() - t0) / 1000;
const end = await settledMemory();
const stats = pool.stats();
await pool.close();

const growth = end.heap - start.heap;
const runsPerSec = RUNS / (measuredMs / 1000);
console.log('');
console.log(`runs:       ${count(RUNS)} in ${(measuredMs / 1000).toFixed(1)} s: ${count(Math.round(runsPerSec))} runs/s (${wallS.toFixed(1)} s with the checkpoints' GCs)`);
console.log(`heap:       ${mib(start.heap)} after warm-up, ${mib(end.heap)} at the end (after forced GC)`);
console.log(`growth:     ${growth >= 0 ? '+' : ''}${mib(growth)} (limit ${LIMIT_MIB} MiB)`);
console.log(`RSS:        ${mib(start.rss)} after warm-up, ${mib(end.rss)} at the end`);
console.log(`pool stats: completed ${count(stats.completed)}, failed ${count(stats.failed)}`);

const problems: string[] = [];
if (growth > LIMIT_MIB * MiB) problems.push(`the heap grew by ${mib(growth)}, more than ${LIMIT_MIB} MiB`);
if (failures > 0) problems.push(`${count(failures)} run(s) rejected, the first with: ${String(firstError)}`);
if (wrong > 0) problems.push(`${wrong} wave(s) returned wrong results`);
if (problems.length > 0) {
  console.log(`\nFAIL: ${problems.join('; ')}`);
  process.exitCode = 1;
} else {
  console.log(`\nPASS: heap growth within ${LIMIT_MIB} MiB over ${count(RUNS)} runs`);
}
