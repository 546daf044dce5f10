/**
 * WebP output (format 'webp', libwebp compiled to wasm): round trip through the same codec's
 * decoder (size and PSNR), alpha kept, quality honoured, readable by sharp, through the tasks.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeImage, resize, thumbnails } from '../workers/image.ts';
import { encode } from '../workers/image/codec.ts';
import { webpDecoder } from '../workers/image/wasm-codecs.ts';
import type { RawImage } from '../workers/image/types.ts';
import { alphaBlob, noise, psnrRgb, smooth } from './fixtures/images/generate.ts';

function decodeWebp(bytes: Uint8Array): RawImage {
  const img = webpDecoder.call((c) => c.decode(bytes)).result;
  if (img === null) throw new Error('libwebp could not decode our output');
  return img;
}

const isWebp = (b: Uint8Array): boolean => Buffer.from(b.subarray(0, 4)).toString('latin1') === 'RIFF' && Buffer.from(b.subarray(8, 12)).toString('latin1') === 'WEBP';

describe('WebP output', () => {
  it('round-trips through libwebp: same size, PSNR over 30 dB at the default quality', () => {
    const img = smooth(96, 64);
    const bytes = encode(img, { format: 'webp' }) as Uint8Array;
    expect(isWebp(bytes)).toBe(true);
    const back = decodeWebp(bytes);
    expect([back.width, back.height, back.data.length]).toEqual([96, 64, 96 * 64 * 4]);
    expect(psnrRgb(back.data, img.data)).toBeGreaterThan(30);
  });

  it('keeps alpha', () => {
    const img = alphaBlob(48, 48);
    const back = decodeWebp(encode(img, { format: 'webp', quality: 90 }) as Uint8Array);
    let maxErr = 0;
    for (let i = 3; i < img.data.length; i += 4) maxErr = Math.max(maxErr, Math.abs((back.data[i] ?? 0) - (img.data[i] ?? 0)));
    // alpha_quality 100: the alpha plane is lossless.
    expect(maxErr).toBe(0);
  });

  it('quality changes the size', () => {
    const img = noise(64, 64);
    const lo = encode(img, { format: 'webp', quality: 10 }) as Uint8Array;
    const hi = encode(img, { format: 'webp', quality: 95 }) as Uint8Array;
    expect(hi.length).toBeGreaterThan(lo.length);
  });

  it('through the tasks, readable by sharp; sizes WebP cannot hold are TESSERA_IMAGE_FORMAT', async () => {
    const png = encode(smooth(120, 80), { format: 'png' }) as Uint8Array;
    const r = await resize({ image: png, width: 60, format: 'webp', quality: 70 });
    expect([r.format, r.width, r.height]).toEqual(['webp', 60, 40]);
    expect(await sharp(r.data).metadata()).toMatchObject({ format: 'webp', width: 60, height: 40 });
    const [t] = await thumbnails({ image: png, sizes: [{ width: 30, height: 30 }], format: 'webp' });
    expect(decodeWebp((t as { data: Uint8Array }).data).width).toBe(30);
    expect(isWebp(encodeImage({ image: smooth(8, 8), format: 'webp' }).data)).toBe(true);
    expect(() => encode({ data: new Uint8Array(20_000 * 4), width: 20_000, height: 1 }, { format: 'webp' })).toThrow(expect.objectContaining({ code: 'TESSERA_IMAGE_FORMAT' }));
  });
});
