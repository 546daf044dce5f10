/**
 * Main-thread side of the partitioned image pipeline. Imports only pure modules (no codecs, no
 * kernels), so a service can load it next to `createPool`.
 *
 *   const pool = createPool<typeof imageTasks>({ module: imageModule, partitions: imagePartitions });
 *   const out = await resizePartitioned(pool, { image: pngBytes, width: 1000, height: 750 });
 *
 * Pixels never get copied between threads: the decoded source and the output live in
 * SharedArrayBuffers; each band reads the source rows its filter needs and writes its own rows.
 */
import { createResizePlan, splitRows, type ResizePlan } from './plan.ts';
import type { Pool } from '../../src/index.ts';
import type { ImageInput, OutputFormat, RawImage } from './types.ts';
import type { ImageResult, ResizeBandTaskInput, ResizeRawInput } from '../image.ts';

/** URL of the image task module, for `createPool({ module: imageModule })` (TypeScript in development, JavaScript when built). */
export const imageModule = new URL(import.meta.url.endsWith('.ts') ? '../image.ts' : '../image.js', import.meta.url);

/** Plans and output buffers of the runs being split, until their merge. */
const inFlight = new WeakMap<ResizeRawInput, { plan: ResizePlan; dst: SharedArrayBuffer }>();

/** Splits `resizeRaw` into bands of output rows, one per free thread, over shared buffers. */
export const resizeRawPartitioner = {
  task: 'resizeBand',
  split(input: ResizeRawInput, parts: number): ResizeBandTaskInput[] {
    const plan = createResizePlan({
      srcWidth: input.src.width,
      srcHeight: input.src.height,
      width: input.width,
      height: input.height,
      fit: input.fit,
      filter: input.filter,
      background: input.background,
      maxPixels: input.maxPixels,
    });
    const dst = new SharedArrayBuffer(plan.dstWidth * plan.dstHeight * 4);
    inFlight.set(input, { plan, dst });
    const data = input.src.data;
    // A view on a SharedArrayBuffer crosses threads as the same memory; a plain buffer would be copied per band.
    const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return splitRows(plan, parts).map(({ start, end }) => ({ plan, src, dst, y0: start, y1: end }));
  },
  merge(_bands: unknown[], input: ResizeRawInput): RawImage {
    const { plan, dst } = inFlight.get(input)!;
    inFlight.delete(input);
    return { data: new Uint8Array(dst), width: plan.dstWidth, height: plan.dstHeight };
  },
};

/** The `partitions` option for a pool over `workers/image.ts`. */
export const imagePartitions = { resizeRaw: resizeRawPartitioner };

/** A tessera pool over `workers/image.ts`. */
export type ImagePool = Pool<typeof import('../image.ts')>;

/** Options of {@link resizePartitioned}. */
export interface PartitionedResizeOptions extends Omit<ResizeRawInput, 'src'> {
  /** PNG/JPEG bytes or raw RGBA. */
  image: ImageInput;
  /** Output encoding; default 'png'. */
  format?: OutputFormat;
  /** JPEG quality 1..100, default 85. */
  quality?: number;
}

/** Decode on a thread, resize in bands on every free thread, encode on a thread. */
export async function resizePartitioned(pool: ImagePool, options: PartitionedResizeOptions): Promise<ImageResult> {
  const { image, format, quality, ...target } = options;
  const src = await pool.run('decodeShared', { image, maxPixels: options.maxPixels });
  const raw = await pool.run('resizeRaw', { ...target, src });
  return pool.run('encodeImage', { image: raw, format, quality });
}
