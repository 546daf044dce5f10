import { describe, expect, it } from 'vitest';
import { decodeShared, encodeImage, resize, resizeBand, resizeRaw, thumbnails } from '../workers/image.ts';
import { decode, encode } from '../workers/image/codec.ts';
import { ImageError } from '../workers/image/errors.ts';
import { resizeRawPartitioner, resizePartitioned, type ImagePool } from '../workers/image/partition.ts';
import { createResizePlan, readPlan, splitRows, type ResizePlan } from '../workers/image/plan.ts';
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
    await expect(thumbnails({ image: png } as never)).rejects.toMatchObject({ code: 'TESSERA_IMAGE_OPTION' });
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
    expect(done).toEqual(bands.map((b) => expect.objectContaining({ y0: b.start, y1: b.end })));
    expect(Buffer.compare(Buffer.from(new Uint8Array(dst)), Buffer.from(resizeImage(plan, src.data)))).toBe(0);
  });
});

/** The code an image task rejects or throws with; fails the test on any non-ImageError. */
async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (err) {
    if (!(err instanceof ImageError)) throw new Error(`expected an ImageError, got ${String(err)}`, { cause: err });
    return err.code;
  }
  return 'no error';
}

/** An object whose every property read throws, and a Proxy whose every trap throws. */
const hostileGetters = Object.defineProperties({}, Object.fromEntries(
  ['image', 'src', 'plan', 'dst', 'sizes', 'width', 'height', 'data', 'maxPixels', 'format', 'y0', 'y1'].map((k) => [k, { get: () => { throw new Error(`getter ${k}`); }, enumerable: true }]),
));
const trapAll = new Proxy({}, { get: () => { throw new Error('trap'); }, has: () => { throw new Error('trap'); }, ownKeys: () => { throw new Error('trap'); }, getPrototypeOf: () => { throw new Error('trap'); } });
const revoked = (() => { const r = Proxy.revocable({}, {}); r.revoke(); return r.proxy; })();

