/**
 * Decode and encode. JPEG through MozJPEG and WebP through libwebp, both WebAssembly
 * (wasm-codecs.ts); PNG through pngjs (zlib in Node). Why each: README, "The image pipeline".
 * Every codec exception is rethrown as an ImageError: codecs throw plain Errors, TypeErrors,
 * RangeErrors, Emscripten exit statuses and wasm traps on bad bytes, and callers must be able to
 * rely on `code`. EXIF orientation is applied here, so every task sees upright pixels.
 */
import { createRequire } from 'node:module';
import { inflateSync } from 'node:zlib';
import type { PNG as PngClass } from 'pngjs';
import { ErrorCodes } from '../../src/errors.ts';
import { ImageError, corrupt, unsupported } from './errors.ts';
import { applyOrientation, jpegOrientation, orientedSize, type OrientationMode } from './exif.ts';
import { backgroundOf, formatOf, imageSource, maxPixelsOf, orientationOf, qualityOf, rawImage } from './input.ts';
import { targetSize } from './plan.ts';
import { inspect, type PngLayout } from './probe.ts';
import type { Fit, ImageInput, OutputFormat, RawImage, Rgba } from './types.ts';
import { scanVerdict } from './jpeg-scan.ts';
import { decodeJpegShrunk, shrinkFor } from './vips.ts';
import { codecMessages, jpegDecoder, jpegEncoder, mozjpegOptions, webpEncoder, webpOptions } from './wasm-codecs.ts';

// pngjs is CommonJS; createRequire keeps this file valid ESM under NodeNext and tsx.
const require = createRequire(import.meta.url);
const { PNG } = require('pngjs') as { PNG: typeof PngClass };

/** Default JPEG quality. */
export const DEFAULT_JPEG_QUALITY = 85;
/** Default WebP quality (cwebp's default is 75; 80 keeps thumbnails about as sharp as JPEG at 85). */
export const DEFAULT_WEBP_QUALITY = 80;

/** Options shared by everything that decodes. */
export interface DecodeOptions {
  /** Refuse images with more pixels than this (decompression-bomb guard). Default 100 megapixels. */
  maxPixels?: number;
  /** 'auto' (default) turns a JPEG upright by its EXIF Orientation tag; 'keep' returns the pixels as stored. */
  orientation?: OrientationMode;
}

/** Options for encoding. */
export interface EncodeOptions {
  /** Output kind; 'raw' returns the RGBA image itself. */
  format: OutputFormat;
  /** JPEG/WebP quality 1..100 (default 85 for JPEG, 80 for WebP); ignored for PNG and raw. */
  quality?: number;
  /** Refuse images with more pixels than this. Default 100 megapixels. */
  maxPixels?: number;
  /**
   * JPEG only (it has no alpha): transparent pixels are composited onto this colour, itself first
   * composited onto white; default white. PNG and WebP keep their alpha.
   */
  background?: Rgba;
}

/** Rows of each Adam7 pass: [x0, y0, dx, dy]. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Bytes of filtered scanlines a `width` x `height` PNG's IDAT must inflate to: each row is a filter byte and its pixels. */
function filteredSize(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const rows = (w: number, h: number): number => (w > 0 && h > 0 ? h * (Math.ceil((w * bitsPerPixel) / 8) + 1) : 0);
  if (!interlaced) return rows(width, height);
  let size = 0;
  for (const [x0, y0, dx, dy] of ADAM7) size += rows(width > x0 ? Math.ceil((width - x0) / dx) : 0, height > y0 ? Math.ceil((height - y0) / dy) : 0);
  return size;
}

/**
 * The IDAT must inflate to every scanline its header promises, and not far more. pngjs checks neither:
 * an interlaced PNG is inflated with no output limit (a few hundred KB of IDAT could inflate to
 * gigabytes), and its own inflate of a non-interlaced one reads Node's zlib state in the wrong order
 * (availOut for availIn), so a short stream comes back as the whole `height` rows it allocated,
 * uninitialised past the data: a 64x48 PNG relabelled 4096x4096 decoded to a blank 4096x4096 image.
 * Inflating here first costs one more inflate per PNG and allocates only what the data holds.
 */
function checkPngDataSize(width: number, height: number, png: PngLayout): void {
  if (png.bitsPerPixel === undefined) return;
  const expected = filteredSize(width, height, png.bitsPerPixel, png.interlaced);
  let inflated: number;
  try {
    inflated = inflateSync(Buffer.concat(png.idat), { maxOutputLength: expected + 65536 }).length;
  } catch (err) {
    throw corrupt('PNG image data does not inflate to the size its header declares', err);
  }
  if (inflated < expected) throw corrupt(`PNG image data holds ${inflated} bytes of scanlines, but its ${width}x${height} header needs ${expected}`);
}

/**
 * libjpeg's warnings mean the data is damaged: a truncated file ("Premature end of JPEG file"),
 * bad entropy data ("Corrupt JPEG data: ..."), a scan that needed resyncing. The decoder then fills
 * what it could not read with grey; we refuse the image instead (like sharp's default failOn).
 * Only a few warnings describe harmless metadata.
 */
