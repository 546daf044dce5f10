/**
 * Image tasks for tessera worker threads. Every named export is a task:
 * `(input, context?) => result`.
 *
 *   resize(input)      decode -> resize -> encode one image.
 *   thumbnails(input)  decode once, produce several sizes.
 *   resizeBand(input)  one band of a partitioned resize (the parallel path).
 *
 * Partitioned resize, as the pool should wire it (main thread side uses
 * workers/image/index.ts):
 *
 *   const src  = toShared(decode(bytes, { maxPixels }));          // RGBA in a SharedArrayBuffer
 *   const plan = createResizePlan({ srcWidth: src.width, srcHeight: src.height,
 *                                   width, height, fit, filter }); // plain data, clone it freely
 *   const dst  = new SharedArrayBuffer(plan.dstWidth * plan.dstHeight * 4);
 *   await Promise.all(splitRows(plan, threads).map(({ start, end }) =>
 *     pool.run('resizeBand', { plan, src: src.data.buffer, dst, y0: start, y1: end })));
 *   // dst now holds the straight-RGBA result; encode({ data: new Uint8Array(dst), ... }).
 *
 * Each band writes only output rows [y0, y1) of dst and reads only source rows
 * sourceRowsFor(plan, y0, y1); results are byte-identical for any split. The
 * plan's typed arrays are small (a few KB), so copying it per band is fine.
 * Failures throw ImageError with a stable `code` (see workers/image/errors.ts).
 */
import { ImageError } from './image/errors.ts';
import { decode, encode } from './image/codec.ts';
import { createResizePlan, type ResizePlan } from './image/plan.ts';
import { resizeBand as runBand, resizeImage } from './image/resample.ts';
import { getKernel } from './image/wasm.ts';
import { toShared } from './image/shared.ts';
import type { FilterName, Fit, ImageInput, OutputFormat, RawImage, Rgba } from './image/types.ts';

/** Optional task context; only `signal` is used (checked between outputs). */
export interface ImageTaskContext {
  /** Abort between steps when signalled. */
  signal?: AbortSignal;
}

/** Options common to the resize-type tasks. */
export interface ImageTaskOptions {
  /** Output encoding; default 'png'. */
  format?: OutputFormat;
  /** JPEG quality 1..100, default 85. */
  quality?: number;
  /** Resampling filter, default 'lanczos3'. */
  filter?: FilterName;
  /** Decompression-bomb guard for input and output, default 100 megapixels. */
  maxPixels?: number;
  /** Letterbox colour for fit 'contain', straight RGBA, default transparent. */
  background?: Rgba;
}

/** Input of the `resize` task. */
export interface ResizeTaskInput extends ImageTaskOptions {
  /** PNG/JPEG bytes or raw RGBA. */
  image: ImageInput;
  /** Target width; omit to keep the aspect ratio from height. */
  width?: number;
  /** Target height; omit to keep the aspect ratio from width. */
  height?: number;
  /** Default 'cover'. */
  fit?: Fit;
}

/** One requested thumbnail size. */
export interface ThumbnailSize {
  /** Target width. */
  width: number;
  /** Target height. */
  height: number;
  /** Default 'cover'. */
  fit?: Fit;
}

/** Input of the `thumbnails` task. */
export interface ThumbnailsTaskInput extends ImageTaskOptions {
  /** PNG/JPEG bytes or raw RGBA, decoded once for all sizes. */
  image: ImageInput;
  /** Sizes to produce, in order. */
  sizes: ThumbnailSize[];
}

/** A task result: encoded bytes, or straight RGBA when format is 'raw'. */
export interface ImageResult {
  /** Encoding of `data`. */
  format: OutputFormat;
  /** Output width. */
  width: number;
  /** Output height. */
  height: number;
  /** PNG/JPEG bytes, or width*height*4 RGBA bytes for 'raw'. */
  data: Uint8Array;
}

/** Input of the `resizeBand` task: shared source and destination plus the plan. */
export interface ResizeBandTaskInput {
  /** Plan from createResizePlan, computed once on the main thread. */
  plan: ResizePlan;
  /** Straight RGBA source rows starting at srcFirstRow (default the whole image). */
  src: SharedArrayBuffer | ArrayBuffer | Uint8Array;
  /** Whole output image (dstWidth*dstHeight*4 bytes) or just this band's rows. */
  dst: SharedArrayBuffer | ArrayBuffer | Uint8Array;
  /** First output row of the band. */
  y0: number;
  /** One past the last output row of the band. */
  y1: number;
  /** Source row held at src byte 0; default 0. */
  srcFirstRow?: number;
}

function bytes(buf: SharedArrayBuffer | ArrayBuffer | Uint8Array): Uint8Array {
  return buf instanceof Uint8Array ? buf : new Uint8Array(buf);
}

