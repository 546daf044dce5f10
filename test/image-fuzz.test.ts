/**
 * Seeded fuzz of the image tasks: truncated, bit-flipped and header-forged PNG/JPEG files, raw
 * images whose size disagrees with their data, and forged band plans. Every case must give a
 * valid image or an ImageError with a catalogue code, nothing else; through a real pool, the
 * threads must survive. The seed is printed; rerun a failure with
 *   TESSERA_FUZZ_SEED=<seed> npx vitest run test/image-fuzz.test.ts
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createPool, ErrorCodes, type Pool } from '../src/index.ts';
import type * as ImageTasks from '../workers/image.ts';
import { resizeBand } from '../workers/image.ts';
import { decode, encode } from '../workers/image/codec.ts';
import { ImageError } from '../workers/image/errors.ts';
import { imageModule, imagePartitions, resizePartitioned } from '../workers/image/partition.ts';
import { createResizePlan, type ResizePlan } from '../workers/image/plan.ts';
import { probe } from '../workers/image/probe.ts';
import type { RawImage } from '../workers/image/types.ts';
import { alphaBlob, gradient, noise, prng, smooth } from './fixtures/images/generate.ts';
import { interlacedBomb, jpegSof, pngChunks, withJpegSize, withPngSize, withSecondIhdr, withSecondSof } from './fixtures/images/forge.ts';
import { track } from './helpers.ts';

const SEED = process.env.TESSERA_FUZZ_SEED === undefined ? (Date.now() ^ (process.pid << 16)) >>> 0 : Number(process.env.TESSERA_FUZZ_SEED) >>> 0;
console.log(`[image-fuzz] seed ${SEED} (rerun with TESSERA_FUZZ_SEED=${SEED})`);

const IMAGE_CODES: readonly string[] = [
  ErrorCodes.IMAGE_CORRUPT,
  ErrorCodes.IMAGE_FORMAT,
  ErrorCodes.IMAGE_SIZE,
  ErrorCodes.IMAGE_TOO_LARGE,
  ErrorCodes.IMAGE_OPTION,
];
const MAX_PIXELS = 1_000_000;

/** One generator per test, derived from the seed and the test's name, so tests do not shift each other's cases. */
function rng(name: string): () => number {
  let h = SEED;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x9e3779b1) >>> 0;
  return prng(h);
}

const int = (rnd: () => number, n: number): number => Math.floor(rnd() * n);

const fixtures = await (async () => {
  const rgba = gradient(40, 30);
  const raw = { raw: { width: 40, height: 30, channels: 4 as const } };
  const bytes = async (p: Promise<Buffer>): Promise<Uint8Array> => new Uint8Array(await p);
  return {
    png: encode(alphaBlob(48, 32), { format: 'png' }) as Uint8Array,
    'png interlaced': await bytes(sharp(rgba.data, raw).png({ progressive: true }).toBuffer()),
    'png palette': await bytes(sharp(rgba.data, raw).png({ palette: true }).toBuffer()),
    jpeg: encode(smooth(48, 32), { format: 'jpeg', quality: 90 }) as Uint8Array,
    'jpeg progressive': await bytes(sharp(rgba.data, raw).jpeg({ progressive: true }).toBuffer()),
  };
})();

type Outcome = { ok: RawImage } | { code: string };

/** Decodes, and classifies the outcome; anything but a valid image or a catalogue ImageError fails. */
function outcome(bytes: Uint8Array | RawImage, label: string): Outcome {
  let img: RawImage;
  try {
    img = decode(bytes, { maxPixels: MAX_PIXELS });
  } catch (err) {
    if (!(err instanceof ImageError) || !IMAGE_CODES.includes(err.code)) {
      throw new Error(`[seed ${SEED}] ${label}: threw ${String(err)}, not a catalogue ImageError`, { cause: err });
    }
    return { code: err.code };
  }
  if (img.data.length !== img.width * img.height * 4 || img.width * img.height > MAX_PIXELS) {
    throw new Error(`[seed ${SEED}] ${label}: decoded to an invalid ${img.width}x${img.height} image of ${img.data.length} bytes`);
  }
  // A decoded encoded file has exactly the size its header declares (the codec agreed with the probe).
  if (bytes instanceof Uint8Array) {
    const header = probe(bytes, MAX_PIXELS);
    if (header.width !== img.width || header.height !== img.height) {
      throw new Error(`[seed ${SEED}] ${label}: header says ${header.width}x${header.height}, decoded ${img.width}x${img.height}`);
    }
  }
  return { ok: img };
}

