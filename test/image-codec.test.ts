import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { decode, encode } from '../workers/image/codec.ts';
import { ImageError, isImageError } from '../workers/image/errors.ts';
import { detectFormat, probe } from '../workers/image/probe.ts';
import type { RawImage } from '../workers/image/types.ts';
import { alphaBlob, gradient, noise, prng, psnrRgb, smooth } from './fixtures/images/generate.ts';

function asBytes(out: Uint8Array | RawImage): Uint8Array {
  if (!(out instanceof Uint8Array)) throw new Error('expected encoded bytes');
  return out;
}

async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ImageError);
    return (err as ImageError).code;
  }
  return 'no error';
}

const pngBytes = asBytes(encode(alphaBlob(48, 32), { format: 'png' }));
const jpegBytes = asBytes(encode(smooth(48, 32), { format: 'jpeg', quality: 90 }));

describe('decode / encode', () => {
  it('PNG round-trips RGBA exactly, including alpha', () => {
    const img = alphaBlob(48, 32);
    expect(detectFormat(pngBytes)).toBe('png');
    const back = decode(pngBytes);
    expect([back.width, back.height]).toEqual([48, 32]);
    expect(Buffer.compare(Buffer.from(back.data), Buffer.from(img.data))).toBe(0);
  });

  it('JPEG round-trips with high fidelity and is opaque', () => {
    const img = smooth(48, 32);
    expect(detectFormat(jpegBytes)).toBe('jpeg');
    const back = decode(jpegBytes);
    expect([back.width, back.height]).toEqual([48, 32]);
    expect(psnrRgb(back.data, img.data)).toBeGreaterThan(30);
    for (let i = 3; i < back.data.length; i += 4) expect(back.data[i]).toBe(255);
  });

  it('JPEG quality changes the size', () => {
    const img = noise(64, 64);
    const lo = asBytes(encode(img, { format: 'jpeg', quality: 20 }));
    const hi = asBytes(encode(img, { format: 'jpeg', quality: 95 }));
    expect(hi.length).toBeGreaterThan(lo.length);
  });

  it('our encodings are readable by sharp, and sharp encodings by us', async () => {
    const meta = await sharp(pngBytes).metadata();
    expect([meta.format, meta.width, meta.height, meta.hasAlpha]).toEqual(['png', 48, 32, true]);
    expect((await sharp(jpegBytes).metadata()).format).toBe('jpeg');
    const img = gradient(40, 30);
    const raw = { raw: { width: 40, height: 30, channels: 4 as const } };
    const sPng = new Uint8Array(await sharp(img.data, raw).png().toBuffer());
    expect(Buffer.compare(Buffer.from(decode(sPng).data), Buffer.from(img.data))).toBe(0);
    const sJpeg = new Uint8Array(await sharp(img.data, raw).jpeg({ quality: 95 }).toBuffer());
    expect(psnrRgb(decode(sJpeg).data, img.data)).toBeGreaterThan(35);
    // Progressive JPEG too.
    const prog = new Uint8Array(await sharp(img.data, raw).jpeg({ progressive: true }).toBuffer());
    expect(decode(prog).width).toBe(40);
  });

  it('normalises PNG variants (palette, 16-bit, grey, interlaced, no alpha) to 8-bit RGBA', async () => {
    const img = gradient(40, 30);
    const raw = { raw: { width: 40, height: 30, channels: 4 as const } };
    const s = () => sharp(img.data, raw);
    const variants: Array<[string, Buffer, number]> = [
      ['palette', await s().png({ palette: true }).toBuffer(), 30],
      ['16-bit', await s().toColourspace('rgb16').png().toBuffer(), 45],
      ['interlaced', await s().png({ progressive: true }).toBuffer(), Infinity],
      ['no alpha', await s().removeAlpha().png().toBuffer(), Infinity],
    ];
    for (const [, bytes, minPsnr] of variants) {
      const d = decode(new Uint8Array(bytes));
      expect([d.width, d.height, d.data.length]).toEqual([40, 30, 4800]);
      expect(psnrRgb(d.data, img.data)).toBeGreaterThanOrEqual(minPsnr);
      expect(d.data[3]).toBe(255);
    }
    const grey = decode(new Uint8Array(await s().greyscale().png().toBuffer()));
    for (let i = 0; i < grey.data.length; i += 4) expect(grey.data[i]).toBe(grey.data[i + 1]);
  });

  it('raw input passes through validated, over the same memory; raw output is the image', () => {
    const img = gradient(5, 4);
    const back = decode(img);
    expect([back.width, back.height]).toEqual([5, 4]);
    expect(back.data.buffer).toBe(img.data.buffer);
    expect(decode({ data: new Uint8ClampedArray(80), width: 5, height: 4 }).width).toBe(5);
    const raw = encode(img, { format: 'raw' }) as RawImage;
    expect(raw.data.buffer).toBe(img.data.buffer);
    // A view with an offset is read where it points, not from the start of its buffer.
    const backing = new Uint8Array(8 + 80);
    backing.set(img.data, 8);
    const offset = decode({ data: backing.subarray(8), width: 5, height: 4 });
    expect([offset.data.byteOffset, offset.data.length]).toEqual([8, 80]);
    expect(Buffer.from(offset.data).equals(Buffer.from(img.data))).toBe(true);
  });

  it('probe reads sizes from PNG IHDR and JPEG SOF without decoding', () => {
    expect(probe(pngBytes, 1e8)).toEqual({ format: 'png', width: 48, height: 32 });
    expect(probe(jpegBytes, 1e8)).toEqual({ format: 'jpeg', width: 48, height: 32 });
  });
});