function checkAborted(context: ImageTaskContext | undefined): void {
  if (context?.signal?.aborted) throw context.signal.reason ?? new Error('aborted');
}

function finish(image: RawImage, options: ImageTaskOptions): ImageResult {
  const format = options.format ?? 'png';
  const out = encode(image, { format, quality: options.quality });
  const data = out instanceof Uint8Array ? out : new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
  return { format, width: image.width, height: image.height, data };
}

async function resample(src: RawImage, width: number | undefined, height: number | undefined, fit: Fit | undefined, options: ImageTaskOptions): Promise<RawImage> {
  const plan = createResizePlan({
    srcWidth: src.width,
    srcHeight: src.height,
    width,
    height,
    fit,
    filter: options.filter,
    background: options.background,
    maxPixels: options.maxPixels,
  });
  const kernel = await getKernel();
  return { data: resizeImage(plan, src.data, { kernel }), width: plan.dstWidth, height: plan.dstHeight };
}

/** Decodes, resizes and re-encodes one image. */
export async function resize(input: ResizeTaskInput, context?: ImageTaskContext): Promise<ImageResult> {
  if (typeof input !== 'object' || input === null) {
    throw new ImageError('TESSERA_IMAGE_FORMAT', 'resize expects { image, width?, height?, fit?, filter?, format?, quality?, maxPixels? }.');
  }
  const src = decode(input.image, { maxPixels: input.maxPixels });
  checkAborted(context);
  const out = await resample(src, input.width, input.height, input.fit, input);
  checkAborted(context);
  return finish(out, input);
}

/** Decodes once and produces one output per requested size, in order. */
export async function thumbnails(input: ThumbnailsTaskInput, context?: ImageTaskContext): Promise<ImageResult[]> {
  if (typeof input !== 'object' || input === null || !Array.isArray(input.sizes)) {
    throw new ImageError('TESSERA_IMAGE_FORMAT', 'thumbnails expects { image, sizes: [{ width, height, fit? }], format?, ... }.');
  }
  const src = decode(input.image, { maxPixels: input.maxPixels });
  const results: ImageResult[] = [];
  for (const size of input.sizes) {
    checkAborted(context);
    results.push(finish(await resample(src, size.width, size.height, size.fit, input), input));
  }
  return results;
}

/**
 * Computes output rows [y0, y1) of `plan` into `dst`, reading `src`; returns the
 * band's row range. Use the WASM kernel when available (identical bytes).
 */
export async function resizeBand(input: ResizeBandTaskInput): Promise<{ y0: number; y1: number }> {
  const kernel = await getKernel();
  runBand(input.plan, bytes(input.src), bytes(input.dst), input.y0, input.y1, { srcFirstRow: input.srcFirstRow, kernel });
  return { y0: input.y0, y1: input.y1 };
}

/** Input of `decodeShared`. */
export interface DecodeSharedInput {
  /** PNG/JPEG bytes or raw RGBA. */
  image: ImageInput;
  /** Decompression-bomb guard, default 100 megapixels. */
  maxPixels?: number;
}

/**
 * Decodes into a SharedArrayBuffer: the pixels cross back to the main thread, and on to every band
 * of a partitioned resize, without a copy.
 */
export function decodeShared(input: DecodeSharedInput): RawImage & { data: Uint8Array } {
  return toShared(decode(input.image, { maxPixels: input.maxPixels }));
}

/** Input of `resizeRaw`: a decoded (ideally shared) image and the target. */
export interface ResizeRawInput extends Omit<ImageTaskOptions, 'format' | 'quality'> {
  /** Straight RGBA source; pass `decodeShared`'s result so bands read it in place. */
  src: RawImage;
  /** Target width; omit to keep the aspect ratio from height. */
  width?: number;
  /** Target height; omit to keep the aspect ratio from width. */
  height?: number;
  /** Default 'cover'. */
  fit?: Fit;
}

/**
 * Resizes raw RGBA into raw RGBA on one thread. Pools built with `imagePartitions`
 * (workers/image/partition.ts) split it into bands of output rows run on every free thread instead.
 */
export async function resizeRaw(input: ResizeRawInput): Promise<RawImage> {
  return resample(input.src, input.width, input.height, input.fit, input);
}

/** Input of `encodeImage`. */
export interface EncodeImageInput {
  /** Straight RGBA. */
  image: RawImage;
  /** Output encoding; default 'png'. */
  format?: OutputFormat;
  /** JPEG quality 1..100, default 85. */
  quality?: number;
}

/** Encodes raw RGBA (PNG, JPEG, or 'raw' to pass it through). */
export function encodeImage(input: EncodeImageInput): ImageResult {
  return finish(input.image, input);
}
