/**
 * Image scenarios. First real photos (bench/image-photos.ts): every JPEG of a folder to a 256 px
 * JPEG (and WebP, once the tasks support it), tessera at 1 and N threads against sharp at the same
 * thread count and against the main thread. Then the kernel figure: a 4000x3000 RGBA image resized to 1000x750 (lanczos3), and to a set of thumbnails,
 * side by side in one run: the kernel on the main thread, tessera with 1 thread, tessera with every
 * thread partitioned into bands (also with its threads' OS priority lowered), and sharp with the
 * same thread count. Also the main thread's event-loop delay over a second of back-to-back resizes.
 *
 *   npm run bench:image -- [--runs 5] [--threads N] [--photos DIR] [--photo-runs 3] [--photos-only | --skip-photos] [--compare-fixed]
 *
 * --photos defaults to /usr/share/backgrounds/mate (Debian's mate-backgrounds package).
 */
import { availableParallelism, cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import { createPool, type Pool } from '../src/index.ts';
import type * as ImageTasks from '../workers/image.ts';
import { imagePartitions, resizeRawPartitioner } from '../workers/image/partition.ts';
import { createResizePlan, splitRows } from '../workers/image/plan.ts';
import { resizeImage } from '../workers/image/resample.ts';
import { getKernel } from '../workers/image/wasm.ts';
import type { RawImage } from '../workers/image/types.ts';
import { DEFAULT_PHOTOS, photoScenario } from './image-photos.ts';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const RUNS = arg('runs', 5);
const THREADS = arg('threads', availableParallelism());
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const photosAt = process.argv.indexOf('--photos');

if (!flag('skip-photos')) {
  await photoScenario({
    dir: photosAt > 0 ? process.argv[photosAt + 1]! : DEFAULT_PHOTOS,
    runs: arg('photo-runs', 3),
    threads: THREADS > 1 ? [1, THREADS] : [1],
  });
  console.log('');
  if (flag('photos-only')) process.exit(0);
}
const SRC_W = 4000;
const SRC_H = 3000;
const MP = (SRC_W * SRC_H) / 1e6;
const THUMBS = [
  { width: 1000, height: 750 },
  { width: 400, height: 300 },
  { width: 200, height: 150 },
  { width: 100, height: 75 },
];

function synthetic(): Uint8Array {
  const data = new Uint8Array(new SharedArrayBuffer(SRC_W * SRC_H * 4));
  let s = 12345;
  for (let i = 0; i < data.length; i += 4) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const x = (i >> 2) % SRC_W;
    const y = Math.floor((i >> 2) / SRC_W);
    data[i] = (x * 255) / SRC_W + (s & 15);
    data[i + 1] = (y * 255) / SRC_H + ((s >>> 8) & 15);
    data[i + 2] = ((x + y) * 127) / (SRC_W + SRC_H) + ((s >>> 16) & 31);
    data[i + 3] = 255;
  }
  return data;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};

interface Sample {
  seconds: number;
}

