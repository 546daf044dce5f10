/**
 * An encoded image whose header promises more pixels than its data holds is a typed
 * TESSERA_IMAGE_CORRUPT ImageError, never a half-grey image: libjpeg (MozJPEG) would fill the
 * missing rows and only warn, so its warnings are treated as damage. The codec instance that saw
 * the damage is replaced, so the next, valid image on the thread decodes normally.
 */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/index.ts';
import type * as ImageTasks from '../workers/image.ts';
import { ImageError, ImageErrorCodes, resize } from '../workers/image.ts';
import { decode, encode } from '../workers/image/codec.ts';
import { imageModule } from '../workers/image/partition.ts';
import { buildPng, ihdr, withJpegSize, withPngSize } from './fixtures/images/forge.ts';
import { smooth } from './fixtures/images/generate.ts';

const jpeg = encode(smooth(48, 32), { format: 'jpeg', quality: 90 }) as Uint8Array;
const png = encode(smooth(48, 32), { format: 'png' }) as Uint8Array;

/** A PNG whose IDAT is `filtered` (filter bytes and pixels, all zero here) deflated. */
function pngOf(width: number, height: number, depth: number, colourType: number, interlace: number, filtered: number): Uint8Array {
  return buildPng([
    { type: 'IHDR', data: ihdr(width, height, depth, colourType, interlace) },
    { type: 'IDAT', data: new Uint8Array(deflateSync(new Uint8Array(filtered))) },
    { type: 'IEND', data: new Uint8Array(0) },
  ]);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ImageError);
    return (err as ImageError).code;
  }
  return 'no error';
}

describe('headers that promise more than the data holds', () => {
  it('a JPEG whose frame header claims more rows or columns than its scan holds is CORRUPT', () => {
    for (const [w, h] of [[48, 64], [96, 32], [480, 320], [48, 33]] as const) {
      const forged = withJpegSize(jpeg, w, h);
      expect(codeOf(() => decode(forged)), `${w}x${h}`).toBe(ImageErrorCodes.CORRUPT);
    }
  });

  it('a truncated JPEG (the scan ends early) is CORRUPT with a message saying so, at every cut through the scan', () => {
    const sos = jpeg.findIndex((b, i) => b === 0xff && jpeg[i + 1] === 0xda);
    for (let n = sos + 20; n < jpeg.length - 2; n += 7) expect(codeOf(() => decode(jpeg.subarray(0, n))), `cut at ${n}`).toBe(ImageErrorCodes.CORRUPT);
    try {
      decode(jpeg.subarray(0, jpeg.length >> 1));
    } catch (err) {
      expect((err as Error).message).toMatch(/48x32 pixels its header promises/);
    }
  });

  it('a PNG whose IHDR claims more than its IDAT inflates to is CORRUPT', () => {
    expect(codeOf(() => decode(withPngSize(png, 48, 64)))).toBe(ImageErrorCodes.CORRUPT);
    expect(codeOf(() => decode(withPngSize(png, 96, 32)))).toBe(ImageErrorCodes.CORRUPT);
  });

  it('a PNG whose IHDR claims many times the pixels its IDAT holds is CORRUPT, not a blank image of the claimed size', () => {
    for (const [w, h] of [[480, 320], [640, 480], [4096, 4096], [10000, 10000]] as const) {
      const forged = withPngSize(png, w, h);
      expect(codeOf(() => decode(forged)), `${w}x${h}`).toBe(ImageErrorCodes.CORRUPT);
      expect(() => decode(forged)).toThrow(/PNG image data holds \d+ bytes of scanlines/);
    }
  });

  it('a PNG one scanline byte short of its header is CORRUPT, interlaced or not, at any bit depth', () => {
    // [width, height, depth, colour type, bytes of filtered scanlines the header needs]
    const layouts = [
      [13, 7, 8, 6, 7 * (13 * 4 + 1)],
      [13, 7, 1, 0, 7 * (2 + 1)],
      [5, 3, 16, 2, 3 * (5 * 6 + 1)],
    ] as const;
    for (const [w, h, depth, colour, size] of layouts) {
      expect(decode(pngOf(w, h, depth, colour, 0, size)).width, `${w}x${h} depth ${depth}`).toBe(w);
      expect(codeOf(() => decode(pngOf(w, h, depth, colour, 0, size - 1))), `${w}x${h} depth ${depth}`).toBe(ImageErrorCodes.CORRUPT);
    }
    // Adam7 13x7 RGBA: passes of 2x1, 2x1, 4x1, 3x2, 7x2, 6x4 and 13x3 pixels, a filter byte per row.
    const interlaced = 1 * 9 + 1 * 9 + 1 * 17 + 2 * 13 + 2 * 29 + 4 * 25 + 3 * 53;
    expect(decode(pngOf(13, 7, 8, 6, 1, interlaced)).height).toBe(7);
    expect(codeOf(() => decode(pngOf(13, 7, 8, 6, 1, interlaced - 1)))).toBe(ImageErrorCodes.CORRUPT);
    expect(codeOf(() => decode(pngOf(1300, 700, 8, 6, 1, interlaced)))).toBe(ImageErrorCodes.CORRUPT);
  });

  it('after a damaged file the codec still decodes valid ones (the instance is renewed)', () => {
    for (let i = 0; i < 20; i++) {
      expect(codeOf(() => decode(withJpegSize(jpeg, 48, 64)))).toBe(ImageErrorCodes.CORRUPT);
      expect(codeOf(() => decode(jpeg.subarray(0, 200)))).toBe(ImageErrorCodes.CORRUPT);
      expect(decode(jpeg).width).toBe(48);
    }
  });

  it('through a task and a pool: the rejection is a CORRUPT ImageError recognisable by code', async () => {
    await expect(resize({ image: withJpegSize(jpeg, 48, 64), width: 10 })).rejects.toMatchObject({ code: 'TESSERA_IMAGE_CORRUPT' });
    const pool = createPool<typeof ImageTasks>({ module: imageModule, minThreads: 1, maxThreads: 1 });
    try {
      await expect(pool.run('resize', { image: withJpegSize(jpeg, 480, 320), width: 10, format: 'jpeg' })).rejects.toMatchObject({ code: ImageErrorCodes.CORRUPT });
      await expect(pool.run('resize', { image: withPngSize(png, 4096, 4096), width: 256, format: 'jpeg' })).rejects.toMatchObject({ code: ImageErrorCodes.CORRUPT });
      const ok = await pool.run('resize', { image: jpeg, width: 24, format: 'jpeg' });
      expect([ok.width, ok.height]).toEqual([24, 16]);
    } finally {
      await pool.close();
    }
  });
});
