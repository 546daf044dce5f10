/**
 * What dispatch costs the main thread: 2,000 tasks of about 2 ms on 2 threads, submitted at once, for
 * a bare postMessage round robin (every task posted up front), piscina alone, and tessera with
 * prefetch 0 and 1. Reports tasks/s and the main thread's active time per task
 * (performance.eventLoopUtilization), medians over REPS rounds; every contender runs once per round,
 * in turn, so they share the machine's state.
 *
 *   node --import tsx bench/dispatch-cost.ts            (REPS=5 N=2000 THREADS=2 to change)
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { createPool } from '../src/index.ts';
import { cpu } from './tasks/kernel.mjs';
import type * as kernel from './tasks/kernel.mjs';

const REPS = Number(process.env['REPS'] ?? 5);
const N = Number(process.env['N'] ?? 2000);
const THREADS = Number(process.env['THREADS'] ?? 2);
const KERNEL = new URL('./tasks/kernel.mjs', import.meta.url);

/** Iterations of the cpu kernel that take about 2 ms here. */
function calibrate(): number {
  let iterations = 100_000;
  for (let i = 0; i < 200; i++) cpu({ seed: i, iterations });
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    for (let i = 0; i < 20; i++) cpu({ seed: i, iterations });
    iterations = Math.round((iterations * 2) / ((performance.now() - start) / 20));
  }
  return iterations;
}

interface Sample {
  rate: number;
  activeUs: number;
}

type Run = (input: { seed: number; iterations: number }) => Promise<unknown>;

async function measure(run: Run, iterations: number): Promise<Sample> {
  const before = performance.eventLoopUtilization();
  const start = performance.now();
  await Promise.all(Array.from({ length: N }, (_, i) => run({ seed: i, iterations })));
  const wall = performance.now() - start;
  const elu = performance.eventLoopUtilization(before);
  return { rate: (N / wall) * 1000, activeUs: (elu.active * 1000) / N };
}

/** Warms each contender up with one full pass, then measures the next. */
async function twice(run: Run, iterations: number): Promise<Sample> {
  await measure(run, iterations);
  return measure(run, iterations);
}

const contenders: Record<string, (iterations: number) => Promise<Sample>> = {
  'raw round robin': async (iterations) => {
    const workers = Array.from({ length: THREADS }, () => new Worker(new URL('./tasks/raw-worker.mjs', import.meta.url), { workerData: { role: 'rr' } }));
    const pending = new Map<number, (value: unknown) => void>();
    for (const worker of workers) worker.on('message', ([id, result]: [number, unknown]) => {
      pending.get(id)!(result);
      pending.delete(id);
    });
    let id = 0;
    let next = 0;
    const run: Run = (input) =>
      new Promise((resolve) => {
        pending.set(id, resolve);
        workers[next]!.postMessage([id++, 'cpu', input]);
        next = (next + 1) % workers.length;
      });
    try {
      return await twice(run, iterations);
    } finally {
      await Promise.all(workers.map((worker) => worker.terminate()));
    }
  },
  piscina: async (iterations) => {
    const pool = new Piscina({ filename: KERNEL.href, minThreads: THREADS, maxThreads: THREADS, maxQueue: Infinity });
    try {
      return await twice((input) => pool.run(input, { name: 'cpu' }), iterations);
    } finally {
      await pool.destroy();
    }
  },
  ...Object.fromEntries(
    [0, 1].map((prefetch) => [
      `tessera, prefetch ${prefetch}`,
      async (iterations: number) => {
        const pool = createPool<typeof kernel>({ module: KERNEL, minThreads: THREADS, maxThreads: THREADS, maxQueue: Infinity, prefetch });
        try {
          await pool.ready();
          return await twice((input) => pool.run('cpu', input), iterations);
        } finally {
          await pool.destroy();
        }
      },
    ]),
  ),
};

const iterations = calibrate();
const samples = new Map<string, Sample[]>(Object.keys(contenders).map((name) => [name, []]));
for (let rep = 0; rep < REPS; rep++) {
  for (const [name, contender] of Object.entries(contenders)) samples.get(name)!.push(await contender(iterations));
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const baseline = median(samples.get('raw round robin')!.map((s) => s.rate));
console.log(`${N} tasks of ~2 ms on ${THREADS} threads, ${REPS} rounds, medians (node ${process.version})`);
console.log('| contender | tasks/s | vs raw round robin | main-thread active µs per task | rounds (tasks/s) |');
console.log('|---|---|---|---|---|');
for (const [name, list] of samples) {
  const rate = median(list.map((s) => s.rate));
  const rounds = list.map((s) => s.rate.toFixed(0)).join(', ');
  console.log(`| ${name} | ${rate.toFixed(0)} | ${(rate / baseline).toFixed(3)}x | ${median(list.map((s) => s.activeUs)).toFixed(1)} | ${rounds} |`);
}