const HARMLESS_JPEG_WARNING = /JFIF|thumbnail|Adobe|ICC|Unknown APP|Ignoring/i;

/** MozJPEG's fatal errors that mean "a JPEG we cannot read" rather than "a damaged JPEG". */
const UNSUPPORTED_JPEG = /Unsupported color conversion|Unsupported JPEG process|Unsupported JPEG data precision|Unsupported marker type|Requested feature was omitted/i;

function decodeJpeg(bytes: Uint8Array, width: number, height: number): { data: Uint8Array; width: number; height: number } {
  let decoded: { result: { data: Uint8Array | Uint8ClampedArray; width: number; height: number } | null; messages: string[] };
  try {
    decoded = jpegDecoder.call((c) => c.decode(bytes, false));
  } catch (err) {
    const messages = codecMessages(err);
    const reason = messages.at(-1);
    if (reason !== undefined && UNSUPPORTED_JPEG.test(reason)) throw unsupported(`JPEG cannot be decoded (${reason}); re-encode it as a baseline or progressive YCbCr/greyscale JPEG, or convert it to PNG.`);
    throw corrupt(`cannot decode jpeg${reason === undefined ? '' : ` (${reason})`}`, err);
  }
  const { result, messages } = decoded;
  if (result === null) throw corrupt('cannot decode jpeg');
  const warning = messages.find((m) => !HARMLESS_JPEG_WARNING.test(m));
  if (warning !== undefined) {
    const short = /Premature end/i.test(warning) ? `the data ends before the ${width}x${height} pixels its header promises` : warning;
    throw corrupt(`jpeg is damaged: ${short}`);
  }
  const data = new Uint8Array(result.data.buffer, result.data.byteOffset, result.data.byteLength);
  return { data, width: result.width, height: result.height };
}

/**
 * Decodes PNG/JPEG bytes to straight RGBA, or validates and passes through a raw image (a fresh
 * descriptor over the same memory). Header sizes are checked against maxPixels before pixel data
 * is touched, and the decoded size must match the header; a JPEG is then turned upright by its
 * EXIF orientation unless `orientation: 'keep'`.
 */
export function decode(input: ImageInput, options: DecodeOptions = {}): RawImage & { data: Uint8Array } {
  const maxPixels = maxPixelsOf(options.maxPixels);
  const orientation = orientationOf(options.orientation);
  const source = imageSource(input);
  if (source.kind === 'raw') return rawImage(source.value, 'image', maxPixels);
  const bytes = source.bytes;
  const header = inspect(bytes, maxPixels);
  let out: { data: Uint8Array; width: number; height: number };
  try {
    if (header.png !== undefined) {
      checkPngDataSize(header.width, header.height, header.png);
      // Buffer.from on the same memory avoids a copy; pngjs wants a Buffer.
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const png = PNG.sync.read(buf);
      out = { data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), width: png.width, height: png.height };
    } else {
      out = decodeJpeg(bytes, header.width, header.height);
    }
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw corrupt(`cannot decode ${header.format}`, err);
  }
  // A codec that disagrees with the header we checked means the file lies about itself.
  if (out.width !== header.width || out.height !== header.height || out.data.length !== out.width * out.height * 4) {
    throw corrupt(`${header.format} decoded to ${out.width}x${out.height} but its header says ${header.width}x${header.height}`);
  }
  if (header.format === 'jpeg' && orientation === 'auto') out = applyOrientation(out, jpegOrientation(bytes));
  return out;
}

/** An output size a decode is for: the resize target's requested sides and fit. */
export interface DecodeTarget {
  /** Requested width, if given. */
  width: number | undefined;
  /** Requested height, if given. */
  height: number | undefined;
  /** How the source maps onto width x height. */
  fit: Fit;
}

/**
 * Source pixels per output pixel on the axis that shrinks least when an upright `width` x `height`
 * source is resized to `target` ('cover' and 'fill' keep detail on that axis; 'contain' scales both
 * axes by the larger factor).
 */
function downscale(width: number, height: number, target: DecodeTarget): number {
  const out = targetSize(width, height, target.width, target.height);
  const fx = width / out.width;
  const fy = height / out.height;
  return target.fit === 'contain' && target.width !== undefined && target.height !== undefined ? Math.max(fx, fy) : Math.min(fx, fy);
}

/**
 * {@link decode}, for resizing to `targets`: a baseline or progressive JPEG that every target
 * shrinks by 2x or more is decoded at 1/2, 1/4 or 1/8 size straight from its DCT coefficients (libjpeg's
 * shrink-on-load through libvips, see vips.ts), leaving the rest of the reduction to the kernel. Returns the
 * upright image and, when it was shrunk, the output size a full-size decode would give for each
 * target (`sizes`), so that shrinking never changes the result's dimensions. Anything libvips cannot
 * shrink decodes at full size (`sizes` undefined).
 */