/** The largest Buffer the codecs ask for while `run` runs (pngjs and zlib allocate through these). */
function largestBufferDuring(run: () => unknown): number {
  const saved = { alloc: Buffer.alloc, allocUnsafe: Buffer.allocUnsafe, allocUnsafeSlow: Buffer.allocUnsafeSlow };
  let largest = 0;
  const spy = <F extends (size: number, ...rest: never[]) => Buffer>(f: F): F =>
    ((size: number, ...rest: never[]) => {
      largest = Math.max(largest, size);
      return f.call(Buffer, size, ...rest);
    }) as F;
  Buffer.alloc = spy(saved.alloc);
  Buffer.allocUnsafe = spy(saved.allocUnsafe);
  Buffer.allocUnsafeSlow = spy(saved.allocUnsafeSlow);
  try {
    run();
  } catch {
    // The outcome is checked elsewhere; only the allocations matter here.
  } finally {
    Object.assign(Buffer, saved);
  }
  return largest;
}

/** A random header lie: near the truth, far below, far above, zero, or the format's maximum. */
function lie(rnd: () => number, truth: number, max: number): number {
  switch (int(rnd, 6)) {
    case 0:
      return Math.max(0, truth + int(rnd, 7) - 3);
    case 1:
      return 1 + int(rnd, truth);
    case 2:
      return truth * (2 + int(rnd, 50));
    case 3:
      return 0;
    case 4:
      return max;
    default:
      return int(rnd, max + 1);
  }
}

describe(`encoded files (seed ${SEED})`, () => {
  for (const [name, valid] of Object.entries(fixtures)) {
    const isPng = name.startsWith('png');

    it(`${name}: decodes as itself`, () => {
      expect('ok' in outcome(valid, name)).toBe(true);
    });

    it(`${name}: truncations at every header length and 120 random lengths`, () => {
      const rnd = rng(`${name} truncate`);
      const lengths = new Set<number>();
      for (let n = 0; n < Math.min(valid.length, 200); n++) lengths.add(n);
      for (let t = 0; t < 120; t++) lengths.add(int(rnd, valid.length));
      for (const n of lengths) {
        const result = outcome(valid.subarray(0, n), `${name} cut to ${n} bytes`);
        // PNG needs its IEND, JPEG its scan: no prefix of these files decodes.
        expect('code' in result, `${name} cut to ${n} bytes decoded`).toBe(true);
      }
    });

    it(`${name}: 300 random byte flips`, () => {
      const rnd = rng(`${name} flip`);
      for (let t = 0; t < 300; t++) {
        const b = Uint8Array.from(valid);
        const flips = 1 + int(rnd, 4);
        const at: number[] = [];
        for (let f = 0; f < flips; f++) {
          const i = int(rnd, b.length);
          at.push(i);
          b[i] = int(rnd, 256);
        }
        outcome(b, `${name} with bytes ${at.join(',')} changed`);
      }
    });

    it(`${name}: 150 headers rewritten to lie about width and height (valid checksums)`, () => {
      const rnd = rng(`${name} lie`);
      const { width, height } = probe(valid, MAX_PIXELS);
      const max = isPng ? 0x7fffffff : 0xffff;
      const codes = new Set<string>();
      for (let t = 0; t < 150; t++) {
        const w = lie(rnd, width, max);
        const h = lie(rnd, height, max);
        const forged = isPng ? withPngSize(valid, w, h) : withJpegSize(valid, w, h);
        const result = outcome(forged, `${name} claiming ${w}x${h}`);
        if ('code' in result) codes.add(result.code);
        // Over the limit is refused from the header, before the codec allocates anything for it.
        if (w * h > MAX_PIXELS) expect(result, `${name} claiming ${w}x${h}`).toEqual({ code: ErrorCodes.IMAGE_TOO_LARGE });
        if (w === width && h === height) expect('ok' in result).toBe(true);
      }
      expect(codes.size).toBeGreaterThan(0);
    });
  }

  it('a second IHDR or SOF cannot make the codec decode, or allocate for, a size nobody checked', () => {
    const png = fixtures.png;
    const pngBomb = withSecondIhdr(png, 20_000, 20_000);
    let png2: Outcome | undefined;
    const pngLargest = largestBufferDuring(() => (png2 = outcome(pngBomb, 'png with a second 20000x20000 IHDR')));
    expect(png2).toEqual({ code: ErrorCodes.IMAGE_CORRUPT });
    // The honest 48x32 file needs a few KB; pngjs alone would have asked for 1.6 GB here.
    expect(pngLargest).toBeLessThan(1 << 20);

    // MozJPEG allocates inside its wasm heap, which this spy cannot see; libjpeg refuses a second
    // frame header itself (a fatal error, so CORRUPT), whatever size it claims.
    for (const jpeg of [fixtures.jpeg, fixtures['jpeg progressive']]) {
      const forged = withSecondSof(jpeg, 900, 900);
      expect(jpegSof(forged)).toBe(jpegSof(jpeg));
      expect(outcome(forged, 'jpeg with a second 900x900 frame header')).toEqual({ code: ErrorCodes.IMAGE_CORRUPT });
    }
  });

  it('an interlaced PNG whose data inflates far past its header is refused without inflating it all', () => {
    const bomb = interlacedBomb(64, 64, 64 << 20);
    expect(bomb.length).toBeLessThan(100_000);
    let result: Outcome | undefined;
    const largest = largestBufferDuring(() => (result = outcome(bomb, 'interlaced deflate bomb')));
    expect(result).toEqual({ code: ErrorCodes.IMAGE_CORRUPT });
    expect(largest).toBeLessThan(1 << 20);
    // The same header over honest data decodes: the cap is not stricter than the format.
    expect('ok' in outcome(fixtures['png interlaced'], 'honest interlaced')).toBe(true);
    expect(pngChunks(fixtures['png interlaced'])[0]?.data[12]).toBe(1);
  });
});

