/**
 * Decode and encode through pure-JS codecs (pngjs, jpeg-js). Every codec
 * exception is rethrown as an ImageError: codecs throw plain Errors, TypeErrors
 * and RangeErrors on bad bytes, and callers must be able to rely on `code`.
 */
import { createRequire } from 'node:module';
import { inflateSync } from 'node:zlib';
import type { PNG as PngClass } from 'pngjs';
import type * as JpegModule from 'jpeg-js';
import { ImageError, corrupt, unsupported } from './errors.ts';
import { formatOf, imageSource, maxPixelsOf, qualityOf, rawImage } from './input.ts';
import { inspect, type PngLayout } from './probe.ts';
import type { ImageInput, OutputFormat, RawImage } from './types.ts';

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
  /** Refuse images with more pixels than this. Default 100 megapixels. */
  maxPixels?: number;
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

/**
 * An interlaced PNG is inflated by pngjs with no output limit, so a few hundred KB of IDAT could
 * inflate to gigabytes. Inflate it once here, capped at what the header's size allows (plus slack).
 */
function checkInterlacedSize(width: number, height: number, png: PngLayout): void {
  if (!png.interlaced || png.bitsPerPixel === undefined) return;
  let expected = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const w = width > x0 ? Math.ceil((width - x0) / dx) : 0;
    const h = height > y0 ? Math.ceil((height - y0) / dy) : 0;
    if (w > 0 && h > 0) expected += h * (Math.ceil((w * png.bitsPerPixel) / 8) + 1);
  }
  try {
    inflateSync(Buffer.concat(png.idat), { maxOutputLength: expected + 65536 });
  } catch (err) {
    throw corrupt('PNG image data does not inflate to the size its header declares', err);
  }
}

/**
 * Decodes PNG/JPEG bytes to straight RGBA, or validates and passes through a raw image (a fresh
 * descriptor over the same memory). Header sizes are checked against maxPixels before pixel data
 * is touched, and the decoded size must match the header.
 */
export function decode(input: ImageInput, options: DecodeOptions = {}): RawImage & { data: Uint8Array } {
  const maxPixels = maxPixelsOf(options.maxPixels);
  const source = imageSource(input);
  if (source.kind === 'raw') return rawImage(source.value, 'image', maxPixels);
  const bytes = source.bytes;
  const header = inspect(bytes, maxPixels);
  let out: { data: Uint8Array; width: number; height: number };
  try {
    if (header.png !== undefined) {
      checkInterlacedSize(header.width, header.height, header.png);
      // Buffer.from on the same memory avoids a copy; pngjs wants a Buffer.
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const png = PNG.sync.read(buf);
      out = { data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), width: png.width, height: png.height };
    } else {
      const decoded = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        // Strict: a truncated upload should be reported, not silently half-grey.
        tolerantDecoding: false,
        // No frame larger than the header we checked (half a pixel of slack for float rounding).
        maxResolutionInMP: (header.width * header.height + 0.5) / 1e6,
        maxMemoryUsageInMB: Math.max(512, Math.ceil((maxPixels * 12) / (1024 * 1024))),
      });
      out = { data: decoded.data, width: decoded.width, height: decoded.height };
    }
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw corrupt(`cannot decode ${header.format}`, err);
  }
  // A codec that disagrees with the header we checked means the file lies about itself.
  if (out.width !== header.width || out.height !== header.height || out.data.length !== out.width * out.height * 4) {
    throw corrupt(`${header.format} decoded to ${out.width}x${out.height} but its header says ${header.width}x${header.height}`);
  }
  return out;
}

/** Encodes straight RGBA to the requested format ('raw' returns a descriptor over the same memory). */
export function encode(image: RawImage, options: EncodeOptions): Uint8Array | (RawImage & { data: Uint8Array }) {
  const format = formatOf(options.format);
  const quality = qualityOf(options.quality) ?? 85;
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
      // JPEG has no alpha channel: jpeg-js drops it, so transparent pixels show their stored colour.
      const out = jpeg.encode({ data: img.data, width: img.width, height: img.height }, Math.round(quality));
      return new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
    }
  }
}
