/**
 * Image tasks for tessera worker threads. Every named export is a task:
 * `(input, context?) => result`.
 *
 *   resize(input)        decode -> resize -> encode one image.
 *   thumbnails(input)    decode once, produce several sizes.
 *   decodeShared(input)  decode into a SharedArrayBuffer.
 *   resizeRaw(input)     raw to raw; a pool built with `imagePartitions` splits it into bands.
 *   resizeBand(input)    one band of a partitioned resize (what the parts run).
 *   encodeImage(input)   raw to PNG/JPEG/WebP.
 *
 * The main-thread side of the partitioned resize is workers/image/partition.ts
 * (`imageModule`, `imagePartitions`, `resizePartitioned`).
 *
 * Every input is validated before any work: a missing or wrongly typed field, an unknown option or
 * a bad maxPixels rejects with ImageError TESSERA_IMAGE_OPTION; impossible sizes with
 * TESSERA_IMAGE_SIZE; images over maxPixels (input or output) with TESSERA_IMAGE_TOO_LARGE, checked
 * from the header before decoding; damaged bytes with TESSERA_IMAGE_CORRUPT; unsupported formats
 * with TESSERA_IMAGE_FORMAT (see workers/image/errors.ts). Raw results ('raw' format, resizeRaw,
 * decodeShared) live in SharedArrayBuffers, so they cross back to the main thread without a copy.
 *
 * JPEGs are turned upright by their EXIF Orientation tag unless `orientation: 'keep'`; JPEG output
 * of an image with alpha is flattened onto `background` (white by default). `resize` and
 * `thumbnails` decode a JPEG they shrink 2x or more at 1/2, 1/4 or 1/8 size (shrink-on-load,
 * image/vips.ts) unless `shrinkOnLoad: false`.
 *
 * Besides the tasks, this entry exports ImageError and ImageErrorCodes (not tasks: a class and a
 * plain object) so callers can branch on `err.code` without importing the core.
 */
import { ErrorCodes, type ImageErrorCode } from '../src/errors.ts';
import { ImageError, badOption } from './image/errors.ts';
import { decode, decodeToFit, encode } from './image/codec.ts';
import type { OrientationMode } from './image/exif.ts';
import { backgroundOf, formatOf, imageSource, maxPixelsOf, orientationOf, qualityOf, rawImage, resizeRawInput, bufferBytes, index, knownFields, shrinkOnLoadOf, targetOf, type Target } from './image/input.ts';
import { claimBands, createResizePlan, readBandQueue, readPlan, type BandQueue, type ResizePlan } from './image/plan.ts';
import { resizeBand as runBand } from './image/resample.ts';
import { getKernel } from './image/wasm.ts';
import { toShared } from './image/shared.ts';
import type { FilterName, Fit, ImageInput, OutputFormat, RawImage, Rgba } from './image/types.ts';

export { ImageError, type ImageErrorCode };
export type { OrientationMode };

/** The codes an ImageError can carry (the same strings as ErrorCodes.IMAGE_* in the core). */
export const ImageErrorCodes = Object.freeze({
  /** Encoded bytes are truncated, damaged, or promise more than they hold. */
  CORRUPT: ErrorCodes.IMAGE_CORRUPT,
  /** Bytes in a format, or a variant of one, that cannot be read or written. */
  FORMAT: ErrorCodes.IMAGE_FORMAT,
  /** An impossible dimension or buffer length. */
  SIZE: ErrorCodes.IMAGE_SIZE,
  /** More pixels than `maxPixels`. */
  TOO_LARGE: ErrorCodes.IMAGE_TOO_LARGE,
  /** A task input or option is missing, of the wrong type, or unknown. */
  OPTION: ErrorCodes.IMAGE_OPTION,
});

/** Optional task context; only `signal` is used (checked between outputs). */
export interface ImageTaskContext {
  /** Abort between steps when signalled. */
  signal?: AbortSignal;
}

