/**
 * A 1,000-node DAG of tiny tasks (bench/tasks/kernel.mjs `tiny`, x + 1) through `pool.flow`, against
 * the same runs orchestrated by hand on the same pool: one `Promise.all` of `pool.run`s per level,
 * each level waiting for the whole previous one. Levels of `width` nodes, each node after `fanIn`
 * nodes of the level before (seeded), its input the sum of their results. Interleaved, repeated; the
 * figure is the median per contender, and the ratio flow / by hand of the medians (same process).
 *
 *   npm run bench:flow -- [--runs 15] [--threads N] [--levels 10] [--width 100] [--fan-in 2]
 */
import { availableParallelism } from 'node:os';
import { createPool, defineFlow, type LooseFlowNode } from '../src/index.ts';
import type * as Kernel from './tasks/kernel.mjs';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const RUNS = arg('runs', 15);
const THREADS = arg('threads', availableParallelism());
const LEVELS = arg('levels', 10);
const WIDTH = arg('width', 100);
const FAN_IN = arg('fan-in', 2);

// A seeded plan: parents[level][i] are indexes into level - 1.
let seed = 42;
const random = (n: number): number => {
  seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
  return seed % n;
};
const parents: number[][][] = Array.from({ length: LEVELS }, (_, level) =>
  Array.from({ length: WIDTH }, () => (level === 0 ? [] : [...new Set(Array.from({ length: FAN_IN }, () => random(WIDTH)))])),
);
const name = (level: number, i: number): string => `n${level}_${i}`;

// The flow: the untyped form, as a definition generated from data is written.
const nodes: Record<string, LooseFlowNode> = {};
for (let level = 0; level < LEVELS; level++) {
  for (let i = 0; i < WIDTH; i++) {
    const after = parents[level]![i]!.map((p) => name(level - 1, p));
    nodes[name(level, i)] = {
      task: 'tiny',
      after,
      input: level === 0 ? i : (results: Record<string, number>) => after.reduce((sum, parent) => sum + results[parent]!, 0),
    };
  }
}
const flow = defineFlow<typeof Kernel>().nodes(nodes);

const pool = createPool<typeof Kernel>({ module: new URL('./tasks/kernel.mjs', import.meta.url), minThreads: THREADS, maxThreads: THREADS });
await pool.ready();

/** The baseline: level by level, one Promise.all each. Returns the last level's results. */
async function byHand(): Promise<number[]> {
  let previous: number[] = [];
  for (let level = 0; level < LEVELS; level++) {
    const inputs = parents[level]!.map((ps, i) => (level === 0 ? i : ps.reduce((sum, p) => sum + previous[p]!, 0)));
    previous = await Promise.all(inputs.map((x) => pool.run('tiny', x)));
  }
  return previous;
}

async function viaFlow(): Promise<number[]> {
  const { results } = await pool.flow(flow);
  return Array.from({ length: WIDTH }, (_, i) => results[name(LEVELS - 1, i)] as number);
}

const expected = await byHand();
const check = (got: number[]): void => {
  if (got.some((x, i) => x !== expected[i])) throw new Error('the flow and the baseline disagree');
};
check(await viaFlow()); // warm-up of both paths

const times: Record<'flow' | 'byHand', number[]> = { flow: [], byHand: [] };
for (let r = 0; r < RUNS; r++) {
  for (const [label, run] of [['flow', viaFlow], ['byHand', byHand]] as const) {
    const start = performance.now();
    check(await run());
    times[label].push(performance.now() - start);
  }
}
await pool.close();

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const flowMs = median(times.flow);
const handMs = median(times.byHand);
console.log(`DAG: ${LEVELS} levels x ${WIDTH} nodes = ${LEVELS * WIDTH} nodes, fan-in ${FAN_IN}, ${THREADS} threads, ${RUNS} runs, Node ${process.version}`);
console.log(`pool.flow:                  median ${flowMs.toFixed(1)} ms (${((LEVELS * WIDTH) / (flowMs / 1000)).toFixed(0)} nodes/s)`);
console.log(`by hand, Promise.all/level: median ${handMs.toFixed(1)} ms (${((LEVELS * WIDTH) / (handMs / 1000)).toFixed(0)} nodes/s)`);
console.log(`time ratio flow / by hand: ${(flowMs / handMs).toFixed(2)}x`);
