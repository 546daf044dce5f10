/**
 * Shrink-on-load: a baseline JPEG that the output shrinks 2x or more decodes at 1/2, 1/4 or 1/8
 * size through libvips (wasm-vips), and the result has the dimensions a full-size decode gives and
 * nearly its pixels. A baseline scan is walked first (jpeg-scan.ts), so a header that promises more
 * than the data holds is still a CORRUPT ImageError (libvips alone misses it in the last rows); a
 * progressive one is judged by libvips, which reads all of it first. What libvips does not shrink
 * (CMYK) decodes at full size as before.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/index.ts';
import type * as ImageTasks from '../workers/image.ts';
import { ImageErrorCodes, resize, thumbnails } from '../workers/image.ts';
import { decode, decodeToFit, encode } from '../workers/image/codec.ts';
import { scanVerdict } from '../workers/image/jpeg-scan.ts';
import { imageModule } from '../workers/image/partition.ts';
import type { RawImage } from '../workers/image/types.ts';
import { withJpegSize } from './fixtures/images/forge.ts';
import { noise, psnrRgb, smooth } from './fixtures/images/generate.ts';

/** A photo-like image: smooth shapes with a little grain, so the scan is not trivially short. */
function photo(width: number, height: number): RawImage & { data: Uint8Array } {
  const base = smooth(width, height);
  const grain = noise(width, height, 3);
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) {
    for (let c = 0; c < 3; c++) data[i + c] = Math.min(255, Math.max(0, (base.data[i + c] as number) + (((grain.data[i + c] as number) - 128) >> 4)));
    data[i + 3] = 255;
  }
  return { data, width, height };
}

const big = photo(1600, 1200);
const jpeg = encode(big, { format: 'jpeg', quality: 90 }) as Uint8Array;
const fit = (width?: number, height?: number, f: 'cover' | 'contain' | 'fill' = 'cover') => ({ width, height, fit: f });

async function sharpJpeg(img: RawImage, options: sharp.JpegOptions, grey = false): Promise<Uint8Array> {
  let s = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 4 } }).removeAlpha();
  if (grey) s = s.greyscale();
  return new Uint8Array(await s.jpeg(options).toBuffer());
}

function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'no error',
    (err: unknown) => String((err as { code?: unknown }).code),
  );
}

describe('the shrink factor', () => {
  it('is 8, 4 or 2 when every target shrinks that much, and 1 (full size) below 2x', async () => {
    const cases: Array<[Array<ReturnType<typeof fit>>, number]> = [
      [[fit(150)], 200],
      [[fit(200)], 200],
      [[fit(300)], 400],
      [[fit(700)], 800],
      [[fit(801)], 1600],
      [[fit(undefined, 100)], 200],
      [[fit(100, 100)], 200],
      // contain fits the longer side: 1600/300 = 5.3, so 1/4.
      [[fit(300, 300, 'contain')], 400],
      // fill keeps detail on the axis that shrinks least: 1200/600 = 2.
      [[fit(100, 600, 'fill')], 800],
      // Several targets: the one that needs the most pixels decides.
      [[fit(64), fit(256), fit(500)], 800],
    ];
    for (const [targets, width] of cases) {
      const { image, sizes } = await decodeToFit(jpeg, {}, targets);
      expect(image.width, JSON.stringify(targets)).toBe(width);
      expect(image.height).toBe((1200 * width) / 1600);
      expect(image.data.length).toBe(image.width * image.height * 4);
      if (width < 1600) expect(sizes).toHaveLength(targets.length);
      else expect(sizes).toBeUndefined();
    }
  });

  it('rounds each side down as libvips does, and shrinkOnLoad: false always decodes at full size', async () => {
    const odd = encode(photo(1601, 1203), { format: 'jpeg', quality: 85 }) as Uint8Array;
    const { image } = await decodeToFit(odd, {}, [fit(100)]);
    expect([image.width, image.height]).toEqual([200, 150]);
    const full = await decodeToFit(odd, { shrinkOnLoad: false }, [fit(100)]);
    expect([full.image.width, full.image.height]).toEqual([1601, 1203]);
  });
});

