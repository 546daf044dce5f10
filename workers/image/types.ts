/** Shared public types of the image kernel. Plain data only, so values can cross worker_threads. */

/** Decoded image: straight (not premultiplied) RGBA, 8 bits per channel, rows top to bottom, no padding. */
export interface RawImage {
  /** width * height * 4 bytes. */
  data: Uint8Array | Uint8ClampedArray;
  /** Pixels per row, a positive integer. */
  width: number;
  /** Number of rows, a positive integer. */
  height: number;
}

/** Encoded bytes (PNG or JPEG, detected by magic bytes) or an already decoded RGBA image. */
export type ImageInput = Uint8Array | RawImage;

/** Output encodings a caller can ask for. */
export type OutputFormat = 'png' | 'jpeg' | 'webp' | 'raw';

/** Encoded formats the kernel can read. */
export type EncodedFormat = 'png' | 'jpeg';

/** Resampling filters: lanczos3 for quality, bilinear (a triangle filter widened when shrinking) for speed. */
export type FilterName = 'lanczos3' | 'bilinear';

/** How the source maps onto the requested box: crop the centre, letterbox, or stretch. */
export type Fit = 'cover' | 'contain' | 'fill';

/** Straight RGBA colour, each channel 0..255. */
export type Rgba = readonly [number, number, number, number];

/** Default decompression-bomb guard: 100 megapixels. */
export const DEFAULT_MAX_PIXELS = 100_000_000;
