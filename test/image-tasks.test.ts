import { describe, expect, it } from 'vitest';
import { resize, resizeBand, thumbnails } from '../workers/image.ts';
import { decode, encode } from '../workers/image/codec.ts';
import { ImageError } from '../workers/image/errors.ts';
import { createResizePlan, splitRows } from '../workers/image/plan.ts';
import { resizeImage } from '../workers/image/resample.ts';
import { toShared } from '../workers/image/shared.ts';
import { alphaBlob, gradient, noise, smooth } from './fixtures/images/generate.ts';

const png = encode(alphaBlob(120, 80), { format: 'png' }) as Uint8Array;
const jpeg = encode(smooth(120, 80), { format: 'jpeg' }) as Uint8Array;

describe('resize task', () => {
  it('PNG in, PNG out at the requested size (default fit cover, default png)', async () => {
    const out = await resize({ image: png, width: 30, height: 30 });
    expect([out.format, out.width, out.height]).toEqual(['png', 30, 30]);
    const back = decode(out.data);
    expect([back.width, back.height]).toEqual([30, 30]);
  });

  it('JPEG in, JPEG out with quality; raw out is RGBA bytes', async () => {
    const j = await resize({ image: jpeg, width: 60, format: 'jpeg', quality: 70 });
    expect([j.width, j.height]).toEqual([60, 40]);
    expect(decode(j.data).width).toBe(60);
    const r = await resize({ image: jpeg, height: 20, format: 'raw', filter: 'bilinear' });
    expect([r.width, r.height, r.data.length]).toEqual([30, 20, 30 * 20 * 4]);
  });

  it('raw in matches the kernel called directly', async () => {
    const img = noise(90, 70, 5);
    const out = await resize({ image: img, width: 40, height: 33, fit: 'fill', format: 'raw' });
    const plan = createResizePlan({ srcWidth: 90, srcHeight: 70, width: 40, height: 33, fit: 'fill' });
    expect(Buffer.compare(Buffer.from(out.data), Buffer.from(resizeImage(plan, img.data)))).toBe(0);
  });

  it('throws ImageErrors with stable codes', async () => {
    await expect(resize({ image: new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8]), width: 10 })).rejects.toMatchObject({ code: 'TESSERA_IMAGE_FORMAT' });
    await expect(resize({ image: png, width: 10, maxPixels: 100 })).rejects.toMatchObject({ code: 'TESSERA_IMAGE_TOO_LARGE' });
    await expect(resize({ image: png, width: 0 })).rejects.toMatchObject({ code: 'TESSERA_IMAGE_SIZE' });
    await expect(resize({ image: png, width: 10, fit: 'stretch' as 'fill' })).rejects.toBeInstanceOf(ImageError);
    // Upscale bombs are refused too: the output counts against maxPixels.
    await expect(resize({ image: png, width: 100_000, height: 100_000 })).rejects.toMatchObject({ code: 'TESSERA_IMAGE_TOO_LARGE' });
  });

  it('honours an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(resize({ image: png, width: 10 }, { signal: ac.signal })).rejects.toThrow('stop');
  });
});

describe('thumbnails task', () => {
  it('decodes once and returns each size in order', async () => {
    const out = await thumbnails({
      image: png,
      sizes: [
        { width: 64, height: 64 },
        { width: 32, height: 16, fit: 'fill' },
        { width: 20, height: 20, fit: 'contain' },
      ],
      format: 'raw',
    });
    expect(out.map((o) => [o.width, o.height, o.data.length])).toEqual([
      [64, 64, 64 * 64 * 4],
      [32, 16, 32 * 16 * 4],
      [20, 20, 20 * 20 * 4],
    ]);
    // 'contain' of a 3:2 image into a square leaves transparent letterbox rows.
    expect(out[2]?.data[3]).toBe(0);
  });

  it('rejects a missing sizes array', async () => {
    await expect(thumbnails({ image: png } as never)).rejects.toMatchObject({ code: 'TESSERA_IMAGE_FORMAT' });
  });
});

describe('resizeBand task over SharedArrayBuffers', () => {
  it('bands written by separate calls reproduce the single-pass result', async () => {
    const src = toShared(gradient(300, 200));
    const plan = createResizePlan({ srcWidth: 300, srcHeight: 200, width: 70, height: 70, fit: 'contain', background: [9, 9, 9, 255] });
    const dst = new SharedArrayBuffer(plan.dstWidth * plan.dstHeight * 4);
    const bands = splitRows(plan, 3);
    const done = await Promise.all(
      bands.map(({ start, end }) => resizeBand({ plan: structuredClone(plan), src: src.data.buffer as SharedArrayBuffer, dst, y0: start, y1: end })),
    );
    expect(done).toEqual(bands.map((b) => ({ y0: b.start, y1: b.end })));
    expect(Buffer.compare(Buffer.from(new Uint8Array(dst)), Buffer.from(resizeImage(plan, src.data)))).toBe(0);
  });
});