describe('results', () => {
  it('have the size of a full-size decode and nearly its pixels, at 1/8, 1/4 and 1/2', async () => {
    for (const width of [150, 256, 350, 700]) {
      const shrunk = await resize({ image: jpeg, width, format: 'raw' });
      const full = await resize({ image: jpeg, width, format: 'raw', shrinkOnLoad: false });
      expect([shrunk.width, shrunk.height]).toEqual([full.width, full.height]);
      expect(psnrRgb(shrunk.data, full.data), `width ${width}`).toBeGreaterThan(35);
    }
  });

  it('keep a side left to the aspect ratio as a full decode computes it (1601x1203 to 256 wide is 192 high)', async () => {
    const odd = encode(photo(1601, 1203), { format: 'jpeg', quality: 85 }) as Uint8Array;
    const out = await resize({ image: odd, width: 256, format: 'raw' });
    expect([out.width, out.height]).toEqual([256, Math.round((1203 * 256) / 1601)]);
  });

  it('of thumbnails, one decode for every size, match full-size decodes', async () => {
    const sizes = [
      { width: 64, height: 64 },
      { width: 200, height: 150, fit: 'contain' as const },
      { width: 320, height: 100, fit: 'fill' as const },
    ];
    const shrunk = await thumbnails({ image: jpeg, sizes, format: 'raw' });
    const full = await thumbnails({ image: jpeg, sizes, format: 'raw', shrinkOnLoad: false });
    for (const [i, out] of shrunk.entries()) {
      expect([out.width, out.height]).toEqual([full[i]!.width, full[i]!.height]);
      expect(psnrRgb(out.data, full[i]!.data)).toBeGreaterThan(33);
    }
  });

  it('of greyscale and 4:4:4 JPEGs are shrunk too; greyscale comes back as grey RGBA', async () => {
    const grey = await sharpJpeg(big, { quality: 90 }, true);
    const g = await decodeToFit(grey, {}, [fit(200)]);
    expect(g.image.width).toBe(200);
    for (let i = 0; i < g.image.data.length; i += 4) {
      if (g.image.data[i] !== g.image.data[i + 1] || g.image.data[i] !== g.image.data[i + 2] || g.image.data[i + 3] !== 255) throw new Error(`pixel ${i / 4} is not opaque grey`);
    }
    const full444 = await sharpJpeg(big, { quality: 90, chromaSubsampling: '4:4:4' });
    expect(scanVerdict(full444)).toBe('complete');
    expect((await decodeToFit(full444, {}, [fit(200)])).image.width).toBe(200);
  });

  it('of progressive JPEGs are shrunk too (libvips reads every scan before the first row)', async () => {
    const progressive = await sharpJpeg(big, { quality: 90, progressive: true });
    expect(scanVerdict(progressive)).toBe('progressive');
    expect((await decodeToFit(progressive, {}, [fit(200)])).image.width).toBe(200);
    const shrunk = await resize({ image: progressive, width: 200, format: 'raw' });
    const full = await resize({ image: progressive, width: 200, format: 'raw', shrinkOnLoad: false });
    expect([shrunk.width, shrunk.height]).toEqual([200, 150]);
    expect(psnrRgb(shrunk.data, full.data)).toBeGreaterThan(35);
  });

  it('of CMYK JPEGs come from the full-size path, with the same answer as before', async () => {
    const cmyk = new Uint8Array(await sharp(Buffer.from(jpeg)).toColourspace('cmyk').jpeg().toBuffer());
    const shrunkCode = await codeOf(resize({ image: cmyk, width: 100 }));
    expect(shrunkCode).toBe(await codeOf(resize({ image: cmyk, width: 100, shrinkOnLoad: false })));
  });

  it('turn upright by EXIF orientation after shrinking (a portrait phone photo stays portrait)', async () => {
    const rotated = new Uint8Array(await sharp(Buffer.from(jpeg)).withMetadata({ orientation: 6 }).jpeg({ quality: 90 }).toBuffer());
    const shrunk = await resize({ image: rotated, width: 150, format: 'raw' });
    const full = await resize({ image: rotated, width: 150, format: 'raw', shrinkOnLoad: false });
    expect([shrunk.width, shrunk.height]).toEqual([150, 200]);
    expect([full.width, full.height]).toEqual([150, 200]);
    expect(psnrRgb(shrunk.data, full.data)).toBeGreaterThan(35);
  });
});

