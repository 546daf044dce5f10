/**
 * EXIF orientation: a JPEG whose APP1 Exif segment says "display me rotated" decodes upright by
 * default (orientation 'auto'), as stored with 'keep'. Checked for all eight orientations, in both
 * TIFF byte orders, against an independent construction of the stored image and against sharp's
 * auto-orient; then through the tasks (a portrait phone photo gives a portrait thumbnail).
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeShared, resize, thumbnails } from '../workers/image.ts';
import { decode, encode } from '../workers/image/codec.ts';
import { applyOrientation, jpegOrientation, type Orientation } from '../workers/image/exif.ts';
import { ImageError } from '../workers/image/errors.ts';
import type { RawImage } from '../workers/image/types.ts';
import { prng } from './fixtures/images/generate.ts';

type Px = [number, number, number];
const RED: Px = [230, 30, 30];
const GREEN: Px = [30, 200, 40];
const BLUE: Px = [30, 40, 220];
const YELLOW: Px = [240, 230, 30];

/** Upright 48x32 (landscape): four flat quadrants, top-left red, top-right green, bottom-left blue, bottom-right yellow. */
const W = 48;
const H = 32;
function upright(): RawImage & { data: Uint8Array } {
  const data = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const c = y < H / 2 ? (x < W / 2 ? RED : GREEN) : x < W / 2 ? BLUE : YELLOW;
      data.set([...c, 255], (y * W + x) * 4);
    }
  }
  return { data, width: W, height: H };
}

/** Builds an image of size w x h from a pixel-reading function (test-side geometry, independent of exif.ts). */
function build(w: number, h: number, at: (x: number, y: number) => number, src: RawImage): RawImage & { data: Uint8Array } {
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(src.data.subarray(at(x, y) * 4, at(x, y) * 4 + 4), (y * w + x) * 4);
  return { data, width: w, height: h };
}

/**
 * What a camera stores for an upright scene and a given tag: the inverse of the display transform
 * in the EXIF spec (2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 display rotates 90 CW, 7
 * transverse, 8 display rotates 90 CCW).
 */
function stored(o: Orientation, u: RawImage): RawImage & { data: Uint8Array } {
  const { width: w, height: h } = u;
  switch (o) {
    case 1: return build(w, h, (x, y) => y * w + x, u);
    case 2: return build(w, h, (x, y) => y * w + (w - 1 - x), u);
    case 3: return build(w, h, (x, y) => (h - 1 - y) * w + (w - 1 - x), u);
    case 4: return build(w, h, (x, y) => (h - 1 - y) * w + x, u);
    case 5: return build(h, w, (x, y) => x * w + y, u);
    // Stored = upright rotated 90 CCW: stored(x, y) = upright(w-1-y, x).
    case 6: return build(h, w, (x, y) => x * w + (w - 1 - y), u);
    case 7: return build(h, w, (x, y) => (h - 1 - x) * w + (w - 1 - y), u);
    // Stored = upright rotated 90 CW: stored(x, y) = upright(y, h-1-x).
    case 8: return build(h, w, (x, y) => (h - 1 - x) * w + y, u);
  }
}

/** An APP1 Exif segment holding one IFD0 entry: Orientation (0x0112, SHORT) = o. */
function exifSegment(o: number, order: 'MM' | 'II', extraTags = 0): Uint8Array {
  const entries = 1 + extraTags;
  const tiff = new Uint8Array(8 + 2 + entries * 12 + 4);
  const dv = new DataView(tiff.buffer);
  const le = order === 'II';
  tiff[0] = tiff[1] = order.charCodeAt(0);
  dv.setUint16(2, 42, le);
  dv.setUint32(4, 8, le);
  dv.setUint16(8, entries, le);
  // Unrelated tags first (ImageWidth, LONG), so the reader has to walk the IFD.
  for (let k = 0; k < extraTags; k++) {
    const e = 10 + k * 12;
    dv.setUint16(e, 0x0100, le);
    dv.setUint16(e + 2, 4, le);
    dv.setUint32(e + 4, 1, le);
    dv.setUint32(e + 8, 1234, le);
  }
  const e = 10 + extraTags * 12;
  dv.setUint16(e, 0x0112, le);
  dv.setUint16(e + 2, 3, le);
  dv.setUint32(e + 4, 1, le);
  dv.setUint16(e + 8, o, le);
  const payload = new Uint8Array([0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff]);
  const len = payload.length + 2;
  return new Uint8Array([0xff, 0xe1, len >> 8, len & 0xff, ...payload]);
}

