/**
 * An encoded image whose header promises more pixels than its data holds is a typed
 * TESSERA_IMAGE_CORRUPT ImageError, never a half-grey image: libjpeg (MozJPEG) would fill the
 * missing rows and only warn, so its warnings are treated as damage. The codec instance that saw
 * the damage is replaced, so the next, valid image on the thread decodes normally.
 */
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/index.ts';
import type * as ImageTasks from '../workers/image.ts';
import { ImageError, ImageErrorCodes, resize } from '../workers/image.ts';
import { decode, encode } from '../workers/image/codec.ts';
import { imageModule } from '../workers/image/partition.ts';
import { withJpegSize, withPngSize } from './fixtures/images/forge.ts';
import { smooth } from './fixtures/images/generate.ts';

const jpeg = encode(smooth(48, 32), { format: 'jpeg', quality: 90 }) as Uint8Array;
const png = encode(smooth(48, 32), { format: 'png' }) as Uint8Array;

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
      const ok = await pool.run('resize', { image: jpeg, width: 24, format: 'jpeg' });
      expect([ok.width, ok.height]).toEqual([24, 16]);
    } finally {
      await pool.close();
    }
  });
});
