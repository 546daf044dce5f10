/**
 * EXIF orientation: read the Orientation tag (0x0112) from a JPEG's APP1 "Exif" segment, and turn
 * decoded pixels upright. Cameras and phones store the sensor's rows as they came and record how
 * to display them; without this a portrait phone photo comes out lying on its side.
 *
 * The reader is small and defensive: every offset is bounds-checked against the segment, anything
 * malformed means "no orientation" (1), and it never looks past the first scan (SOS).
 */

/** EXIF orientations: 1 upright, 2 mirrored, 3 upside down, 4 flipped, 5 transposed, 6 rotate 90° CW to display, 7 transverse, 8 rotate 90° CCW to display. */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** The `orientation` option: 'auto' applies the EXIF tag (default), 'keep' returns pixels as stored. */
export type OrientationMode = 'auto' | 'keep';

const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0, 0] as const; // "Exif\0\0"

/** Orientation from a TIFF structure (what follows "Exif\0\0"), or 1. */
function tiffOrientation(t: Uint8Array): Orientation {
  if (t.length < 8) return 1;
  const le = t[0] === 0x49 && t[1] === 0x49; // "II"
  if (!le && !(t[0] === 0x4d && t[1] === 0x4d)) return 1; // "MM"
  const u16 = (i: number): number => (le ? (t[i] ?? 0) | ((t[i + 1] ?? 0) << 8) : ((t[i] ?? 0) << 8) | (t[i + 1] ?? 0));
  const u32 = (i: number): number => (le ? u16(i) + u16(i + 2) * 65536 : u16(i) * 65536 + u16(i + 2));
  if (u16(2) !== 42) return 1;
  const ifd = u32(4);
  if (ifd < 8 || ifd + 2 > t.length) return 1;
  const count = u16(ifd);
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + k * 12;
    if (e + 12 > t.length) return 1;
    if (u16(e) !== 0x0112) continue;
    // Type SHORT (3), one value, stored left-justified in the value field.
    if (u16(e + 2) !== 3 || u32(e + 4) < 1) return 1;
    const v = u16(e + 8);
    return v >= 1 && v <= 8 ? (v as Orientation) : 1;
  }
  return 1;
}

/** The EXIF orientation of JPEG bytes (1 when there is no APP1 Exif segment or no valid tag). */
export function jpegOrientation(b: Uint8Array): Orientation {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return 1;
    while (i < b.length && b[i] === 0xff) i++;
    const marker = b[i] ?? 0;
    i++;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xda || marker === 0xd9) return 1; // scan data or end: EXIF comes before both
    if (i + 2 > b.length) return 1;
    const len = ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
    if (len < 2 || i + len > b.length) return 1;
    if (marker === 0xe1 && len >= 2 + 6 + 8 && EXIF_HEADER.every((c, k) => b[i + 2 + k] === c)) {
      return tiffOrientation(b.subarray(i + 8, i + len));
    }
    i += len;
  }
  return 1;
}

/** Width and height after applying `o` to a width x height image (5 to 8 swap them). */
export function orientedSize(o: Orientation, width: number, height: number): [number, number] {
  return o >= 5 ? [height, width] : [width, height];
}

/**
 * The upright image for stored pixels with EXIF orientation `o` (a new buffer; `o === 1` returns
 * the input). Straight RGBA, moved a pixel (one 32-bit word) at a time.
 */
export function applyOrientation<T extends { data: Uint8Array; width: number; height: number }>(image: T, o: Orientation): { data: Uint8Array; width: number; height: number } {
  if (o === 1) return image;
  const { width: w, height: h } = image;
  const srcBytes = image.data.byteOffset % 4 === 0 ? image.data : Uint8Array.from(image.data);
  const src = new Uint32Array(srcBytes.buffer, srcBytes.byteOffset, w * h);
  const [dw, dh] = orientedSize(o, w, h);
  const out = new Uint8Array(w * h * 4);
  const dst = new Uint32Array(out.buffer);
  // Source index of output pixel (x, y) is start + x * stepX + y * stepY.
  const last = (h - 1) * w;
  const [start, stepX, stepY] = (
    {
      2: [w - 1, -1, w], // mirror horizontally
      3: [last + w - 1, -1, -w], // rotate 180°
      4: [last, 1, -w], // mirror vertically
      5: [0, w, 1], // transpose
      6: [last, -w, 1], // rotate 90° clockwise
      7: [last + w - 1, -w, -1], // transverse
      8: [w - 1, w, -1], // rotate 90° counter-clockwise
    } as const
  )[o];
  for (let y = 0, o2 = 0; y < dh; y++) {
    let s = start + y * stepY;
    for (let x = 0; x < dw; x++, o2++, s += stepX) dst[o2] = src[s] ?? 0;
  }
  return { data: out, width: dw, height: dh };
}