/** JPEG bytes with an Exif segment right after SOI. */
function withExif(jpeg: Uint8Array, segment: Uint8Array): Uint8Array {
  return new Uint8Array([...jpeg.subarray(0, 2), ...segment, ...jpeg.subarray(2)]);
}

function jpegOf(img: RawImage): Uint8Array {
  return encode(img, { format: 'jpeg', quality: 95 }) as Uint8Array;
}

/** Mean colour of the w/4 x h/4 block centred in each quadrant: [TL, TR, BL, BR]. */
function quadrants(img: RawImage): Px[] {
  const { width: w, height: h } = img;
  const mean = (cx: number, cy: number): Px => {
    const s = [0, 0, 0];
    let n = 0;
    for (let y = Math.floor(cy - h / 8); y < cy + h / 8; y++) {
      for (let x = Math.floor(cx - w / 8); x < cx + w / 8; x++) {
        for (let c = 0; c < 3; c++) s[c] = (s[c] ?? 0) + (img.data[(y * w + x) * 4 + c] ?? 0);
        n++;
      }
    }
    return s.map((v) => Math.round(v / n)) as Px;
  };
  return [mean(w / 4, h / 4), mean((3 * w) / 4, h / 4), mean(w / 4, (3 * h) / 4), mean((3 * w) / 4, (3 * h) / 4)];
}

function expectQuadrants(img: RawImage, expected: Px[]): void {
  const got = quadrants(img);
  for (let q = 0; q < 4; q++) {
    for (let c = 0; c < 3; c++) expect(Math.abs((got[q]?.[c] ?? 0) - (expected[q]?.[c] ?? 0)), `quadrant ${q} channel ${c}: ${String(got)}`).toBeLessThan(12);
  }
}

const ORIENTATIONS = [1, 2, 3, 4, 5, 6, 7, 8] as const;

