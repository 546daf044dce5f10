/**
 * Format detection and header-only probing. Sizes are read from the PNG IHDR / JPEG SOF ourselves
 * so a decompression bomb is refused before any codec allocates width*height*4 bytes, and the PNG
 * chunk list is walked (chunk headers only) so a file cannot show us one size and the codec another.
 */
import { corrupt, unsupported, tooLarge } from './errors.ts';
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

/** What the codec step needs to know about a PNG beyond its size. */
export interface PngLayout {
  /** Bits per pixel (channels x bit depth), or undefined for a colour type / depth PNG does not define. */
  bitsPerPixel: number | undefined;
  /** Adam7 interlacing. */
  interlaced: boolean;
  /** The IDAT chunks' data, in order (views on the input, not copies). */
  idat: Uint8Array[];
}

/** A probed header, with the PNG layout for PNGs. */
export interface Inspected extends HeaderInfo {
  /** Set for PNGs. */
  png?: PngLayout;
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

/** PNG's limit on chunk lengths and dimensions. */
const PNG_MAX = 0x7fffffff;

/** Channels per colour type, and the bit depths each allows (PNG spec, table 11.1). */
const PNG_COLOUR: Record<number, { channels: number; depths: readonly number[] }> = {
  0: { channels: 1, depths: [1, 2, 4, 8, 16] },
  2: { channels: 3, depths: [8, 16] },
  3: { channels: 1, depths: [1, 2, 4, 8] },
  4: { channels: 2, depths: [8, 16] },
  6: { channels: 4, depths: [8, 16] },
};

function chunkType(b: Uint8Array, i: number): string {
  return String.fromCharCode(b[i] ?? 0, b[i + 1] ?? 0, b[i + 2] ?? 0, b[i + 3] ?? 0);
}

/**
 * Reads IHDR and walks the chunk list to IEND: one IHDR, every chunk inside the file. A second
 * IHDR would make the codec decode (and allocate for) a size we never checked.
 */
function readPng(b: Uint8Array): { width: number; height: number; png: PngLayout } {
  // Signature (8) + chunk length (4) + "IHDR" (4) + 13 bytes of IHDR data + CRC (4).
  if (b.length < 33) throw corrupt('PNG ends before the end of its IHDR header');
  if (chunkType(b, 12) !== 'IHDR' || u32(b, 8) !== 13) throw corrupt('PNG does not start with a valid IHDR chunk');
  const width = u32(b, 16);
  const height = u32(b, 20);
  if (width === 0 || height === 0 || width > PNG_MAX || height > PNG_MAX) {
    throw corrupt(`PNG header declares a ${width}x${height} image, which PNG does not allow`);
  }
  const depth = b[24] ?? 0;
  const colour = PNG_COLOUR[b[25] ?? 0xff];
  const bitsPerPixel = colour !== undefined && colour.depths.includes(depth) ? colour.channels * depth : undefined;
  const idat: Uint8Array[] = [];
  let i = 33;
  for (;;) {
    if (i + 8 > b.length) throw corrupt('PNG ends before its IEND chunk');
    const length = u32(b, i);
    const type = chunkType(b, i + 4);
    if (length > PNG_MAX) throw corrupt(`PNG ${type} chunk declares an impossible length`);
    const end = i + 12 + length;
    if (end > b.length) throw corrupt(`PNG ends inside its ${type} chunk`);
    if (type === 'IHDR') throw corrupt('PNG has a second IHDR chunk');
    if (type === 'IDAT') idat.push(b.subarray(i + 8, i + 8 + length));
    if (type === 'IEND') break;
    i = end;
  }
  if (idat.length === 0) throw corrupt('PNG has no image data (IDAT)');
  return { width, height, png: { bitsPerPixel, interlaced: b[28] === 1, idat } };
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
      // Baseline (C0), extended (C1) and progressive (C2) Huffman: what every decoder reads. Lossless,
      // hierarchical and arithmetic-coded JPEGs are rare and refused here, before any decoding.
      if (marker > 0xc2) {
        throw unsupported(
          `JPEG uses a coding process (SOF${marker - 0xc0}: lossless, hierarchical or arithmetic) the decoder cannot read; ` +
            're-encode it as a baseline or progressive JPEG, or convert it to PNG.',
        );
      }
      // The decoder is an 8-bit build that outputs RGBA: libjpeg refuses 12-bit samples, and has no
      // conversion from 4 components (CMYK, or YCCK as Adobe writes it) to RGB. Both are print or
      // medical files, rare in uploads; they are refused here by what they are, not by libjpeg's wording.
      const precision = b[i + 2] ?? 0;
      if (precision === 12) {
        throw unsupported('JPEG has 12-bit samples, which the decoder cannot read (8-bit only); convert it to an 8-bit RGB JPEG or to PNG.');
      }
      if (precision !== 8) throw corrupt(`JPEG frame header declares ${precision}-bit samples, which a DCT JPEG cannot have`);
      if (i + 8 <= b.length && b[i + 7] === 4) {
        throw unsupported('JPEG is CMYK or YCCK (4 colour components, as print workflows write), which the decoder cannot convert to RGB; convert it to an 8-bit RGB JPEG or to PNG.');
      }
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
 * The format, declared size and (for PNG) layout of encoded bytes, without decoding pixels; refuses
 * sizes over `maxPixels`. Work is O(number of chunks or segments), not O(pixels).
 */
export function inspect(bytes: Uint8Array, maxPixels: number): Inspected {
  const format = detectFormat(bytes);
  if (format === null) {
    throw unsupported('unrecognised image format: pass PNG or JPEG bytes, or raw RGBA as { data, width, height }.');
  }
  if (format === 'png') {
    // The size guard goes first, before the chunk walk: it needs only IHDR.
    if (bytes.length >= 24 && chunkType(bytes, 12) === 'IHDR') {
      const width = u32(bytes, 16);
      const height = u32(bytes, 20);
      if (width * height > maxPixels) throw tooLarge(width, height, maxPixels);
    }
    const { width, height, png } = readPng(bytes);
    return { format, width, height, png };
  }
  const { width, height } = readJpegHeader(bytes);
  if (width * height > maxPixels) throw tooLarge(width, height, maxPixels);
  return { format, width, height };
}

/**
 * Reads the format and declared size of encoded bytes without decoding pixels,
 * and refuses sizes over `maxPixels`.
 */
export function probe(bytes: Uint8Array, maxPixels: number): HeaderInfo {
  const { format, width, height } = inspect(bytes, maxPixels);
  return { format, width, height };
}