describe(`raw RGBA whose size disagrees with its data (seed ${SEED})`, () => {
  it('400 random width, height, length and offset combinations', () => {
    const rnd = rng('raw');
    const ok = new Set<boolean>();
    for (let t = 0; t < 400; t++) {
      const width = [0, 1, 7, 64, 1001, -3, 2.5, NaN][int(rnd, 8)] as number;
      const height = [0, 1, 5, 48, 999, -1, 0.5, Infinity][int(rnd, 8)] as number;
      const honest = Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 ? width * height * 4 : 16;
      const length = Math.max(0, [honest, honest - 4, honest + 4, honest - 1, 0][int(rnd, 5)] as number);
      const offset = int(rnd, 3) * 8;
      const data = new Uint8Array(offset + length + 8).subarray(offset, offset + length);
      const result = outcome({ data, width, height }, `raw ${width}x${height} with ${length} bytes at offset ${offset}`);
      ok.add('ok' in result);
      if ('ok' in result) expect(length).toBe(width * height * 4);
    }
    expect(ok).toEqual(new Set([true, false]));
  });
});

describe(`forged band plans (seed ${SEED})`, () => {
  it('300 random forgeries: an ImageError, or output written only inside the band rows of dst', async () => {
    const rnd = rng('plans');
    const img = noise(37, 29, 5);
    const src = new Uint8Array(new SharedArrayBuffer(img.data.length));
    src.set(img.data);
    const genuine = createResizePlan({ srcWidth: 37, srcHeight: 29, width: 23, height: 17, fit: 'contain', background: [9, 8, 7, 255] });
    const numbers = ['srcWidth', 'srcHeight', 'dstWidth', 'dstHeight', 'contentX', 'contentY', 'contentWidth', 'contentHeight'] as const;
    const codes = new Set<string>();
    let written = 0;
    for (let t = 0; t < 300; t++) {
      const plan = structuredClone(genuine) as ResizePlan & Record<string, unknown>;
      const forgeries = 1 + int(rnd, 2);
      for (let f = 0; f < forgeries; f++) {
        const what = int(rnd, 5);
        if (what === 0) {
          const key = numbers[int(rnd, numbers.length)]!;
          plan[key] = [0, -1, 1, plan[key] + 1, plan[key] - 1, plan[key] * 50, 2 ** 31, NaN][int(rnd, 8)] as number;
        } else if (what === 1 || what === 2) {
          const table = what === 1 ? plan.x : plan.y;
          const i = int(rnd, table.starts.length);
          table.starts[i] = [-1, 0, (table.starts[i] ?? 0) + 1, (table.starts[i] ?? 0) - table.taps - 1, 1 << 20][int(rnd, 5)] as number;
        } else if (what === 3) {
          const table = int(rnd, 2) === 0 ? plan.x : plan.y;
          const k = int(rnd, table.weights.length);
          table.weights[k] = int(rnd, 65536) - 32768;
        } else {
          const table = int(rnd, 2) === 0 ? plan.x : plan.y;
          table.taps = [0, 1, table.taps + 1, table.taps * 20][int(rnd, 4)] as number;
        }
      }
      // dst sits between guard bytes, pre-filled; the band covers a random row range.
      const rows = Math.max(1, Number.isSafeInteger(plan.dstHeight) ? Math.min(plan.dstHeight, 64) : genuine.dstHeight);
      const y0 = int(rnd, rows);
      const y1 = y0 + int(rnd, rows - y0 + 1);
      const dstBytes = Number.isSafeInteger(plan.dstWidth * plan.dstHeight) && plan.dstWidth * plan.dstHeight < 1e6 && plan.dstWidth > 0 && plan.dstHeight > 0 ? plan.dstWidth * plan.dstHeight * 4 : 64;
      const backing = new Uint8Array(new SharedArrayBuffer(dstBytes + 128)).fill(0xa5);
      const dst = backing.subarray(64, 64 + dstBytes);
      try {
        await resizeBand({ plan, src, dst, y0, y1 });
      } catch (err) {
        if (!(err instanceof ImageError)) throw new Error(`[seed ${SEED}] forgery ${t}: ${String(err)}`, { cause: err });
        codes.add(err.code);
        expect(backing.every((b) => b === 0xa5), `forgery ${t} failed but wrote`).toBe(true);
        continue;
      }
      written++;
      // Accepted: the guards and every row outside [y0, y1) are untouched.
      const row = plan.dstWidth * 4;
      const untouched = (from: number, to: number) => backing.subarray(from, to).every((b) => b === 0xa5);
      expect(untouched(0, 64 + y0 * row) && untouched(64 + y1 * row, backing.length), `forgery ${t} wrote outside its band`).toBe(true);
    }
    expect(codes.has(ErrorCodes.IMAGE_OPTION) && codes.has(ErrorCodes.IMAGE_SIZE)).toBe(true);
    expect(written).toBeGreaterThan(0);
  });
});