describe('EXIF orientation 1-8 on a small JPEG', () => {
  for (const o of ORIENTATIONS) {
    for (const order of ['MM', 'II'] as const) {
      it(`orientation ${o} (${order}): 'auto' decodes upright, 'keep' as stored; same as sharp's auto-orient`, async () => {
        const s = stored(o, upright());
        const bytes = withExif(jpegOf(s), exifSegment(o, order, order === 'II' ? 2 : 0));
        expect(jpegOrientation(bytes)).toBe(o);

        const auto = decode(bytes);
        expect([auto.width, auto.height]).toEqual([W, H]);
        expectQuadrants(auto, [RED, GREEN, BLUE, YELLOW]);

        const keep = decode(bytes, { orientation: 'keep' });
        expect([keep.width, keep.height]).toEqual([s.width, s.height]);
        expectQuadrants(keep, quadrants(s));

        // sharp (libvips) as an independent oracle: its auto-orient gives the same pixels, within JPEG noise.
        const { data, info } = await sharp(bytes).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
        expect([info.width, info.height]).toEqual([W, H]);
        expectQuadrants(auto, quadrants({ data: new Uint8Array(data), width: info.width, height: info.height }));
      });
    }
  }

  it('applyOrientation maps every pixel exactly (distinct pixel values, all eight orientations)', () => {
    const rnd = prng(5);
    const u = { data: Uint8Array.from({ length: 7 * 5 * 4 }, () => (rnd() * 256) | 0), width: 7, height: 5 };
    for (const o of ORIENTATIONS) {
      const back = applyOrientation(stored(o, u), o);
      expect([back.width, back.height]).toEqual([7, 5]);
      expect(Buffer.from(back.data).equals(Buffer.from(u.data)), `orientation ${o}`).toBe(true);
    }
  });

  it('no Exif, a bad tag value, a wrong type or a malformed or truncated segment mean upright (1), never a throw', () => {
    const plain = jpegOf(upright());
    expect(jpegOrientation(plain)).toBe(1);
    for (const bad of [0, 9, 0xffff]) expect(jpegOrientation(withExif(plain, exifSegment(bad, 'MM')))).toBe(1);
    const wrongType = exifSegment(6, 'MM');
    wrongType[4 + 6 + 10 + 3] = 4; // type LONG instead of SHORT
    expect(jpegOrientation(withExif(plain, wrongType))).toBe(1);
    const badOffset = exifSegment(6, 'MM');
    badOffset[4 + 6 + 4] = 0x7f; // IFD offset far past the segment
    expect(jpegOrientation(withExif(plain, badOffset))).toBe(1);
    const full = withExif(plain, exifSegment(6, 'II'));
    for (let n = 0; n < 80; n++) expect([1, 6]).toContain(jpegOrientation(full.subarray(0, n)));
    // A tag past the first scan is not metadata.
    const sos = plain.findIndex((b, i) => b === 0xff && plain[i + 1] === 0xda);
    const late = new Uint8Array([...plain.subarray(0, sos), ...plain.subarray(sos), ...exifSegment(6, 'MM')]);
    expect(jpegOrientation(late)).toBe(1);
    // A PNG or raw input is never rotated.
    const raw = stored(6, upright());
    expect(decode(raw).width).toBe(H);
  });

  it('an unknown orientation option is TESSERA_IMAGE_OPTION', async () => {
    const bytes = jpegOf(upright());
    for (const orientation of ['rotate', 1, null]) {
      let err: unknown;
      try {
        decode(bytes, { orientation: orientation as 'auto' });
      } catch (e) {
        err = e;
      }
      expect((err as ImageError).code).toBe('TESSERA_IMAGE_OPTION');
      await expect(resize({ image: bytes, width: 8, orientation: orientation as 'auto' })).rejects.toMatchObject({ code: 'TESSERA_IMAGE_OPTION' });
    }
  });
});

describe('orientation through the tasks', () => {
  // A "phone photo": stored landscape 48x32, tagged 6 (rotate 90 CW to display), so it is a 32x48 portrait.
  const phone = withExif(jpegOf(upright()), exifSegment(6, 'MM'));

  it('resize: a portrait phone photo gives a portrait thumbnail by default, a landscape one with keep', async () => {
    const auto = await resize({ image: phone, width: 16, format: 'raw' });
    expect([auto.width, auto.height]).toEqual([16, 24]);
    const keep = await resize({ image: phone, width: 16, format: 'raw', orientation: 'keep' });
    expect([keep.width, keep.height]).toEqual([16, 11]);
    const jpeg = await resize({ image: phone, width: 16, height: 24, format: 'jpeg' });
    expect(await sharp(jpeg.data).metadata()).toMatchObject({ width: 16, height: 24 });
  });

  it('thumbnails and decodeShared orient too', async () => {
    const [t] = await thumbnails({ image: phone, sizes: [{ width: 32, height: 48 }], format: 'raw' });
    expect(t).toBeDefined();
    // Rotated 90° clockwise: the stored left column (red over blue) becomes the top row (blue, red).
    expectQuadrants(t as RawImage, [BLUE, RED, YELLOW, GREEN]);
    const shared = decodeShared({ image: phone });
    expect([shared.width, shared.height]).toEqual([H, W]);
    expect(shared.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(decodeShared({ image: phone, orientation: 'keep' }).width).toBe(W);
  });
});