/** Options common to the resize-type tasks. */
export interface ImageTaskOptions {
  /** Output encoding: 'png' (default), 'jpeg', 'webp' or 'raw'. */
  format?: OutputFormat;
  /** JPEG/WebP quality 1..100, default 85 for JPEG and 80 for WebP. */
  quality?: number;
  /** Resampling filter, default 'lanczos3'. */
  filter?: FilterName;
  /** Decompression-bomb guard for input and output, default 100 megapixels. */
  maxPixels?: number;
  /**
   * Straight RGBA: the letterbox colour for fit 'contain' (default transparent) and, for JPEG output,
   * the colour transparent pixels are flattened onto (composited onto white first; default white).
   */
  background?: Rgba;
  /** 'auto' (default) turns JPEGs upright by their EXIF Orientation tag; 'keep' leaves pixels as stored. */
  orientation?: OrientationMode;
  /**
   * true (default): a JPEG the output shrinks by 2x or more decodes at 1/2, 1/4 or 1/8 size straight
   * from its DCT coefficients (as sharp does), several times faster; false decodes at full size.
   * Not used by resizeRaw.
   */
  shrinkOnLoad?: boolean;
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
  /** PNG/JPEG/WebP bytes, or width*height*4 RGBA bytes for 'raw'. */
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
  /** Size guard for the plan's source and output, default 100 megapixels. */
  maxPixels?: number;
  /** Bands within [y0, y1) shared with other parts: take them off this queue until none is left (dst is the whole output). */
  bands?: BandQueue;
}

function checkAborted(context: ImageTaskContext | undefined): void {
  if (context?.signal?.aborted) throw context.signal.reason ?? new Error('aborted');
}

/** Output options, checked up front so a bad format fails before any decoding. */
interface Output {
  format: OutputFormat;
  quality: number | undefined;
  maxPixels: number;
  /** What a JPEG flattens alpha onto; undefined for white. */
  background: Rgba | undefined;
}

function finish(image: RawImage, out: Output): ImageResult {
  const encoded = encode(image, { format: out.format, quality: out.quality, maxPixels: out.maxPixels, ...(out.background === undefined ? {} : { background: out.background }) });
  const data = encoded instanceof Uint8Array ? encoded : encoded.data;
  return { format: out.format, width: image.width, height: image.height, data };
}

/**
 * `target` with the output size a full-size decode gives, for a source shrunk on load (`size`): its
 * aspect ratio differs slightly (libvips rounds each side down), which must not change a side the
 * caller left to the aspect ratio. 'cover' then crops the fraction of a pixel that differs.
 */
function sized(target: Target, size: { width: number; height: number } | undefined): Target {
  if (size === undefined || (target.width !== undefined && target.height !== undefined)) return target;
  return { ...target, width: size.width, height: size.height, fit: 'cover' };
}

/** Resizes into a SharedArrayBuffer: the pixels go back to the main thread (and on to an encode) without a copy. */
async function resample(src: RawImage, target: Target): Promise<RawImage & { data: Uint8Array }> {
  const plan = createResizePlan({ srcWidth: src.width, srcHeight: src.height, ...target });
  const kernel = await getKernel();
  const data = new Uint8Array(new SharedArrayBuffer(plan.dstWidth * plan.dstHeight * 4));
  runBand(plan, src.data, data, 0, plan.dstHeight, { kernel });
  return { data, width: plan.dstWidth, height: plan.dstHeight };
}

const OPTION_KEYS = ['format', 'quality', 'filter', 'maxPixels', 'background', 'orientation', 'shrinkOnLoad'] as const;
const RESIZE_USAGE = '{ image, width?, height?, fit?, filter?, format?, quality?, maxPixels?, background?, orientation?, shrinkOnLoad? }';

/** The `image` field: required, encoded bytes or raw RGBA (checked fully when decoded). */
function requireImage(task: string, value: unknown): ImageInput {
  if (value === undefined || value === null) {
    throw badOption(`${task} needs image: PNG/JPEG bytes (a Uint8Array or Buffer) or raw RGBA as { data, width, height }.`);
  }
  imageSource(value);
  return value as ImageInput;
}

