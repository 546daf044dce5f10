/**
 * `pool.map` against one run per item: 100,000 tiny items (bench/tasks/kernel.mjs `tiny`) through
 * tessera's `pool.map`, through 100,000 `run`s on raw piscina, and through a hand-written
 * postMessage round robin over plain Workers, with the same thread count, interleaved, repeated.
 * Also 1,000,000 items streamed through `pool.map` from an async generator, with peak RSS.
 *
 *   npm run bench:map -- [--runs 5] [--threads N] [--items 100000]
 */
import { availableParallelism, cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { createPool } from '../src/index.ts';
import type * as Kernel from './tasks/kernel.mjs';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const RUNS = arg('runs', 5);
const THREADS = arg('threads', availableParallelism());
const ITEMS = arg('items', 100_000);
const STREAM = arg('stream', 1_000_000);
const kernelUrl = new URL('./tasks/kernel.mjs', import.meta.url);

/** The raw baseline: N plain Workers, items posted round robin, results matched back by id. */
async function roundRobin(threads: number): Promise<{ run: (x: number) => Promise<number>; close: () => Promise<void> }> {
  const source = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(kernelUrl.href)}).then(({ tiny }) => {
      parentPort.on('message', (m) => parentPort.postMessage([m[0], tiny(m[1])]));
      parentPort.postMessage('ready');
    });`;
  const pending = new Map<number, (value: number) => void>();
  const workers = Array.from({ length: threads }, () => new Worker(source, { eval: true }));
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
  for (const w of workers) {
    w.on('message', (m: [number, number]) => {
      pending.get(m[0])!(m[1]);
      pending.delete(m[0]);
    });
  }
  let id = 0;
  return {
    run: (x) =>
      new Promise<number>((resolve) => {
        const key = id++;
        pending.set(key, resolve);
        workers[key % threads]!.postMessage([key, x]);
      }),
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

const items = Array.from({ length: ITEMS }, (_, i) => i);
const expected = items.reduce((sum, x) => sum + x + 1, 0);
const check = (results: number[]): void => {
  if (results.reduce((sum, x) => sum + x, 0) !== expected) throw new Error('wrong results');
};

const tessera = createPool<typeof Kernel>({ module: kernelUrl, minThreads: THREADS, maxThreads: THREADS });
const piscina = new Piscina({ filename: kernelUrl.href, name: 'tiny', minThreads: THREADS, maxThreads: THREADS });
const rr = await roundRobin(THREADS);
await tessera.ready();
await piscina.run(0);

const contenders: Record<string, () => Promise<number[]>> = {
  'tessera pool.map': () => tessera.map('tiny', items),
  'raw piscina, one run per item': () => Promise.all(items.map((x) => piscina.run(x) as Promise<number>)),
  'hand-written round robin': () => Promise.all(items.map((x) => rr.run(x))),
};
const rates: Record<string, number[]> = {};
for (const run of Object.values(contenders)) check(await run()); // warm-up
for (let r = 0; r < RUNS; r++) {
  for (const [name, run] of Object.entries(contenders)) {
    const start = performance.now();
    check(await run());
    (rates[name] ??= []).push(ITEMS / ((performance.now() - start) / 1000));
  }
}

// A long stream at flat memory: bounded read-ahead means RSS does not grow with the item count.
async function* stream(): AsyncGenerator<number> {
  for (let i = 0; i < STREAM; i++) yield i;
}
const rssBefore = process.memoryUsage().rss;
let peakRss = rssBefore;
let count = 0;
const streamStart = performance.now();
for await (const _ of tessera.map('tiny', stream())) {
  if (++count % 50_000 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
}
const streamRate = count / ((performance.now() - streamStart) / 1000);
await Promise.all([tessera.destroy(), piscina.destroy(), rr.close()]);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`map: ${ITEMS} tiny items, ${THREADS} threads, ${RUNS} runs interleaved, medians (min-max)`);
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores`);
const mapRate = median(rates['tessera pool.map']!);
console.log('| contender | items/s | min-max | pool.map vs it |');
console.log('|---|---:|---:|---:|');
for (const [name, xs] of Object.entries(rates)) {
  const m = median(xs);
  console.log(`| ${name} | ${Math.round(m)} | ${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))} | ${(mapRate / m).toFixed(2)}x |`);
}
console.log(
  `stream: ${count} items through pool.map from an async generator: ${Math.round(streamRate)} items/s; RSS ${Math.round(rssBefore / 1e6)} MB before, peak ${Math.round(peakRss / 1e6)} MB`,
);
