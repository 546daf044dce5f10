/**
 * `pool.pipeline` against the other ways to run the same two-stage workload: each item's CPU task
 * (bench/tasks/kernel.mjs `cpu`) split in two halves, the second fed by the first's result
 * (cpu({seed, a + b}) === cpu({seed: cpu({seed, a}), b})), so every contender computes the same
 * checksum. Contenders, in one process, interleaved, repeated; medians and the ratio to pool.pipeline:
 *  (a) tessera `pool.pipeline`, two stages;
 *  (b) tessera map-then-map: `pool.map` of the first halves, then of the second halves;
 *  (c) the two-stage pipeline contender of the main bench (bench/contenders/pipeline.ts: N/2 + N/2
 *      plain Workers wired by MessageChannels);
 *  (d) the main thread, both halves in turn.
 * Then the same with tiny items (x + 1 twice), where dispatch cost is all there is, and `pool.batch`
 * of the tiny task at two windows beside `pool.map`.
 *
 *   npm run bench:pipeline -- [--runs 5] [--threads N] [--items 1000] [--iterations 400000] [--tiny 20000]
 */
import { availableParallelism, cpus } from 'node:os';
import { createPool } from '../src/index.ts';
import { create as createTwoStage } from './contenders/pipeline.ts';
import { cpu, tiny } from './tasks/kernel.mjs';
import type * as Kernel from './tasks/kernel.mjs';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const RUNS = arg('runs', 5);
const THREADS = Math.max(2, arg('threads', availableParallelism()));
const ITEMS = arg('items', 1_000);
const ITERATIONS = arg('iterations', 400_000);
const TINY = arg('tiny', 20_000);
const half = ITERATIONS >>> 1;
const rest = ITERATIONS - half;

const pool = createPool<typeof Kernel>({ module: new URL('./tasks/kernel.mjs', import.meta.url), minThreads: THREADS, maxThreads: THREADS });
const twoStage = createTwoStage(THREADS);
await Promise.all([pool.ready(), twoStage.start()]);

const seeds = Array.from({ length: ITEMS }, (_, i) => i + 1);
const expected = seeds.reduce((sum, seed) => (sum + cpu({ seed, iterations: ITERATIONS })) % 2 ** 32, 0);
const numbers = Array.from({ length: TINY }, (_, i) => i);
const expectedTiny = numbers.reduce((sum, x) => sum + x + 2, 0);
const sum32 = (xs: Iterable<number>): number => {
  let total = 0;
  for (const x of xs) total = (total + x) % 2 ** 32;
  return total;
};
async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

type Case = () => Promise<number>;
const cpuCases: Record<string, Case> = {
  'pool.pipeline (2 stages)': async () =>
    sum32(
      await collect(
        pool.pipeline(seeds, [
          { task: 'cpu', input: (seed: number) => ({ seed, iterations: half }) },
          { task: 'cpu', input: (seed: number) => ({ seed, iterations: rest }) },
        ]),
      ),
    ),
  'pool.map then pool.map': async () => {
    const first = await pool.map('cpu', seeds.map((seed) => ({ seed, iterations: half })));
    return sum32(await pool.map('cpu', first.map((seed) => ({ seed, iterations: rest }))));
  },
  'two-stage pipeline contender (plain Workers)': async () => sum32(await Promise.all(seeds.map((seed) => twoStage.run('cpu', { seed, iterations: ITERATIONS })))),
  'main thread': async () => sum32(seeds.map((seed) => cpu({ seed: cpu({ seed, iterations: half }), iterations: rest }))),
};
const tinyCases: Record<string, Case> = {
  'pool.pipeline (2 stages)': async () => sum32(await collect(pool.pipeline(numbers, [{ task: 'tiny' }, { task: 'tiny' }]))),
  'pool.map then pool.map': async () => sum32(await pool.map('tiny', await pool.map('tiny', numbers))),
  'two-stage pipeline contender (plain Workers)': async () => sum32(await Promise.all(numbers.map((x) => twoStage.run('tiny', x).then((y) => y + 1)))),
  'main thread': async () => sum32(numbers.map((x) => tiny(tiny(x)))),
};
const batchCases: Record<string, Case> = {
  'pool.batch, concurrency default (2 × slots)': async () => sum32((await pool.batch('tiny', numbers)).results.map((r) => (r as PromiseFulfilledResult<number>).value + 1)),
  'pool.batch, concurrency 256': async () =>
    sum32((await pool.batch('tiny', numbers, { concurrency: 256 })).results.map((r) => (r as PromiseFulfilledResult<number>).value + 1)),
  'pool.map': async () => sum32((await pool.map('tiny', numbers)).map((y) => y + 1)),
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
async function measure(title: string, cases: Record<string, Case>, count: number, check: number): Promise<void> {
  const rates: Record<string, number[]> = {};
  for (const run of Object.values(cases)) if ((await run()) !== check) throw new Error(`${title}: wrong checksum`); // warm-up
  for (let r = 0; r < RUNS; r++) {
    for (const [name, run] of Object.entries(cases)) {
      const start = performance.now();
      if ((await run()) !== check) throw new Error(`${title}: ${name}: wrong checksum`);
      (rates[name] ??= []).push(count / ((performance.now() - start) / 1000));
    }
  }
  const base = median(Object.values(rates)[0]!);
  console.log(`\n${title}`);
  console.log(`| contender | items/s | min-max | vs ${Object.keys(cases)[0]} |`);
  console.log('|---|---:|---:|---:|');
  for (const [name, xs] of Object.entries(rates)) {
    const m = median(xs);
    console.log(`| ${name} | ${Math.round(m)} | ${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))} | ${(m / base).toFixed(2)}x |`);
  }
}

console.log(`pipeline: ${THREADS} threads, ${RUNS} runs interleaved after a warm-up, medians (min-max); ratio: contender ÷ first row (higher is faster)`);
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores`);
await measure(`CPU: ${ITEMS} items of ${ITERATIONS} hash steps, split in two stages of ${half} + ${rest}`, cpuCases, ITEMS, expected);
await measure(`tiny: ${TINY} items, x + 1 in each of two stages`, tinyCases, TINY, expectedTiny);
await measure(`batch: ${TINY} tiny items, one run each, against pool.map`, batchCases, TINY, expectedTiny);
await Promise.all([pool.destroy(), twoStage.close()]);