export async function decodeToFit(
  input: ImageInput,
  options: DecodeOptions & { shrinkOnLoad?: boolean },
  targets: readonly DecodeTarget[],
): Promise<{ image: RawImage & { data: Uint8Array }; sizes: Array<{ width: number; height: number }> | undefined }> {
  const source = imageSource(input);
  if (source.kind === 'encoded' && options.shrinkOnLoad !== false && targets.length > 0) {
    const bytes = source.bytes;
    const header = inspect(bytes, maxPixelsOf(options.maxPixels));
    if (header.format === 'jpeg') {
      const o = orientationOf(options.orientation) === 'auto' ? jpegOrientation(bytes) : 1;
      const [width, height] = orientedSize(o, header.width, header.height);
      const shrink = shrinkFor(Math.min(...targets.map((t) => downscale(width, height, t))));
      // libvips can miss a baseline scan that ends early (see jpeg-scan.ts): only a scan walked to its
      // last block, or a progressive one, is shrunk; the rest decode at full size, where MozJPEG judges them.
      const verdict = shrink > 1 ? scanVerdict(bytes) : 'unknown';
      if (verdict === 'complete' || verdict === 'progressive') {
        const shrunk = await decodeJpegShrunk(bytes, header.width, header.height, shrink);
        if (shrunk !== null) {
          const sizes = targets.map((t) => targetSize(width, height, t.width, t.height));
          return { image: applyOrientation(shrunk, o), sizes };
        }
      }
    }
  }
  return { image: decode(input, options), sizes: undefined };
}

/**
 * Straight RGBA with every pixel composited onto `background` (itself composited onto white): what
 * a JPEG, which has no alpha, should show. Returns the input when it is already opaque.
 */
export function flatten(img: RawImage & { data: Uint8Array }, background: Rgba = [255, 255, 255, 255]): RawImage & { data: Uint8Array } {
  const src = img.data;
  let opaque = true;
  for (let i = 3; i < src.length; i += 4) {
    if (src[i] !== 255) {
      opaque = false;
      break;
    }
  }
  if (opaque) return img;
  const [br, bg, bb, ba] = background;
  // The background over white.
  const r0 = (br * ba + 255 * (255 - ba)) / 255;
  const g0 = (bg * ba + 255 * (255 - ba)) / 255;
  const b0 = (bb * ba + 255 * (255 - ba)) / 255;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i += 4) {
    const a = src[i + 3] ?? 0;
    const k = 255 - a;
    out[i] = Math.round(((src[i] ?? 0) * a + r0 * k) / 255);
    out[i + 1] = Math.round(((src[i + 1] ?? 0) * a + g0 * k) / 255);
    out[i + 2] = Math.round(((src[i + 2] ?? 0) * a + b0 * k) / 255);
    out[i + 3] = 255;
  }
  return { data: out, width: img.width, height: img.height };
}

/** A copy of the codec's output in memory of its own (the codecs hand back views on their heap or a larger buffer). */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/** Encodes straight RGBA to the requested format ('raw' returns a descriptor over the same memory). */
export function encode(image: RawImage, options: EncodeOptions): Uint8Array | (RawImage & { data: Uint8Array }) {
  const format = formatOf(options.format);
  const quality = qualityOf(options.quality);
  const background = options.background === undefined ? undefined : backgroundOf(options.background);
  const img = rawImage(image, 'image', maxPixelsOf(options.maxPixels));
  switch (format) {
    case 'raw':
      return img;
    case 'png': {
      const data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
      const png = PNG.sync.write({ width: img.width, height: img.height, data } as unknown as PngClass, {
        colorType: 6,
      });
      return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
    }
    case 'jpeg': {
      if (img.width > 65535 || img.height > 65535) {
        throw unsupported(`JPEG cannot hold a ${img.width}x${img.height} image (65535 pixels per side at most); encode it as PNG or resize it first.`);
      }
      // JPEG has no alpha channel: flatten onto the background (white by default), never a black edge.
      const flat = flatten(img, background);
      const q = Math.round(quality ?? DEFAULT_JPEG_QUALITY);
      try {
        return own(jpegEncoder.call((c) => c.encode(flat.data, flat.width, flat.height, mozjpegOptions(q))).result);
      } catch (err) {
        throw new ImageError(ErrorCodes.IMAGE_SIZE, `MozJPEG could not encode a ${img.width}x${img.height} image (${codecMessages(err).at(-1) ?? String(err)})`, { cause: err });
      }
    }
    case 'webp': {
      if (img.width > 16383 || img.height > 16383) {
        throw unsupported(`WebP cannot hold a ${img.width}x${img.height} image (16383 pixels per side at most); encode it as PNG or JPEG, or resize it first.`);
      }
      const q = quality ?? DEFAULT_WEBP_QUALITY;
      let out: Uint8Array | null;
      try {
        out = webpEncoder.call((c) => c.encode(img.data, img.width, img.height, webpOptions(q))).result;
      } catch (err) {
        throw new ImageError(ErrorCodes.IMAGE_SIZE, `libwebp could not encode a ${img.width}x${img.height} image (${String(err)})`, { cause: err });
      }
      if (out === null) throw new ImageError(ErrorCodes.IMAGE_SIZE, `libwebp could not encode a ${img.width}x${img.height} image`);
      return own(out);
    }
  }
}