describe('errors', () => {
  it('TESSERA_IMAGE_FORMAT for bytes in a format we cannot read or write', async () => {
    expect(await codeOf(() => decode(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])))).toBe('TESSERA_IMAGE_FORMAT');
    expect(await codeOf(() => decode(new TextEncoder().encode('GIF89a.....')))).toBe('TESSERA_IMAGE_FORMAT');
    expect(await codeOf(() => decode(new Uint8Array(0)))).toBe('TESSERA_IMAGE_FORMAT');
    // A lossless (SOF3) JPEG: a real JPEG, in a coding process refused from the header (MozJPEG is built without it).
    const lossless = Uint8Array.from(jpegBytes);
    const sof = lossless.findIndex((b, i) => b === 0xff && lossless[i + 1] === 0xc0);
    lossless[sof + 1] = 0xc3;
    expect(await codeOf(() => decode(lossless))).toBe('TESSERA_IMAGE_FORMAT');
    // JPEG holds at most 65535 pixels a side.
    expect(await codeOf(() => encode({ data: new Uint8Array(70_000 * 4), width: 70_000, height: 1 }, { format: 'jpeg' }))).toBe('TESSERA_IMAGE_FORMAT');
  });

  it('TESSERA_IMAGE_OPTION for wrongly typed inputs and unknown or out-of-range options', async () => {
    expect(await codeOf(() => decode('hello' as unknown as Uint8Array))).toBe('TESSERA_IMAGE_OPTION');
    expect(await codeOf(() => decode(null as unknown as Uint8Array))).toBe('TESSERA_IMAGE_OPTION');
    expect(await codeOf(() => decode(new Uint16Array(8) as unknown as Uint8Array))).toBe('TESSERA_IMAGE_OPTION');
    expect(await codeOf(() => decode({ data: [0, 0, 0, 0], width: 1, height: 1 } as unknown as RawImage))).toBe('TESSERA_IMAGE_OPTION');
    expect(await codeOf(() => decode({ data: new Uint8Array(4), width: '1', height: 1 } as unknown as RawImage))).toBe('TESSERA_IMAGE_OPTION');
    expect(await codeOf(() => encode(gradient(2, 2), { format: 'gif' as 'png' }))).toBe('TESSERA_IMAGE_OPTION');
    expect(await codeOf(() => encode(gradient(2, 2), { format: 'jpeg', quality: 0 }))).toBe('TESSERA_IMAGE_OPTION');
    expect(await codeOf(() => encode(gradient(2, 2), { format: 'jpeg', quality: '90' as unknown as number }))).toBe('TESSERA_IMAGE_OPTION');
    for (const maxPixels of [0, -1, NaN, Infinity, 1.5, '100' as unknown as number, null as unknown as number]) {
      expect(await codeOf(() => decode(pngBytes, { maxPixels }))).toBe('TESSERA_IMAGE_OPTION');
      expect(await codeOf(() => decode(gradient(2, 2), { maxPixels }))).toBe('TESSERA_IMAGE_OPTION');
      expect(await codeOf(() => encode(gradient(2, 2), { format: 'png', maxPixels }))).toBe('TESSERA_IMAGE_OPTION');
    }
  });

  it('TESSERA_IMAGE_SIZE for bad raw sizes and lengths', async () => {
    const cases: RawImage[] = [
      { data: new Uint8Array(0), width: 0, height: 0 },
      { data: new Uint8Array(16), width: -2, height: -2 },
      { data: new Uint8Array(16), width: 2.5, height: 2 },
      { data: new Uint8Array(15), width: 2, height: 2 },
      { data: new Uint8Array(17), width: 2, height: 2 },
      { data: new Uint8Array(16).subarray(4), width: 2, height: 2 },
    ];
    for (const c of cases) expect(await codeOf(() => decode(c))).toBe('TESSERA_IMAGE_SIZE');
  });

  it('TESSERA_IMAGE_CORRUPT for truncated and damaged files', async () => {
    expect(await codeOf(() => decode(pngBytes.subarray(0, pngBytes.length >> 1)))).toBe('TESSERA_IMAGE_CORRUPT');
    expect(await codeOf(() => decode(pngBytes.subarray(0, 20)))).toBe('TESSERA_IMAGE_CORRUPT');
    expect(await codeOf(() => decode(jpegBytes.subarray(0, 10)))).toBe('TESSERA_IMAGE_CORRUPT');
    const flipped = Uint8Array.from(pngBytes);
    flipped[60] = (flipped[60] ?? 0) ^ 0xff; // inside IDAT: the CRC no longer matches
    expect(await codeOf(() => decode(flipped))).toBe('TESSERA_IMAGE_CORRUPT');
  });

  it('TESSERA_IMAGE_TOO_LARGE from the header, before decoding pixels', async () => {
    expect(await codeOf(() => decode(pngBytes, { maxPixels: 48 * 32 - 1 }))).toBe('TESSERA_IMAGE_TOO_LARGE');
    expect(await codeOf(() => decode(jpegBytes, { maxPixels: 100 }))).toBe('TESSERA_IMAGE_TOO_LARGE');
    expect(await codeOf(() => decode(gradient(20, 20), { maxPixels: 399 }))).toBe('TESSERA_IMAGE_TOO_LARGE');
    // A forged 100000x100000 header followed by no pixel data: refused by the header check, not by an OOM.
    const bomb = Uint8Array.from(pngBytes.subarray(0, 33));
    new DataView(bomb.buffer).setUint32(16, 100_000);
    new DataView(bomb.buffer).setUint32(20, 100_000);
    expect(await codeOf(() => decode(bomb))).toBe('TESSERA_IMAGE_TOO_LARGE');
    const jbomb = Uint8Array.from(jpegBytes);
    const sof = jbomb.findIndex((b, i) => b === 0xff && jbomb[i + 1] === 0xc0);
    expect(sof).toBeGreaterThan(0);
    new DataView(jbomb.buffer).setUint16(sof + 5, 60_000);
    new DataView(jbomb.buffer).setUint16(sof + 7, 60_000);
    expect(await codeOf(() => decode(jbomb))).toBe('TESSERA_IMAGE_TOO_LARGE');
  });

  it('messages say what to do, and errors are recognisable after cloning', () => {
    try {
      decode(pngBytes, { maxPixels: 10 });
    } catch (err) {
      expect((err as Error).message).toMatch(/maxPixels/);
      const cloned = structuredClone({ code: (err as ImageError).code, message: (err as Error).message });
      expect(isImageError(cloned)).toBe(true);
      return;
    }
    throw new Error('expected a throw');
  });
});

describe('fuzz: damaged files give an ImageError or a valid image, never anything else', () => {
  function check(bytes: Uint8Array): void {
    let img: RawImage;
    try {
      img = decode(bytes, { maxPixels: 1_000_000 });
    } catch (err) {
      if (!(err instanceof ImageError)) throw new Error(`non-ImageError: ${String(err)}`);
      return;
    }
    expect(img.data.length).toBe(img.width * img.height * 4);
  }

  for (const [name, valid] of [['png', pngBytes], ['jpeg', jpegBytes]] as const) {
    it(`${name}: every truncation`, () => {
      for (let n = 0; n < valid.length; n++) check(valid.subarray(0, n));
    });

    it(`${name}: 400 random byte flips`, () => {
      const rnd = prng(name === 'png' ? 11 : 12);
      for (let t = 0; t < 400; t++) {
        const b = Uint8Array.from(valid);
        const flips = 1 + ((rnd() * 4) | 0);
        for (let f = 0; f < flips; f++) b[(rnd() * b.length) | 0] = (rnd() * 256) | 0;
        check(b);
      }
    });
  }
});