describe('damaged JPEGs are still CORRUPT when the output would shrink them', () => {
  const small = encode(photo(480, 320), { format: 'jpeg', quality: 90 }) as Uint8Array;

  it('a header that promises more rows or columns than the scan holds', async () => {
    for (const [w, h] of [[480, 336], [480, 640], [960, 320], [4800, 3200], [496, 320]] as const) {
      const forged = withJpegSize(small, w, h);
      expect(scanVerdict(forged), `${w}x${h}`).toBe('damaged');
      await expect(resize({ image: forged, width: 40, format: 'jpeg' }), `${w}x${h}`).rejects.toMatchObject({ code: ImageErrorCodes.CORRUPT });
    }
  });

  it('a scan cut anywhere', async () => {
    const sos = small.findIndex((b, i) => b === 0xff && small[i + 1] === 0xda);
    for (let n = sos + 20; n < small.length - 1; n += Math.max(1, Math.floor((small.length - sos) / 40))) {
      await expect(resize({ image: small.subarray(0, n), width: 40, format: 'raw' }), `cut at ${n}`).rejects.toMatchObject({ code: ImageErrorCodes.CORRUPT });
    }
    // The last two bytes are the end-of-image marker: without them libjpeg reports a premature end.
    expect(scanVerdict(small.subarray(0, small.length - 2))).toBe('damaged');
    expect(scanVerdict(small)).toBe('complete');
  });

  it('with restart markers: complete when whole, damaged when a restart marker or the data after it is lost', async () => {
    const Vips = ((await import('wasm-vips' as string)) as { default: (o: object) => Promise<any> }).default;
    const vips = await Vips({ dynamicLibraries: [], print: () => {}, printErr: () => {} });
    // One libvips thread: a larger pool would need threads started while this thread waits for them.
    vips.concurrency(1);
    const rgb = new Uint8Array(480 * 320 * 3);
    const src = photo(480, 320).data;
    for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) rgb.set(src.subarray(j, j + 3), i);
    const im = vips.Image.newFromMemory(rgb, 480, 320, 3, 'uchar');
    const withRst = new Uint8Array(im.jpegsaveBuffer({ Q: 90, restart_interval: 3 }));
    im.delete();
    const rst = withRst.findIndex((b, i) => b === 0xff && (withRst[i + 1] as number) >= 0xd0 && (withRst[i + 1] as number) <= 0xd7);
    expect(rst).toBeGreaterThan(0);
    expect(scanVerdict(withRst)).toBe('complete');
    expect((await decodeToFit(withRst, {}, [fit(40)])).image.width).toBe(60);
    const dropped = Uint8Array.from(Buffer.concat([withRst.subarray(0, rst), withRst.subarray(rst + 2)]));
    expect(scanVerdict(dropped)).toBe('damaged');
    await expect(resize({ image: dropped, width: 40 })).rejects.toMatchObject({ code: ImageErrorCodes.CORRUPT });
    expect(scanVerdict(withJpegSize(withRst, 480, 400))).toBe('damaged');
  });

  it('a progressive JPEG forged or cut anywhere', async () => {
    const progressive = await sharpJpeg(photo(480, 320), { quality: 90, progressive: true });
    for (const [w, h] of [[480, 336], [480, 640], [960, 320], [4800, 3200]] as const) {
      await expect(resize({ image: withJpegSize(progressive, w, h), width: 40, format: 'jpeg' }), `${w}x${h}`).rejects.toMatchObject({ code: ImageErrorCodes.CORRUPT });
    }
    const step = Math.max(1, Math.floor(progressive.length / 40));
    for (let n = 300; n < progressive.length; n += step) {
      await expect(resize({ image: progressive.subarray(0, n), width: 40, format: 'raw' }), `cut at ${n}`).rejects.toMatchObject({ code: ImageErrorCodes.CORRUPT });
    }
    await expect(resize({ image: progressive.subarray(0, progressive.length - 2), width: 40 })).rejects.toMatchObject({ code: ImageErrorCodes.CORRUPT });
  });

  it('and the shrunk path is as good as the full one on valid files afterwards', async () => {
    await expect(resize({ image: withJpegSize(jpeg, 1600, 1400), width: 100 })).rejects.toMatchObject({ code: ImageErrorCodes.CORRUPT });
    const ok = await resize({ image: jpeg, width: 100, format: 'raw' });
    expect([ok.width, ok.height]).toEqual([100, 75]);
    expect(decode(jpeg).width).toBe(1600);
  });
});

describe('the option and the pool', () => {
  it('shrinkOnLoad must be a boolean, checked before decoding', async () => {
    for (const bad of ['yes', 1, null, {}]) {
      await expect(resize({ image: jpeg, width: 100, shrinkOnLoad: bad as never })).rejects.toMatchObject({ code: ImageErrorCodes.OPTION });
      await expect(thumbnails({ image: jpeg, sizes: [{ width: 10, height: 10 }], shrinkOnLoad: bad as never })).rejects.toMatchObject({ code: ImageErrorCodes.OPTION });
    }
  });

  it('threads that started libvips still close promptly, and every result arrives', async () => {
    const pool = createPool<typeof ImageTasks>({ module: imageModule, minThreads: 2, maxThreads: 2 });
    const runs = Array.from({ length: 12 }, (_, i) => pool.run('resize', { image: jpeg, width: 100 + i, format: 'jpeg' }));
    const damaged = pool.run('resize', { image: withJpegSize(jpeg, 1600, 1400), width: 100 });
    const results = await Promise.all(runs);
    expect(results.map((r) => r.width)).toEqual(Array.from({ length: 12 }, (_, i) => 100 + i));
    await expect(damaged).rejects.toMatchObject({ code: ImageErrorCodes.CORRUPT });
    await pool.close();
    expect(pool.stats().threads).toBe(0);
  });
});
