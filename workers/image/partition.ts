/**
 * Main-thread side of the partitioned image pipeline. Imports only pure modules (no codecs, no
 * kernels), so a service can load it next to `createPool`.
 *
 *   const pool = createPool<typeof imageTasks>({ module: imageModule, partitions: imagePartitions });
 *   const out = await resizePartitioned(pool, { image: pngBytes, width: 1000, height: 750 });
 *
 * Pixels never get copied between threads: the decoded source and the output live in
 * SharedArrayBuffers; each band reads the source rows its filter needs and writes its own rows.
 *
 * Main-thread cost does not grow with the image: `split` validates the input (O(1)), builds the
 * plan (filter tables, O(width + height)) and allocates the shared output (zero-filled lazily by
 * the OS); `merge` wraps that buffer in a view. No pixel is read, scanned or copied here.
 */
import { badOption } from './errors.ts';
import { formatOf, imageSource, knownFields, qualityOf, resizeRawInput, shrinkOnLoadOf, targetOf } from './input.ts';
import { bandQueue, createResizePlan, planBands, type BandQueue, type ResizePlan } from './plan.ts';
import type { Partitioner, Pool } from '../../src/index.ts';
import type { ImageInput, OutputFormat, RawImage } from './types.ts';
import type { ImageResult, ResizeRawInput } from '../image.ts';

/** URL of the image task module, for `createPool({ module: imageModule })` (TypeScript in development, JavaScript when built). */
export const imageModule = new URL(import.meta.url.endsWith('.ts') ? '../image.ts' : '../image.js', import.meta.url);

/** One band of a partitioned `resizeRaw`: what `split` returns and `merge` reads back (no module state). */
export interface ResizeRawPart {
  /** The plan shared by every band of the run. */
  plan: ResizePlan;
  /** The whole source, as a view on its buffer. */
  src: Uint8Array;
  /** The run's output buffer, shared by its bands. */
  dst: SharedArrayBuffer;
  /** First output row of the band. */
  y0: number;
  /** One past the last output row of the band. */
  y1: number;
  /** The run's size guard, checked again by the band. */
  maxPixels: number;
  /**
   * With two parts or more: the run's bands, shared by its parts. Each part takes the next band
   * off the queue until none is left, so a part that starts late or gets less CPU takes fewer.
   */
  bands?: BandQueue;
}

/**
 * Splits `resizeRaw` into one part per free thread over shared buffers. The parts share a queue of
 * bands of output rows, more bands than parts and shorter towards the end (see planBands), and
 * each part takes the next band until none is left: the work goes to the threads that have the
 * CPU, not in fixed shares. Any split gives the same bytes. A source that is not in a
 * SharedArrayBuffer would be copied whole to every part, so it runs as one part (one copy, as any
 * task input); pass `decodeShared`'s result, or `toShared` it, to split.
 */
export const resizeRawPartitioner: Partitioner<ResizeRawInput, RawImage, ResizeRawPart, { y0: number; y1: number; bands?: number }> = {
  task: 'resizeBand',
  split(input: ResizeRawInput, parts: number): ResizeRawPart[] {
    const { src, maxPixels, ...target } = resizeRawInput(input);
    const plan = createResizePlan({ srcWidth: src.width, srcHeight: src.height, maxPixels, ...target });
    const dst = new SharedArrayBuffer(plan.dstWidth * plan.dstHeight * 4);
    const shared = src.data.buffer instanceof SharedArrayBuffer;
    const whole = { plan, src: src.data, dst, y0: 0, y1: plan.dstHeight, maxPixels };
    const count = Math.max(1, Math.floor(parts) || 1);
    const planned = shared ? planBands(plan, count) : [];
    if (planned.length < 2) return [whole];
    const bands = bandQueue(planned);
    return Array.from({ length: Math.min(count, planned.length) }, () => ({ ...whole, bands }));
  },
  merge(_bands: unknown[], _input: ResizeRawInput, parts: ResizeRawPart[]): RawImage {
    const first = Array.isArray(parts) ? parts[0] : undefined;
    if (first === undefined) throw badOption('resizeRaw merge needs the parts its split returned (got none).');
    return { data: new Uint8Array(first.dst), width: first.plan.dstWidth, height: first.plan.dstHeight };
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

const PARTITIONED_USAGE = '{ image, width?, height?, fit?, filter?, background?, maxPixels?, format?, quality? }';

/**
 * Decode on a thread, resize in bands on every free thread, encode on a thread. The main thread
 * only passes views on SharedArrayBuffers between the steps; the input bytes are copied to the
 * decoding thread once (pass them in a SharedArrayBuffer to avoid even that), and the encoded
 * result once back.
 */
export async function resizePartitioned(pool: ImagePool, options: PartitionedResizeOptions): Promise<ImageResult> {
  // shrinkOnLoad comes with ResizeRawInput's type; the bands need the full-size source, so it is only checked.
  const f = knownFields(options, 'resizePartitioned', PARTITIONED_USAGE, ['image', 'format', 'quality', 'width', 'height', 'fit', 'filter', 'background', 'maxPixels', 'shrinkOnLoad']);
  // Options are checked here, before any thread decodes: O(1), and a bad format fails at once.
  const target = targetOf(f);
  shrinkOnLoadOf(f.shrinkOnLoad);
  const format = formatOf(f.format);
  const quality = qualityOf(f.quality);
  if (f.image === undefined || f.image === null) throw badOption(`resizePartitioned needs image: ${PARTITIONED_USAGE}.`);
  imageSource(f.image);
  const { maxPixels } = target;
  const src = await pool.run('decodeShared', { image: f.image as ImageInput, maxPixels });
  const raw = await pool.run('resizeRaw', { ...target, src });
  // JPEG flattens alpha onto the same background a `contain` fit letterboxes with.
  return pool.run('encodeImage', { image: raw, format, quality, maxPixels, background: target.background });
}