/** Times one run of `fn`. */
async function sample(fn: () => Promise<unknown> | unknown): Promise<Sample> {
  const start = process.hrtime.bigint();
  await fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

/**
 * The event loop's delay while `fn` runs back to back for `ms`: enough samples (one a millisecond)
 * for a p99 that means something, unlike one short run.
 */
async function sustained(fn: () => Promise<unknown> | unknown, ms = 1_000): Promise<{ p99: number; max: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  await new Promise((resolve) => setTimeout(resolve, 3));
  const end = performance.now() + ms;
  while (performance.now() < end) await fn();
  await new Promise((resolve) => setTimeout(resolve, 5));
  histogram.disable();
  return { p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 };
}

const src: RawImage = { data: synthetic(), width: SRC_W, height: SRC_H };
const kernel = await getKernel();
const onePlan = createResizePlan({ srcWidth: SRC_W, srcHeight: SRC_H, width: 1000, height: 750, fit: 'fill' });
const thumbPlans = THUMBS.map((t) => createResizePlan({ srcWidth: SRC_W, srcHeight: SRC_H, ...t, fit: 'fill' }));

const module = new URL('../workers/image.ts', import.meta.url);
const single: Pool<typeof ImageTasks> = createPool<typeof ImageTasks>({ module, minThreads: 1, maxThreads: 1 });
const parted: Pool<typeof ImageTasks> = createPool<typeof ImageTasks>({
  module,
  minThreads: THREADS,
  maxThreads: THREADS,
  partitions: imagePartitions,
});
// The same, with its threads at a lower OS priority than the main thread (the event loop's lever).
const partedNice: Pool<typeof ImageTasks> = createPool<typeof ImageTasks>({
  module,
  minThreads: THREADS,
  maxThreads: THREADS,
  partitions: imagePartitions,
  niceIncrement: 10,
});
// --compare-fixed: the split before work stealing, one fixed band of rows per part, for comparison.
const COMPARE_FIXED = flag('compare-fixed');
const fixedBands = {
  ...resizeRawPartitioner,
  split: (input: Parameters<typeof resizeRawPartitioner.split>[0], parts: number) => {
    const [whole] = resizeRawPartitioner.split(input, 1);
    return splitRows(whole!.plan, parts).map(({ start, end }) => ({ ...whole!, y0: start, y1: end }));
  },
};
const partedFixed: Pool<typeof ImageTasks> | undefined = COMPARE_FIXED
  ? createPool<typeof ImageTasks>({ module, minThreads: THREADS, maxThreads: THREADS, partitions: { resizeRaw: fixedBands } })
  : undefined;
await Promise.all([single.ready(), parted.ready(), partedNice.ready(), partedFixed?.ready()]);
sharp.cache(false);

type Job = () => Promise<unknown> | unknown;
const contenders: Array<{ name: string; one: Job; thumbs: Job; before?: () => void }> = [
  {
    name: 'kernel on the main thread',
    one: () => resizeImage(onePlan, src.data, { kernel }),
    thumbs: () => thumbPlans.map((plan) => resizeImage(plan, src.data, { kernel })),
  },
  {
    name: 'tessera, 1 thread',
    one: () => single.run('resizeRaw', { src, width: 1000, height: 750, fit: 'fill' }),
    thumbs: () => Promise.all(THUMBS.map((t) => single.run('resizeRaw', { src, ...t, fit: 'fill' }))),
  },
  {
    name: `tessera, ${THREADS} threads partitioned`,
    one: () => parted.run('resizeRaw', { src, width: 1000, height: 750, fit: 'fill' }),
    thumbs: () => Promise.all(THUMBS.map((t) => parted.run('resizeRaw', { src, ...t, fit: 'fill' }))),
  },
  {
    name: `tessera, ${THREADS} threads partitioned, niceIncrement 10`,
    one: () => partedNice.run('resizeRaw', { src, width: 1000, height: 750, fit: 'fill' }),
    thumbs: () => Promise.all(THUMBS.map((t) => partedNice.run('resizeRaw', { src, ...t, fit: 'fill' }))),
  },
  {
    name: `sharp, ${THREADS} threads`,
    before: () => sharp.concurrency(THREADS),
    one: () => sharp(src.data, { raw: { width: SRC_W, height: SRC_H, channels: 4 } }).resize(1000, 750, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer(),
    thumbs: () =>
      Promise.all(
        THUMBS.map((t) =>
          sharp(src.data, { raw: { width: SRC_W, height: SRC_H, channels: 4 } }).resize(t.width, t.height, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer(),
        ),
      ),
  },
];
if (partedFixed !== undefined) {
  contenders.push({
    name: `tessera, ${THREADS} threads partitioned, fixed bands (--compare-fixed)`,
    one: () => partedFixed.run('resizeRaw', { src, width: 1000, height: 750, fit: 'fill' }),
    thumbs: () => Promise.all(THUMBS.map((t) => partedFixed.run('resizeRaw', { src, ...t, fit: 'fill' }))),
  });
}

const results = new Map<string, { one: Sample[]; thumbs: Sample[] }>();
for (const c of contenders) {
  c.before?.();
  await c.one();
  await c.thumbs();
  results.set(c.name, { one: [], thumbs: [] });
}
// Repetitions interleave the contenders so drift in machine load hits all of them alike.
for (let r = 0; r < RUNS; r++) {
  for (const c of contenders) {
    c.before?.();
    results.get(c.name)!.one.push(await sample(c.one));
    results.get(c.name)!.thumbs.push(await sample(c.thumbs));
  }
}
const loop = new Map<string, { p99: number; max: number }>();
for (const c of contenders) {
  c.before?.();
  loop.set(c.name, await sustained(c.one));
}
await Promise.all([single.destroy(), parted.destroy(), partedNice.destroy(), partedFixed?.destroy()]);

console.log(`image: ${SRC_W}x${SRC_H} -> 1000x750 and thumbnails ${THUMBS.map((t) => `${t.width}x${t.height}`).join(', ')}, lanczos3`);
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${RUNS} runs, medians`);
const rows = contenders.map((c) => {
  const r = results.get(c.name)!;
  return {
    name: c.name,
    mps: MP / median(r.one.map((s) => s.seconds)),
    thumbsMs: median(r.thumbs.map((s) => s.seconds)) * 1000,
    p99: loop.get(c.name)!.p99,
    max: loop.get(c.name)!.max,
  };
});
const oneThread = rows[1]!;
const sharpRow = rows[4]!;
console.log('Event-loop delay: monitorEventLoopDelay (1 ms resolution, so an idle loop reads about 1 ms) over 1 s of back-to-back 1000x750 resizes.');
console.log('| contender | 1000x750: input MP/s | vs tessera 1 thread | thumbnails: ms | event-loop delay p99 / max ms |');
console.log('|---|---:|---:|---:|---:|');
for (const row of rows) {
  console.log(
    `| ${row.name} | ${row.mps.toFixed(1)} | ${(row.mps / oneThread.mps).toFixed(2)}x | ${row.thumbsMs.toFixed(0)} | ${row.p99.toFixed(2)} / ${row.max.toFixed(1)} |`,
  );
}
console.log(`tessera ${THREADS} threads partitioned / tessera 1 thread: ${(rows[2]!.mps / oneThread.mps).toFixed(2)}x`);
if (partedFixed !== undefined) console.log(`tessera ${THREADS} threads partitioned, fixed bands / tessera 1 thread: ${(rows[5]!.mps / oneThread.mps).toFixed(2)}x`);
console.log(`tessera 1 thread / sharp ${THREADS} threads: ${(oneThread.mps / sharpRow.mps).toFixed(2)}x per thread x ${THREADS} = ${((oneThread.mps * THREADS) / sharpRow.mps).toFixed(2)}x`);