/** Decodes, resizes and re-encodes one image. */
export async function resize(input: ResizeTaskInput, context?: ImageTaskContext): Promise<ImageResult> {
  const f = knownFields(input, 'resize', RESIZE_USAGE, ['image', 'width', 'height', 'fit', ...OPTION_KEYS]);
  const target = targetOf(f);
  const out: Output = { format: formatOf(f.format), quality: qualityOf(f.quality), maxPixels: target.maxPixels, background: f.background === undefined ? undefined : target.background };
  const decodeOptions = { maxPixels: target.maxPixels, orientation: orientationOf(f.orientation), shrinkOnLoad: shrinkOnLoadOf(f.shrinkOnLoad) };
  const { image: src, sizes } = await decodeToFit(requireImage('resize', f.image), decodeOptions, [target]);
  checkAborted(context);
  const resized = await resample(src, sized(target, sizes?.[0]));
  checkAborted(context);
  return finish(resized, out);
}

const THUMBNAILS_USAGE = '{ image, sizes: [{ width, height, fit? }], format?, quality?, filter?, maxPixels?, background?, orientation?, shrinkOnLoad? }';

/** The `sizes` field: a non-empty array of { width, height, fit? }, each read once. */
function readSizes(value: unknown): Array<{ width: number; height: number; fit: unknown }> {
  if (value === undefined || value === null) throw badOption(`thumbnails needs sizes: ${THUMBNAILS_USAGE}.`);
  let items: unknown[];
  try {
    if (!Array.isArray(value)) throw badOption(`thumbnails sizes must be an array of { width, height, fit? }, got ${typeof value}.`);
    items = Array.from(value as unknown[]);
  } catch (cause) {
    if (cause instanceof ImageError) throw cause;
    throw badOption('reading thumbnails sizes threw; pass plain data (no throwing getters or Proxies).', cause);
  }
  return items.map((item, i) => {
    const s = knownFields(item, `sizes[${i}]`, '{ width, height, fit? }', ['width', 'height', 'fit']);
    if (s.width === undefined || s.height === undefined) throw badOption(`sizes[${i}] needs both width and height.`);
    return { width: s.width as number, height: s.height as number, fit: s.fit };
  });
}

/** Decodes once and produces one output per requested size, in order. */
export async function thumbnails(input: ThumbnailsTaskInput, context?: ImageTaskContext): Promise<ImageResult[]> {
  const f = knownFields(input, 'thumbnails', THUMBNAILS_USAGE, ['image', 'sizes', ...OPTION_KEYS]);
  const sizes = readSizes(f.sizes);
  // Every size is checked before the decode: a bad last size should not cost a decode.
  const targets = sizes.map((size, i) => targetOf({ ...f, ...size }, `sizes[${i}].`));
  const common = targetOf(f);
  const out: Output = { format: formatOf(f.format), quality: qualityOf(f.quality), maxPixels: common.maxPixels, background: f.background === undefined ? undefined : common.background };
  const decodeOptions = { maxPixels: common.maxPixels, orientation: orientationOf(f.orientation), shrinkOnLoad: shrinkOnLoadOf(f.shrinkOnLoad) };
  const { image: src, sizes: full } = await decodeToFit(requireImage('thumbnails', f.image), decodeOptions, targets);
  const results: ImageResult[] = [];
  for (const [i, target] of targets.entries()) {
    checkAborted(context);
    results.push(finish(await resample(src, sized(target, full?.[i])), out));
  }
  return results;
}

const BAND_USAGE = '{ plan, src, dst, y0, y1, srcFirstRow?, maxPixels?, bands? }';

/**
 * Computes output rows [y0, y1) of `plan` into `dst`, reading `src`; with `bands`, takes bands of
 * [y0, y1) off the shared queue until none is left instead. Returns the row range and the bands done.
 * The plan is checked first (a forged one cannot make the kernel read or write outside the buffers
 * or the band), then the buffers against it. Uses the WASM kernel when available (identical bytes).
 */