describe('every task validates its input up front', () => {
  const raw = gradient(12, 8);
  const plan = createResizePlan({ srcWidth: 12, srcHeight: 8, width: 6, height: 4, fit: 'fill' });
  const band = () => ({ plan, src: toShared(raw).data, dst: new SharedArrayBuffer(6 * 4 * 4), y0: 0, y1: 4 });

  const tasks: Array<[string, (input: unknown) => unknown, () => Record<string, unknown>]> = [
    ['resize', (i) => resize(i as never), () => ({ image: png, width: 10 })],
    ['thumbnails', (i) => thumbnails(i as never), () => ({ image: png, sizes: [{ width: 4, height: 4 }] })],
    ['decodeShared', (i) => decodeShared(i as never), () => ({ image: png })],
    ['resizeRaw', (i) => resizeRaw(i as never), () => ({ src: raw, width: 5 })],
    ['resizeRaw split', (i) => resizeRawPartitioner.split(i as never, 2), () => ({ src: toShared(raw), width: 5 })],
    ['resizeBand', (i) => resizeBand(i as never), band],
    ['encodeImage', (i) => encodeImage(i as never), () => ({ image: raw })],
  ];

  for (const [name, run, valid] of tasks) {
    it(`${name}: a valid input works; non-objects, hostile getters and Proxies are TESSERA_IMAGE_OPTION`, async () => {
      expect(await codeOf(() => run(valid()))).toBe('no error');
      for (const bad of [undefined, null, 42, 'image', [], new Uint8Array(4), hostileGetters, trapAll, revoked]) {
        expect(await codeOf(() => run(bad))).toBe('TESSERA_IMAGE_OPTION');
      }
    });

    it(`${name}: maxPixels must be a positive integer; a bad value never disables the guard`, async () => {
      for (const maxPixels of [0, -5, NaN, Infinity, -Infinity, 2.5, '1e9', null, {}, true]) {
        expect(await codeOf(() => run({ ...valid(), maxPixels }))).toBe('TESSERA_IMAGE_OPTION');
      }
      // And a real, small limit applies (12x8 raw source, 120x80 PNG, 6x4 band plan: all over 20 pixels).
      expect(await codeOf(() => run({ ...valid(), maxPixels: 20 }))).toBe('TESSERA_IMAGE_TOO_LARGE');
    });
  }

  it('missing, null or wrongly typed fields are TESSERA_IMAGE_OPTION, never a TypeError', async () => {
    const cases: Array<[string, () => unknown]> = [
      ['resize without image', () => resize({ width: 10 } as never)],
      ['resize image null', () => resize({ image: null, width: 10 } as never)],
      ['resize image a string', () => resize({ image: 'x.png', width: 10 } as never)],
      ['resize image an ArrayBuffer', () => resize({ image: new ArrayBuffer(8), width: 10 } as never)],
      ['resize width a string', () => resize({ image: png, width: '10' } as never)],
      ['resize height null', () => resize({ image: png, height: null } as never)],
      ['resize unknown fit', () => resize({ image: png, width: 10, fit: 'stretch' } as never)],
      ['resize unknown filter', () => resize({ image: png, width: 10, filter: 'nearest' } as never)],
      ['resize unknown format', () => resize({ image: png, width: 10, format: 'gif' } as never)],
      ['resize quality 0', () => resize({ image: png, width: 10, format: 'jpeg', quality: 0 })],
      ['resize quality NaN', () => resize({ image: png, width: 10, quality: NaN })],
      ['resize background short', () => resize({ image: png, width: 10, background: [1, 2, 3] } as never)],
      ['resize background 256', () => resize({ image: png, width: 10, background: [1, 2, 3, 256] })],
      ['resize background a string', () => resize({ image: png, width: 10, background: '#fff' } as never)],
      ['thumbnails sizes an object', () => thumbnails({ image: png, sizes: { width: 1 } } as never)],
      ['thumbnails size null', () => thumbnails({ image: png, sizes: [null] } as never)],
      ['thumbnails size without height', () => thumbnails({ image: png, sizes: [{ width: 4 }] } as never)],
      ['thumbnails size width a string', () => thumbnails({ image: png, sizes: [{ width: '4', height: 4 }] } as never)],
      ['thumbnails sizes with a throwing getter', () => thumbnails({ image: png, sizes: Object.defineProperty([], 0, { get: () => { throw new Error('x'); } }) } as never)],
      ['decodeShared without image', () => decodeShared({} as never)],
      ['resizeRaw without src', () => resizeRaw({ width: 10 } as never)],
      ['resizeRaw src bytes', () => resizeRaw({ src: png, width: 10 } as never)],
      ['resizeRaw src data an array', () => resizeRaw({ src: { data: [1, 2, 3, 4], width: 1, height: 1 }, width: 10 } as never)],
      ['resizeRaw src data a Proxy of a Uint8Array', () => resizeRaw({ src: { data: new Proxy(new Uint8Array(4), {}), width: 1, height: 1 } } as never)],
      ['encodeImage without image', () => encodeImage({ format: 'png' } as never)],
      ['encodeImage image bytes', () => encodeImage({ image: png } as never)],
      ['resizeBand without plan', () => resizeBand({ ...band(), plan: undefined } as never)],
      ['resizeBand plan null', () => resizeBand({ ...band(), plan: null } as never)],
      ['resizeBand src a string', () => resizeBand({ ...band(), src: 'pixels' } as never)],
      ['resizeBand dst missing', () => resizeBand({ ...band(), dst: undefined } as never)],
      ['resizeBand dst a Uint16Array', () => resizeBand({ ...band(), dst: new Uint16Array(48) } as never)],
      ['resizeBand y0 a string', () => resizeBand({ ...band(), y0: '0' } as never)],
      ['resizeBand y1 missing', () => resizeBand({ ...band(), y1: undefined } as never)],
      ['resizeBand srcFirstRow null', () => resizeBand({ ...band(), srcFirstRow: null } as never)],
      ['resizeBand plan.x.starts a plain array', () => resizeBand({ ...band(), plan: { ...plan, x: { ...plan.x, starts: Array.from(plan.x.starts) } } } as never)],
      ['resizeBand plan.background bad', () => resizeBand({ ...band(), plan: { ...plan, background: [0, 0, 0] } } as never)],
      ['resizeBand plan with a throwing getter', () => resizeBand({ ...band(), plan: Object.defineProperty({ ...plan }, 'x', { get: () => { throw new Error('x'); } }) } as never)],
    ];
    for (const [name, run] of cases) expect([name, await codeOf(run)]).toEqual([name, 'TESSERA_IMAGE_OPTION']);
  });

  it('a getter that answers differently on a second read cannot slip past a check', async () => {
    let reads = 0;
    const src = { data: raw.data, height: raw.height, get width() { return reads++ === 0 ? raw.width : 1_000_000_000; } };
    const out = await resizeRaw({ src, width: 6, height: 4, fit: 'fill' });
    expect(reads).toBe(1);
    expect([out.width, out.height]).toEqual([6, 4]);
  });

  it('resizePartitioned checks its options on the main thread before any thread is used', async () => {
    const pool = new Proxy({}, { get: () => { throw new Error('the pool must not be touched'); } }) as ImagePool;
    expect(await codeOf(() => resizePartitioned(pool, null as never))).toBe('TESSERA_IMAGE_OPTION');
    expect(await codeOf(() => resizePartitioned(pool, { width: 10 } as never))).toBe('TESSERA_IMAGE_OPTION');
    expect(await codeOf(() => resizePartitioned(pool, { image: png, format: 'gif' } as never))).toBe('TESSERA_IMAGE_OPTION');
    expect(await codeOf(() => resizePartitioned(pool, { image: png, maxPixels: -1 }))).toBe('TESSERA_IMAGE_OPTION');
    expect(await codeOf(() => resizePartitioned(pool, { image: 7 } as never))).toBe('TESSERA_IMAGE_OPTION');
  });
});