describe(`through a pool (seed ${SEED})`, () => {
  function imagePool(): Pool<typeof ImageTasks> {
    return track(createPool<typeof ImageTasks>({ module: imageModule, partitions: imagePartitions, minThreads: 2, maxThreads: 2 }));
  }

  /** Settles `runs`; each must be a result or an ImageError (by name and code, as it crossed a thread). */
  async function expectImageOutcomes(runs: Array<Promise<unknown>>, labels: string[]): Promise<number> {
    const settled = await Promise.allSettled(runs);
    let failed = 0;
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled') return;
      failed++;
      const err = s.reason as { name?: unknown; code?: unknown };
      expect(err.code, `${labels[i]}: ${String(s.reason)}`).not.toBe(ErrorCodes.WORKER_CRASH);
      expect([labels[i], err.name, IMAGE_CODES.includes(err.code as string)]).toEqual([labels[i], 'ImageError', true]);
    });
    return failed;
  }

  it('damaged and forged files reject with image codes; the threads survive and still resize', async () => {
    const pool = imagePool();
    await pool.ready();
    const rnd = rng('pool');
    const names = Object.keys(fixtures) as Array<keyof typeof fixtures>;
    const runs: Array<Promise<unknown>> = [];
    const labels: string[] = [];
    for (let t = 0; t < 48; t++) {
      const name = names[int(rnd, names.length)]!;
      const valid = fixtures[name];
      let image: Uint8Array;
      const kind = int(rnd, 4);
      if (kind === 0) image = valid.slice(0, int(rnd, valid.length));
      else if (kind === 1) {
        image = Uint8Array.from(valid);
        for (let f = 0; f < 3; f++) image[int(rnd, image.length)] = int(rnd, 256);
      } else if (kind === 2) {
        const { width, height } = probe(valid, MAX_PIXELS);
        const w = lie(rnd, width, 0xffff);
        const h = lie(rnd, height, 0xffff);
        image = name.startsWith('png') ? withPngSize(valid, w, h) : withJpegSize(valid, w, h);
      } else image = name.startsWith('png') ? withSecondIhdr(valid, 20_000, 20_000) : withSecondSof(valid, 9000, 9000);
      labels.push(`${name} case ${t} (kind ${kind})`);
      runs.push(
        t % 2 === 0
          ? pool.run('resize', { image, width: 16, height: 12, maxPixels: MAX_PIXELS, format: 'raw' })
          : resizePartitioned(pool, { image, width: 16, height: 12, maxPixels: MAX_PIXELS, format: 'raw' }),
      );
    }
    runs.push(pool.run('resize', { image: interlacedBomb(64, 64, 64 << 20), width: 8 }));
    labels.push('interlaced bomb');
    expect(await expectImageOutcomes(runs, labels)).toBeGreaterThan(0);

    // Both threads still work: two concurrent resizes, one per thread.
    const after = await Promise.all([0, 1].map(() => resizePartitioned(pool, { image: fixtures.png, width: 24, height: 16, format: 'raw' })));
    for (const out of after) expect([out.width, out.height, out.data.length]).toEqual([24, 16, 24 * 16 * 4]);
    expect(pool.stats().threads).toBe(2);
  });

  it('hostile and forged task inputs reject with image codes, on the main thread or in a thread', async () => {
    const pool = imagePool();
    const shared = await pool.run('decodeShared', { image: fixtures.png });
    const plan = createResizePlan({ srcWidth: shared.width, srcHeight: shared.height, width: 10, height: 10 });
    const forgedPlan = { ...plan, x: { ...plan.x, starts: plan.x.starts.map(() => 1 << 20) } };
    const dst = new SharedArrayBuffer(10 * 10 * 4);
    // split runs on the main thread: a throwing getter there is an ImageError instance.
    const hostile = Object.defineProperty({ width: 10 }, 'src', { get: () => { throw new Error('boom'); }, enumerable: false });
    await expect(pool.run('resizeRaw', hostile as never)).rejects.toBeInstanceOf(ImageError);
    const runs = [
      pool.run('resizeRaw', { src: shared, width: 10, maxPixels: -1 }),
      pool.run('resizeRaw', { src: { ...shared, width: shared.width + 1 }, width: 10 }),
      pool.run('resizeBand', { plan: forgedPlan, src: shared.data, dst, y0: 0, y1: 10 }),
      pool.run('resizeBand', { plan, src: shared.data, dst, y0: 0, y1: 11 }),
      pool.run('resizeBand', { plan, src: shared.data.subarray(0, 100), dst, y0: 0, y1: 10 }),
      pool.run('resizeBand', { plan: null, src: shared.data, dst, y0: 0, y1: 10 } as never),
      pool.run('encodeImage', { image: { data: shared.data, width: shared.width, height: shared.height + 1 } }),
      pool.run('thumbnails', { image: fixtures.jpeg, sizes: [{ width: 4, height: 4 }, { width: 'big', height: 4 }] } as never),
      pool.run('decodeShared', { image: fixtures.png, maxPixels: NaN }),
    ];
    const labels = runs.map((_, i) => `hostile case ${i}`);
    expect(await expectImageOutcomes(runs, labels)).toBe(runs.length);
    const codes = (await Promise.allSettled(runs)).map((s) => (s.status === 'rejected' ? (s.reason as { code: string }).code : 'ok'));
    expect(codes).toEqual([
      ErrorCodes.IMAGE_OPTION,
      ErrorCodes.IMAGE_SIZE,
      ErrorCodes.IMAGE_OPTION,
      ErrorCodes.IMAGE_SIZE,
      ErrorCodes.IMAGE_SIZE,
      ErrorCodes.IMAGE_OPTION,
      ErrorCodes.IMAGE_SIZE,
      ErrorCodes.IMAGE_OPTION,
      ErrorCodes.IMAGE_OPTION,
    ]);
    const ok = await pool.run('resizeRaw', { src: shared, width: 10, height: 10 });
    expect(ok.data.length).toBe(400);
  });
});