export async function resizeBand(input: ResizeBandTaskInput): Promise<{ y0: number; y1: number; bands: number }> {
  const f = knownFields(input, 'resizeBand', BAND_USAGE, ['plan', 'src', 'dst', 'y0', 'y1', 'srcFirstRow', 'maxPixels', 'bands']);
  const plan: ResizePlan = readPlan(f.plan, maxPixelsOf(f.maxPixels));
  const src = bufferBytes(f.src, 'src');
  const dst = bufferBytes(f.dst, 'dst');
  const y0 = index('y0', f.y0);
  const y1 = index('y1', f.y1);
  const srcFirstRow = f.srcFirstRow === undefined ? 0 : index('srcFirstRow', f.srcFirstRow);
  const queue = f.bands === undefined ? undefined : readBandQueue(f.bands, y0, y1);
  const kernel = await getKernel();
  if (queue === undefined) {
    runBand(plan, src, dst, y0, y1, { srcFirstRow, kernel });
    return { y0, y1, bands: 1 };
  }
  // Work stealing: the parts of one run share the queue's counter; returns how many bands this part took.
  let taken = 0;
  for (const band of claimBands(queue)) {
    runBand(plan, src, dst, band.start, band.end, { srcFirstRow, kernel });
    taken++;
  }
  return { y0, y1, bands: taken };
}

/** Input of `decodeShared`. */
export interface DecodeSharedInput {
  /** PNG/JPEG bytes or raw RGBA. */
  image: ImageInput;
  /** Decompression-bomb guard, default 100 megapixels. */
  maxPixels?: number;
  /** 'auto' (default) turns a JPEG upright by its EXIF Orientation tag; 'keep' leaves pixels as stored. */
  orientation?: OrientationMode;
}

/**
 * Decodes into a SharedArrayBuffer: the pixels cross back to the main thread, and on to every band
 * of a partitioned resize, without a copy.
 */
export function decodeShared(input: DecodeSharedInput): RawImage & { data: Uint8Array } {
  const f = knownFields(input, 'decodeShared', '{ image, maxPixels?, orientation? }', ['image', 'maxPixels', 'orientation']);
  const maxPixels = maxPixelsOf(f.maxPixels);
  const orientation = orientationOf(f.orientation);
  return toShared(decode(requireImage('decodeShared', f.image), { maxPixels, orientation }));
}

/** Input of `resizeRaw`: a decoded (ideally shared) image and the target. */
export interface ResizeRawInput extends Omit<ImageTaskOptions, 'format' | 'quality' | 'orientation'> {
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
  const { src, ...target } = resizeRawInput(input);
  return resample(src, target);
}

/** Input of `encodeImage`. */
export interface EncodeImageInput {
  /** Straight RGBA. */
  image: RawImage;
  /** Output encoding: 'png' (default), 'jpeg', 'webp' or 'raw'. */
  format?: OutputFormat;
  /** JPEG/WebP quality 1..100, default 85 for JPEG and 80 for WebP. */
  quality?: number;
  /** Size guard, default 100 megapixels. */
  maxPixels?: number;
  /** JPEG only: what transparent pixels are flattened onto (composited onto white first); default white. */
  background?: Rgba;
}

/** Encodes raw RGBA (PNG, JPEG, WebP, or 'raw' to pass it through). */
export function encodeImage(input: EncodeImageInput): ImageResult {
  const f = knownFields(input, 'encodeImage', '{ image: { data, width, height }, format?, quality?, maxPixels?, background? }', ['image', 'format', 'quality', 'maxPixels', 'background']);
  const out: Output = {
    format: formatOf(f.format),
    quality: qualityOf(f.quality),
    maxPixels: maxPixelsOf(f.maxPixels),
    background: f.background === undefined ? undefined : backgroundOf(f.background),
  };
  if (f.image === undefined || f.image === null) throw badOption('encodeImage needs image: raw RGBA as { data, width, height }.');
  const image = rawImage(f.image, 'image', out.maxPixels);
  return finish(image, out);
}