describe('data that disagrees with its header or plan', () => {
  it('raw RGBA whose data length is not width*height*4 is TESSERA_IMAGE_SIZE on every task', async () => {
    const short = { data: new Uint8Array(12 * 8 * 4 - 4), width: 12, height: 8 };
    const long = { data: new Uint8Array(12 * 8 * 4 + 4), width: 12, height: 8 };
    for (const src of [short, long]) {
      expect(await codeOf(() => resize({ image: src, width: 4 }))).toBe('TESSERA_IMAGE_SIZE');
      expect(await codeOf(() => resizeRaw({ src, width: 4 }))).toBe('TESSERA_IMAGE_SIZE');
      expect(await codeOf(() => decodeShared({ image: src }))).toBe('TESSERA_IMAGE_SIZE');
      expect(await codeOf(() => encodeImage({ image: src }))).toBe('TESSERA_IMAGE_SIZE');
      expect(await codeOf(() => resizeRawPartitioner.split({ src, width: 4 }, 2))).toBe('TESSERA_IMAGE_SIZE');
    }
  });

  it('typed-array views with a byteOffset are read where they point', async () => {
    const img = noise(20, 10, 4);
    const backing = new Uint8Array(new SharedArrayBuffer(16 + img.data.length + 16));
    backing.set(img.data, 16);
    const view = { data: backing.subarray(16, 16 + img.data.length), width: 20, height: 10 };
    const expected = await resizeRaw({ src: img, width: 7, height: 5, fit: 'fill' });
    const got = await resizeRaw({ src: view, width: 7, height: 5, fit: 'fill' });
    expect(Buffer.from(got.data).equals(Buffer.from(expected.data))).toBe(true);
    // A band writing into a view with an offset leaves the bytes around it alone.
    const plan = createResizePlan({ srcWidth: 20, srcHeight: 10, width: 7, height: 5, fit: 'fill' });
    const dstBacking = new Uint8Array(new SharedArrayBuffer(8 + 7 * 5 * 4 + 8)).fill(0xee);
    await resizeBand({ plan, src: view.data, dst: dstBacking.subarray(8, 8 + 7 * 5 * 4), y0: 0, y1: 5 });
    expect(Buffer.from(dstBacking.subarray(8, 8 + 7 * 5 * 4)).equals(Buffer.from(expected.data))).toBe(true);
    expect([...dstBacking.subarray(0, 8), ...dstBacking.subarray(8 + 7 * 5 * 4)].every((b) => b === 0xee)).toBe(true);
  });

  describe('resizeBand with a forged plan, rows out of range, or buffers too small', () => {
    const img = noise(40, 30, 9);
    const plan = createResizePlan({ srcWidth: 40, srcHeight: 30, width: 16, height: 12, fit: 'contain', background: [1, 2, 3, 255] });
    const src = toShared(img).data;
    const whole = () => new Uint8Array(new SharedArrayBuffer(plan.dstWidth * plan.dstHeight * 4));
    const run = (p: unknown, extra: Record<string, unknown> = {}) => () =>
      resizeBand({ plan: p as ResizePlan, src, dst: whole(), y0: 0, y1: plan.dstHeight, ...extra });
    const table = (t: ResizePlan['x'], change: (t: { taps: number; starts: Int32Array; weights: Int16Array }) => void) => {
      const copy = { taps: t.taps, starts: t.starts.slice(), weights: t.weights.slice() };
      change(copy);
      return copy;
    };

    it('the genuine plan works, also after a structured clone', async () => {
      expect(await codeOf(run(plan))).toBe('no error');
      expect(await codeOf(run(structuredClone(plan)))).toBe('no error');
    });

    it('forged sizes and content rectangles are refused before any pixel is touched', async () => {
      const cases: Array<[string, unknown, string]> = [
        ['dstWidth larger than the tables', { ...plan, dstWidth: plan.dstWidth + 5 }, 'no error'],
        ['contentWidth not matching x table', { ...plan, contentWidth: plan.contentWidth - 1 }, 'TESSERA_IMAGE_OPTION'],
        ['content outside the output', { ...plan, contentX: plan.dstWidth }, 'TESSERA_IMAGE_SIZE'],
        ['negative contentY', { ...plan, contentY: -1 }, 'TESSERA_IMAGE_SIZE'],
        ['srcWidth 0', { ...plan, srcWidth: 0 }, 'TESSERA_IMAGE_SIZE'],
        ['srcWidth wider than the src rows', { ...plan, srcWidth: 41 }, 'TESSERA_IMAGE_SIZE'],
        ['huge dst (over maxPixels)', { ...plan, dstWidth: 100_000, dstHeight: 100_000 }, 'TESSERA_IMAGE_TOO_LARGE'],
        ['huge src (over maxPixels)', { ...plan, srcWidth: 100_000, srcHeight: 100_000 }, 'TESSERA_IMAGE_TOO_LARGE'],
        ['crop not numbers', { ...plan, crop: { x: 'a', y: 0, width: 1, height: 1 } }, 'TESSERA_IMAGE_OPTION'],
        ['unknown filter', { ...plan, filter: 'box' }, 'TESSERA_IMAGE_OPTION'],
      ];
      for (const [name, p, code] of cases) {
        // 'dstWidth larger' is consistent (wider letterbox) only with a matching dst: give it one.
        const extra = name.startsWith('dstWidth') ? { dst: new SharedArrayBuffer((plan.dstWidth + 5) * plan.dstHeight * 4) } : {};
        expect([name, await codeOf(run(p, extra))]).toEqual([name, code]);
      }
    });

    it('forged filter tables cannot read outside the source, step back, widen the ring, or overflow', async () => {
      const cases: Array<[string, ResizePlan['x'], ResizePlan['y']]> = [
        ['start past the source', table(plan.x, (t) => (t.starts[3] = 40)), plan.y],
        ['negative start', table(plan.x, (t) => (t.starts[0] = -1)), plan.y],
        ['start + taps past the source', plan.x, table(plan.y, (t) => (t.starts[plan.contentHeight - 1] = 30 - t.taps + 1))],
        ['stepping back by more than a window', table(plan.x, (t) => (t.starts[plan.contentWidth - 1] = 0)), plan.y],
        ['taps wider than any filter', { ...plan.x, taps: 40, weights: new Int16Array(plan.contentWidth * 40).fill(0) }, plan.y],
        ['taps 0', { ...plan.x, taps: 0 }, plan.y],
        ['weights short', table(plan.x, (t) => (t.weights = t.weights.subarray(1))), plan.y],
        ['weights not summing to one', table(plan.x, (t) => (t.weights[0] = (t.weights[0] ?? 0) + 1)), plan.y],
        // Sums to one, but +20000 and -20000 on two taps: sums of pixel x weight could leave int32.
        ['weights that would overflow int32', table(plan.x, (t) => { t.weights[5 * t.taps] = (t.weights[5 * t.taps] ?? 0) + 20000; t.weights[5 * t.taps + 1] = (t.weights[5 * t.taps + 1] ?? 0) - 20000; }), plan.y],
        ['starts as Float64Array', { ...plan.x, starts: Float64Array.from(plan.x.starts) as unknown as Int32Array }, plan.y],
        ['starts too short', table(plan.x, (t) => (t.starts = t.starts.subarray(1))), plan.y],
      ];
      for (const [name, x, y] of cases) {
        expect([name, await codeOf(run({ ...plan, x, y }))]).toEqual([name, 'TESSERA_IMAGE_OPTION']);
      }
    });

    it('rows out of range and buffers too small for the plan are TESSERA_IMAGE_SIZE, and nothing is written', async () => {
      const dst = whole().fill(7);
      const cases: Array<[string, Record<string, unknown>]> = [
        ['y1 past the output', { y1: plan.dstHeight + 1 }],
        ['y0 negative', { y0: -1 }],
        ['y0 after y1', { y0: 5, y1: 2 }],
        ['y0 fractional', { y0: 0.5 }],
        ['y1 NaN', { y1: NaN }],
        ['dst one byte short', { dst: new SharedArrayBuffer(plan.dstWidth * plan.dstHeight * 4 - 1) }],
        ['dst a band of the wrong rows', { dst: new SharedArrayBuffer(plan.dstWidth * 4), y0: 0, y1: 2 }],
        ['src a row short', { src: src.subarray(0, src.length - 40 * 4) }],
        ['src not whole rows', { src: src.subarray(0, src.length - 4) }],
        ['srcFirstRow past the rows the band needs', { srcFirstRow: 3 }],
        ['srcFirstRow negative', { srcFirstRow: -1 }],
      ];
      for (const [name, extra] of cases) {
        expect([name, await codeOf(() => resizeBand({ plan, src, dst: dst.buffer as SharedArrayBuffer, y0: 0, y1: plan.dstHeight, ...extra } as never))]).toEqual([name, 'TESSERA_IMAGE_SIZE']);
      }
      expect(dst.every((b) => b === 7)).toBe(true);
    });
  });

  it('readPlan accepts every plan createResizePlan makes (both filters, all fits, up and down, extreme ratios)', () => {
    const sizes = [1, 2, 3, 7, 64, 333, 1000];
    for (const sw of sizes) for (const sh of [1, 5, 900]) for (const w of sizes) for (const fit of ['cover', 'contain', 'fill'] as const) for (const filter of ['lanczos3', 'bilinear'] as const) {
      const plan = createResizePlan({ srcWidth: sw, srcHeight: sh, width: w, height: Math.max(1, (w * 3) >> 2), fit, filter });
      expect(() => readPlan(structuredClone(plan), 1e8)).not.toThrow();
    }
  });
});
