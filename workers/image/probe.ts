/**
 * Format detection and header-only size probing. Sizes are read from the PNG
 * IHDR / JPEG SOF ourselves so a decompression bomb is refused before any codec
 * allocates width*height*4 bytes.
 */
import { ImageError, corrupt, badSize, tooLarge } from './errors.ts';
import type { EncodedFormat } from './types.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

/** Width and height as declared by an encoded image's header. */
export interface HeaderInfo {
  /** Detected format. */
  format: EncodedFormat;
  /** Declared width in pixels. */
  width: number;
  /** Declared height in pixels. */
  height: number;
}

/** The format of encoded bytes from their magic number, or null when unrecognised. */
export function detectFormat(bytes: Uint8Array): EncodedFormat | null {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

function u16(b: Uint8Array, i: number): number {
  return ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
}

function u32(b: Uint8Array, i: number): number {
  return (((b[i] ?? 0) << 24) | ((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0)) >>> 0;
}

function readPngHeader(b: Uint8Array): { width: number; height: number } {
  // Signature (8) + chunk length (4) + "IHDR" (4) + width (4) + height (4).
  if (b.length < 24) throw corrupt('PNG ends before its IHDR header');
  const isIhdr = b[12] === 0x49 && b[13] === 0x48 && b[14] === 0x44 && b[15] === 0x52;
  if (!isIhdr || u32(b, 8) !== 13) throw corrupt('PNG does not start with a valid IHDR chunk');
  return { width: u32(b, 16), height: u32(b, 20) };
}

// SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function readJpegHeader(b: Uint8Array): { width: number; height: number } {
  let i = 2;
  while (i < b.length) {
    if (b[i] !== 0xff) throw corrupt('JPEG marker stream is broken before the frame header');
    // Any number of 0xFF fill bytes may precede a marker code.
    while (i < b.length && b[i] === 0xff) i++;
    if (i >= b.length) break;
    const marker = b[i] ?? 0;
    i++;
    // Standalone markers have no length field.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9 || marker === 0xda) throw corrupt('JPEG has no frame header before its scan data');
    if (i + 2 > b.length) break;
    const len = u16(b, i);
    if (len < 2) throw corrupt('JPEG segment has an impossible length');
    if (isSof(marker)) {
      if (i + 7 > b.length) break;
      const height = u16(b, i + 3);
      const width = u16(b, i + 5);
      // Height 0 means "defined later by a DNL marker", which no decoder we ship supports.
      if (height === 0 || width === 0) throw corrupt('JPEG frame header declares a zero dimension');
      return { width, height };
    }
    i += len;
  }
  throw corrupt('JPEG ends before its frame header');
}

/**
 * Reads the format and declared size of encoded bytes without decoding pixels,
 * and refuses sizes over `maxPixels`.
 */
export function probe(bytes: Uint8Array, maxPixels: number): HeaderInfo {
  const format = detectFormat(bytes);
  if (format === null) {
    throw new ImageError(
      'TESSERA_IMAGE_FORMAT',
      'unrecognised image format: pass PNG or JPEG bytes, or raw RGBA as { data, width, height }.',
    );
  }
  const { width, height } = format === 'png' ? readPngHeader(bytes) : readJpegHeader(bytes);
  if (width === 0 || height === 0) throw badSize(`${format} header declares a ${width}x${height} image`);
  if (width * height > maxPixels) throw tooLarge(width, height, maxPixels);
  return { format, width, height };
}
