/**
 * JPEG has no alpha channel. JPEG output of an image with alpha is flattened onto `background`
 * (composited onto white first; default white), so transparent areas come out white, never black,
 * and half-transparent edges blend into the background instead of darkening.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeImage, resize } from '../workers/image.ts';
import { decode, encode, flatten } from '../workers/image/codec.ts';
import type { RawImage } from '../workers/image/types.ts';
import { alphaBlob, gradient, transparentEdge } from './fixtures/images/generate.ts';

/** Mean RGB over the pixels whose source alpha satisfies `pick`. */
function meanWhere(img: RawImage, src: RawImage, pick: (a: number) => boolean): number[] {
  const s = [0, 0, 0];
  let n = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    if (!pick(src.data[i + 3] ?? 0)) continue;
    for (let c = 0; c < 3; c++) s[c] = (s[c] ?? 0) + (img.data[i + c] ?? 0);
    n++;
  }
  return s.map((v) => v / n);
}

describe('JPEG output of an image with alpha is flattened onto the background', () => {
  it('fully transparent pixels come out white by default (their stored red or black is never shown)', () => {
    // Left half transparent red (the classic trap: dropping alpha shows red), right half opaque green.
    const edge = transparentEdge(32, 16);
    const out = decode(encode(edge, { format: 'jpeg', quality: 95 }) as Uint8Array);
    const left = meanWhere(out, edge, (a) => a === 0);
    for (const c of left) expect(c).toBeGreaterThan(245);
    // Transparent black (what an empty canvas holds) too.
    const black = { data: new Uint8Array(16 * 16 * 4), width: 16, height: 16 };
    const bOut = decode(encode(black, { format: 'jpeg' }) as Uint8Array);
    for (const c of meanWhere(bOut, black, () => true)) expect(c).toBeGreaterThan(245);
  });

  it('a half-transparent edge blends with the background: alpha a over white is c*a + 255*(1-a)', () => {
    const blob = alphaBlob(40, 40);
    const flat = flatten({ data: blob.data as Uint8Array, width: 40, height: 40 });
    for (let i = 0; i < flat.data.length; i += 4) {
      const a = (blob.data[i + 3] ?? 0) / 255;
      for (let c = 0; c < 3; c++) expect(Math.abs((flat.data[i + c] ?? 0) - ((blob.data[i + c] ?? 0) * a + 255 * (1 - a)))).toBeLessThanOrEqual(0.5 + 1e-9);
      expect(flat.data[i + 3]).toBe(255);
    }
    // The encoded JPEG shows the same, within JPEG noise; never darker than the flattened image by much.
    const out = decode(encode(blob, { format: 'jpeg', quality: 95 }) as Uint8Array);
    const want = meanWhere(flat, blob, (a) => a < 128);
    const got = meanWhere(out, blob, (a) => a < 128);
    for (let c = 0; c < 3; c++) expect(Math.abs((got[c] ?? 0) - (want[c] ?? 0))).toBeLessThan(4);
  });

  it('background picks the colour; its own alpha composites it onto white first', () => {
    const edge = transparentEdge(32, 16);
    const blue = decode(encode(edge, { format: 'jpeg', quality: 95, background: [0, 0, 255, 255] }) as Uint8Array);
    const [r, g, b] = meanWhere(blue, edge, (a) => a === 0);
    expect([r! < 10, g! < 10, b! > 245]).toEqual([true, true, true]);
    const halfBlack = flatten({ data: edge.data as Uint8Array, width: 32, height: 16 }, [0, 0, 0, 128]);
    expect(Array.from(halfBlack.data.subarray(0, 4))).toEqual([127, 127, 127, 255]);
  });

  it('opaque images are encoded as they are (no copy), and PNG/WebP keep their alpha', async () => {
    const opaque = gradient(8, 8) as RawImage & { data: Uint8Array };
    expect(flatten(opaque)).toBe(opaque);
    const edge = transparentEdge(32, 16);
    const png = decode(encode(edge, { format: 'png' }) as Uint8Array);
    expect(png.data[3]).toBe(0);
    const webp = await sharp(encode(edge, { format: 'webp' }) as Uint8Array).metadata();
    expect(webp.hasAlpha).toBe(true);
  });

  it('through the tasks: fit contain letterboxes white in JPEG by default, and background colours both', async () => {
    const edge = transparentEdge(32, 16);
    const png = encode(edge, { format: 'png' }) as Uint8Array;
    const r = await resize({ image: png, width: 32, height: 32, fit: 'contain', format: 'jpeg', quality: 95 });
    const d = decode(r.data);
    // Top letterbox row (transparent by default) is white, not black.
    for (let x = 0; x < 32; x++) expect(d.data[x * 4]).toBeGreaterThan(240);
    const red = await resize({ image: png, width: 32, height: 32, fit: 'contain', format: 'jpeg', background: [255, 0, 0, 255] });
    const dr = decode(red.data);
    expect([dr.data[0]! > 230, dr.data[1]! < 30, dr.data[2]! < 30]).toEqual([true, true, true]);
    const e = encodeImage({ image: edge, format: 'jpeg', background: [0, 0, 0, 255] });
    const de = decode(e.data);
    expect(de.data[0]).toBeLessThan(15);
    await expect(Promise.resolve().then(() => encodeImage({ image: edge, format: 'jpeg', background: 'white' as never }))).rejects.toMatchObject({ code: 'TESSERA_IMAGE_OPTION' });
  });
});
