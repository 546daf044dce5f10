/**
 * The three ways the service can make thumbnails, behind one interface so the HTTP layer is the same
 * in every mode and the load comparison measures only where the work runs:
 *
 *   tessera  `pool.run('thumbnails', …)` on worker threads: the event loop stays free
 *   main     the same `thumbnails` task from `tessera-pool/image`, called on the main thread
 *   sharp    sharp (libvips, native) on libuv's threadpool: the native reference
 *
 * Every mode fails with the same codes (`TESSERA_IMAGE_*`, `TESSERA_QUEUE_FULL`, …), so one table in
 * app.ts turns an error into an HTTP status whatever made it.
 */
import { createPool, type Pool, type PoolStats } from 'tessera-pool';
import type * as imageTasks from 'tessera-pool/image';
import type { ImageResult, ThumbnailsTaskInput } from 'tessera-pool/image';
import { imageModule } from 'tessera-pool/image/partition';

export const MODES = ['tessera', 'main', 'sharp'] as const;
/** Where the resizing runs. */
export type Mode = (typeof MODES)[number];

/** One thumbnail request, as the HTTP layer parsed it. */
export interface ThumbnailJob {
  /** The uploaded bytes (JPEG, PNG). */
  image: Uint8Array;
  /** Sizes to produce, in order; each is cropped to fill its box (`fit: 'cover'`) unless `fit` says otherwise. */
  sizes: Array<{ width: number; height: number }>;
  fit: 'cover' | 'contain' | 'fill';
  format: 'jpeg' | 'webp' | 'png';
  /** 1..100, for JPEG and WebP; the codec's default when undefined. */
  quality: number | undefined;
}

/** Makes thumbnails; what the HTTP handler calls. */
export interface Thumbnailer {
  readonly mode: Mode;
  /** `signal` aborts when the client has gone: a queued task leaves the queue, a running one stops. */
  make(job: ThumbnailJob, signal?: AbortSignal): Promise<ImageResult[]>;
  /** The pool's figures for the dashboard and /metrics; null where no pool runs the work. */
  stats(): PoolStats | null;
  /** Finishes the work already accepted, then releases the threads. */
  close(): Promise<void>;
  /** The pool itself, where the work runs on one made here: /metrics then reads it through `tessera-pool/metrics`. */
  readonly pool?: Pool<typeof imageTasks>;
}

/** What the service needs of a pool: a narrow view, so a test can hand it a pool over a gated fixture. */
export interface ThumbnailPool {
  run(name: 'thumbnails', input: ThumbnailsTaskInput, options?: { timeout?: number; signal?: AbortSignal }): Promise<ImageResult[]>;
  stats(): PoolStats;
  close(): Promise<void>;
}

/** Limits every mode applies. */
export interface Limits {
  /** Decompression-bomb guard: the most pixels an input may declare. */
  maxPixels: number;
  /** Milliseconds a task may run on its thread (tessera mode; counted from its start, not its enqueue). */
  taskTimeout: number;
}

const input = (job: ThumbnailJob, maxPixels: number): ThumbnailsTaskInput => ({
  image: job.image,
  sizes: job.sizes.map(({ width, height }) => ({ width, height, fit: job.fit })),
  format: job.format,
  maxPixels,
  ...(job.quality === undefined ? {} : { quality: job.quality }),
});

/** tessera mode over any pool that runs a `thumbnails` task (the image module's, or a test's). */
export function poolThumbnailer(pool: ThumbnailPool, limits: Limits): Thumbnailer {
  return {
    mode: 'tessera',
    make: (job, signal) => pool.run('thumbnails', input(job, limits.maxPixels), { timeout: limits.taskTimeout, ...(signal ? { signal } : {}) }),
    stats: () => pool.stats(),
    close: () => pool.close(),
  };
}

/** A pool over the library's image module: `threads` threads, all started at once, and a bounded queue. */
export function imagePool(threads: number, maxQueue: number): Pool<typeof imageTasks> {
  return createPool<typeof imageTasks>({ module: imageModule, minThreads: threads, maxThreads: threads, maxQueue });
}

/** main mode: the same task, on the event loop (what a service does without a pool). Once started it runs to its end. */
export async function mainThumbnailer(limits: Limits): Promise<Thumbnailer> {
  const { thumbnails } = await import('tessera-pool/image');
  return {
    mode: 'main',
    make: (job) => thumbnails(input(job, limits.maxPixels)),
    stats: () => null,
    close: async () => {},
  };
}

/**
 * sharp mode: libvips on libuv's threadpool. `sharp.concurrency(1)` gives each image one libvips
 * thread, so with UV_THREADPOOL_SIZE=T it uses T threads, as the pool does (bench/image-photos.ts
 * sizes it the same way). Its errors are turned into the pipeline's codes by their message, the
 * only thing sharp offers to tell them apart.
 */
export async function sharpThumbnailer(limits: Limits): Promise<Thumbnailer> {
  const sharp = (await import('sharp')).default;
  sharp.cache(false);
  sharp.concurrency(1);
  const make = async (job: ThumbnailJob): Promise<ImageResult[]> => {
    const results: ImageResult[] = [];
    for (const { width, height } of job.sizes) {
      // rotate(): upright by EXIF Orientation, as the pipeline's `orientation: 'auto'`.
      const resized = sharp(job.image, { limitInputPixels: limits.maxPixels, failOn: 'error' })
        .rotate()
        .resize({ width, height, fit: job.fit, kernel: 'lanczos3' });
      const options = job.quality === undefined ? {} : { quality: job.quality };
      const encoded = job.format === 'jpeg' ? resized.jpeg(options) : job.format === 'webp' ? resized.webp(options) : resized.png();
      const { data, info } = await encoded.toBuffer({ resolveWithObject: true }).catch((error: unknown) => {
        throw sharpError(error);
      });
      results.push({ format: job.format, width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    }
    return results;
  };
  return { mode: 'sharp', make, stats: () => null, close: async () => {} };
}

/** sharp's error, re-labelled with the code the pipeline would have given. */
function sharpError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const code = /unsupported image format/i.test(message)
    ? 'TESSERA_IMAGE_FORMAT'
    : /pixel limit/i.test(message)
      ? 'TESSERA_IMAGE_TOO_LARGE'
      : 'TESSERA_IMAGE_CORRUPT';
  return Object.assign(new Error(`sharp: ${message}`, { cause: error }), { name: 'ImageError', code });
}

/** The thumbnailer of `mode`. */
export async function createThumbnailer(mode: Mode, { threads, maxQueue, ...limits }: Limits & { threads: number; maxQueue: number }): Promise<Thumbnailer> {
  if (mode === 'main') return mainThumbnailer(limits);
  if (mode === 'sharp') return sharpThumbnailer(limits);
  const pool = imagePool(threads, maxQueue);
  return { ...poolThumbnailer(pool, limits), pool };
}
