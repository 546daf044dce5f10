/**
 * Decode and encode through pure-JS codecs (pngjs, jpeg-js). Every codec
 * exception is rethrown as an ImageError: codecs throw plain Errors, TypeErrors
 * and RangeErrors on bad bytes, and callers must be able to rely on `code`.
 */
import { createRequire } from 'node:module';
import type { PNG as PngClass } from 'pngjs';
import type * as JpegModule from 'jpeg-js';
import { ImageError, badSize, corrupt, tooLarge } from './errors.ts';
import { probe } from './probe.ts';
import { DEFAULT_MAX_PIXELS, type ImageInput, type OutputFormat, type RawImage } from './types.ts';

// Both codecs are CommonJS; createRequire keeps this file valid ESM under NodeNext and tsx.
const require = createRequire(import.meta.url);
const { PNG } = require('pngjs') as { PNG: typeof PngClass };
const jpeg = require('jpeg-js') as typeof JpegModule;

/** Options shared by everything that decodes. */
export interface DecodeOptions {
  /** Refuse images with more pixels than this (decompression-bomb guard). Default 100 megapixels. */
  maxPixels?: number;
}

/** Options for encoding. */
export interface EncodeOptions {
  /** Output kind; 'raw' returns the RGBA image itself. */
  format: OutputFormat;
  /** JPEG quality 1..100 (default 85); ignored for other formats. */
  quality?: number;
}

function isPositiveInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0;
}

/** Throws TESSERA_IMAGE_SIZE unless `img` is a well-formed raw RGBA image. */
export function assertRawImage(img: RawImage, what = 'raw image'): void {
  if (!isPositiveInt(img.width) || !isPositiveInt(img.height)) {
    throw badSize(`${what} has size ${String(img.width)}x${String(img.height)}`);
  }
  if (!(img.data instanceof Uint8Array || img.data instanceof Uint8ClampedArray)) {
    throw badSize(`${what} data must be a Uint8Array or Uint8ClampedArray`);
  }
  if (img.data.length !== img.width * img.height * 4) {
    throw badSize(`${what} is ${img.width}x${img.height} but holds ${img.data.length} bytes, not ${img.width * img.height * 4}`);
  }
}

/** Resolves the maxPixels option, rejecting nonsense values early. */
export function resolveMaxPixels(maxPixels: number | undefined): number {
  if (maxPixels === undefined) return DEFAULT_MAX_PIXELS;
  if (!isPositiveInt(maxPixels)) throw badSize(`maxPixels must be a positive integer, got ${String(maxPixels)}`);
  return maxPixels;
}

function isRaw(input: ImageInput): input is RawImage {
  return !(input instanceof Uint8Array) && typeof input === 'object' && input !== null && 'data' in input;
}

/**
 * Decodes PNG/JPEG bytes to straight RGBA, or validates and passes through a raw
 * image. Header sizes are checked against maxPixels before pixel data is touched.
 */
export function decode(input: ImageInput, options: DecodeOptions = {}): RawImage {
  const maxPixels = resolveMaxPixels(options.maxPixels);
  if (isRaw(input)) {
    assertRawImage(input);
    if (input.width * input.height > maxPixels) throw tooLarge(input.width, input.height, maxPixels);
    return input;
  }
  if (!(input instanceof Uint8Array)) {
    throw new ImageError(
      'TESSERA_IMAGE_FORMAT',
      'image input must be encoded bytes (Uint8Array/Buffer) or raw RGBA as { data, width, height }.',
    );
  }
  const header = probe(input, maxPixels);
  let out: RawImage;
  try {
    if (header.format === 'png') {
      // Buffer.from on the same memory avoids a copy; pngjs wants a Buffer.
      const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
      const png = PNG.sync.read(buf);
      out = { data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), width: png.width, height: png.height };
    } else {
      const decoded = jpeg.decode(input, {
        useTArray: true,
        formatAsRGBA: true,
        // Strict: a truncated upload should be reported, not silently half-grey.
        tolerantDecoding: false,
        maxResolutionInMP: Math.max(1, Math.ceil(maxPixels / 1e6)),
        maxMemoryUsageInMB: Math.max(512, Math.ceil((maxPixels * 12) / (1024 * 1024))),
      });
      out = { data: decoded.data, width: decoded.width, height: decoded.height };
    }
  } catch (err) {
    throw corrupt(`cannot decode ${header.format}`, err);
  }
  // A codec that disagrees with the header we checked means the file lies about itself.
  if (out.width !== header.width || out.height !== header.height || out.data.length !== out.width * out.height * 4) {
    throw corrupt(`${header.format} decoded to ${out.width}x${out.height} but its header says ${header.width}x${header.height}`);
  }
  return out;
}

/** Encodes straight RGBA to the requested format ('raw' returns the image unchanged). */
export function encode(image: RawImage, options: EncodeOptions): Uint8Array | RawImage {
  assertRawImage(image);
  switch (options.format) {
    case 'raw':
      return image;
    case 'png': {
      const data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
      const png = PNG.sync.write({ width: image.width, height: image.height, data } as unknown as PngClass, {
        colorType: 6,
      });
      return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
    }
    case 'jpeg': {
      const quality = options.quality ?? 85;
      if (!Number.isFinite(quality) || quality < 1 || quality > 100) {
        throw new ImageError('TESSERA_IMAGE_FORMAT', `jpeg quality must be 1..100, got ${String(quality)}; pass an integer in range.`);
      }
      // JPEG has no alpha channel: jpeg-js drops it, so transparent pixels show their stored colour.
      const out = jpeg.encode({ data: image.data, width: image.width, height: image.height }, Math.round(quality));
      return new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
    }
    default:
      throw new ImageError(
        'TESSERA_IMAGE_FORMAT',
        `unknown output format ${String(options.format)}: use 'png', 'jpeg' or 'raw'.`,
      );
  }
}
