import { describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../src/index.ts';
import type * as ImageTasks from '../workers/image.ts';
import { resizeBand, resizeRaw } from '../workers/image.ts';
import { imagePartitions, resizePartitioned, resizeRawPartitioner } from '../workers/image/partition.ts';
import { bandQueue, createResizePlan, planBands, splitRows, type RowRange } from '../workers/image/plan.ts';
import { encode } from '../workers/image/codec.ts';
import { toShared } from '../workers/image/shared.ts';
import { noise } from './fixtures/images/generate.ts';
import { track } from './helpers.ts';

const imageModule = new URL('../workers/image.ts', import.meta.url);

function imagePool(threads: number, partitioned: boolean): Pool<typeof ImageTasks> {
  return track(
    createPool<typeof ImageTasks>({
      module: imageModule,
      minThreads: threads,
      maxThreads: threads,
      ...(partitioned ? { partitions: imagePartitions } : {}),
    }),
  );
}

describe('partitioned image resize through the pool', () => {
  const source = noise(403, 301, 7);
  const png = encode(source, { format: 'png' }) as Uint8Array;

  it('gives byte-identical pixels for every thread count, and the same as one unsplit thread', async () => {
    const single = imagePool(1, false);
    const src = await single.run('decodeShared', { image: png });
    expect(src.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    const reference = await single.run('resizeRaw', { src, width: 150, height: 97, fit: 'fill' });
    for (const threads of [1, 2, 3, 4]) {
      const pool = imagePool(threads, true);
      await pool.ready();
      const out = await pool.run('resizeRaw', { src, width: 150, height: 97, fit: 'fill' });
      expect(out.width).toBe(150);
      expect(out.height).toBe(97);
      // The bands wrote straight into shared memory: no pixel copy on the way back.
      expect(out.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(Buffer.from(out.data).equals(Buffer.from(reference.data))).toBe(true);
    }
  });

  it('resizePartitioned decodes, resizes in bands and encodes like the one-thread resize task', async () => {
    const pool = imagePool(3, true);
    const whole = await pool.run('resize', { image: png, width: 120, height: 80, fit: 'cover', format: 'raw' });
    const banded = await resizePartitioned(pool, { image: png, width: 120, height: 80, fit: 'cover', format: 'raw' });
    expect(banded.width).toBe(whole.width);
    expect(banded.height).toBe(whole.height);
    expect(Buffer.from(banded.data).equals(Buffer.from(whole.data))).toBe(true);
  });

  it('resizePartitioned to JPEG flattens alpha onto the background, like the one-thread resize task', async () => {
    // Half-transparent everywhere: a lost background shows as a different colour, not a small error.
    const halfClear = noise(64, 48, 3);
    for (let i = 3; i < halfClear.data.length; i += 4) halfClear.data[i] = 128;
    const image = encode(halfClear, { format: 'png' }) as Uint8Array;
    const pool = imagePool(2, true);
    const options = { image, width: 32, height: 24, fit: 'fill' as const, format: 'jpeg' as const, quality: 95, background: [0, 0, 255, 255] as const };
    const whole = await pool.run('resize', options);
    const banded = await resizePartitioned(pool, options);
    const [a, b] = await Promise.all(
      [whole, banded].map((out) => pool.run('resize', { image: out.data, width: 32, height: 24, fit: 'fill', format: 'raw' })),
    );
    // Same decoder and encoder on both paths: the pixels match closely, and both lean blue.
    let diff = 0;
    let blue = 0;
    for (let i = 0; i < a!.data.length; i += 4) {
      for (let c = 0; c < 3; c++) diff = Math.max(diff, Math.abs(a!.data[i + c]! - b!.data[i + c]!));
      blue += b!.data[i + 2]! - b!.data[i]!;
    }
    expect(diff).toBeLessThanOrEqual(2);
    expect(blue / (a!.data.length / 4)).toBeGreaterThan(40);
  });

  it('two concurrent runs with the same input object each merge their own bands', async () => {
    const single = imagePool(1, false);
    const src = await single.run('decodeShared', { image: png });
    const input = { src, width: 157, height: 91, fit: 'contain' as const, background: [10, 20, 30, 255] as const };
    const reference = await single.run('resizeRaw', input);
    const pool = imagePool(2, true);
    await pool.ready();
    // Both runs are admitted before either merges: each split sees the same input object.
    const [a, b] = await Promise.all([pool.run('resizeRaw', input), pool.run('resizeRaw', input)]);
    for (const out of [a, b]) {
      expect([out.width, out.height]).toEqual([157, 91]);
      expect(Buffer.from(out.data).equals(Buffer.from(reference.data))).toBe(true);
    }
    // Two runs, two output buffers: neither merge handed out the other's.
    expect(a.data.buffer).not.toBe(b.data.buffer);
  });

  it('corrupt input rejects with the image error code and leaves the pool usable', async () => {
    const pool = imagePool(2, true);
    const broken = png.slice(0, 40);
    await expect(resizePartitioned(pool, { image: broken, width: 10, height: 10 })).rejects.toMatchObject({
      code: expect.stringMatching(/^TESSERA_IMAGE_/),
    });
    const ok = await resizePartitioned(pool, { image: png, width: 10, height: 10, format: 'raw' });
    expect(ok.data.length).toBe(10 * 10 * 4);
  });
});

describe('resizeRaw partitioner on the main thread', () => {
  it('split copies no pixels: every part views the source, one shared output and one band queue; merge wraps that output', () => {
    const src = toShared(noise(400, 300, 3));
    const input = { src, width: 100, height: 75, fit: 'fill' as const };
    const parts = resizeRawPartitioner.split(input, 4);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.length).toBeLessThanOrEqual(4);
    for (const part of parts) {
      expect(part.src.buffer).toBe(src.data.buffer);
      expect(part.dst).toBe(parts[0]!.dst);
      expect(part.plan).toBe(parts[0]!.plan);
      // Every part may write any row: which rows it does is decided by the shared counter.
      expect([part.y0, part.y1]).toEqual([0, 75]);
      expect(part.bands).toBe(parts[0]!.bands);
    }
    const { edges, next } = parts[0]!.bands!;
    expect(next).toBeInstanceOf(SharedArrayBuffer);
    expect(new Int32Array(next)[0]).toBe(0);
    expect(edges[0]).toBe(0);
    expect(edges[edges.length - 1]).toBe(75);
    // More bands than parts, so the parts balance among themselves.
    expect(edges.length - 1).toBeGreaterThanOrEqual(parts.length);
    const merged = resizeRawPartitioner.merge([], input, parts);
    expect(merged.data.buffer).toBe(parts[0]!.dst);
    expect([merged.width, merged.height]).toEqual([100, 75]);
  });

  it('never returns more parts than asked, nor more parts than bands; one part is one plain band', () => {
    const src = toShared(noise(64, 48, 3));
    for (const asked of [1, 2, 3, 8, 64]) {
      for (const [w, h] of [[20, 15], [64, 48], [30, 200]] as const) {
        const parts = resizeRawPartitioner.split({ src, width: w, height: h, fit: 'fill' }, asked);
        expect(parts.length).toBeGreaterThanOrEqual(1);
        expect(parts.length).toBeLessThanOrEqual(asked);
        if (parts.length === 1) {
          expect(parts[0]!.bands).toBeUndefined();
          expect([parts[0]!.y0, parts[0]!.y1]).toEqual([0, h]);
        } else {
          expect(parts.length).toBeLessThanOrEqual(parts[0]!.bands!.edges.length - 1);
        }
      }
    }
  });
  it('keeps no state between split and merge: each merge reads only the parts it is given', () => {
    const src = toShared(noise(64, 48, 3));
    const input = { src, width: 20, height: 15 };
    const first = resizeRawPartitioner.split(input, 2);
    const second = resizeRawPartitioner.split(input, 3);
    // Merged in the other order, and one of them twice: each gets its own buffer every time.
    expect(resizeRawPartitioner.merge([], input, second).data.buffer).toBe(second[0]!.dst);
    expect(resizeRawPartitioner.merge([], input, first).data.buffer).toBe(first[0]!.dst);
    expect(resizeRawPartitioner.merge([], input, first).data.buffer).toBe(first[0]!.dst);
    expect(first[0]!.dst).not.toBe(second[0]!.dst);
    expect(() => resizeRawPartitioner.merge([], input, [])).toThrow(expect.objectContaining({ code: 'TESSERA_IMAGE_OPTION' }));
  });

  it('a source outside a SharedArrayBuffer runs as one band instead of being copied to every band', () => {
    const parts = resizeRawPartitioner.split({ src: noise(400, 300, 3), width: 100, height: 75 }, 4);
    expect(parts.map((p) => [p.y0, p.y1])).toEqual([[0, 75]]);
    expect(parts[0]!.bands).toBeUndefined();
  });
});

/** Bands cover [0, height) in order, without gaps or overlaps. */
function expectTiling(bands: RowRange[], height: number): void {
  expect(bands[0]!.start).toBe(0);
  expect(bands[bands.length - 1]!.end).toBe(height);
  for (let i = 0; i < bands.length; i++) {
    expect(bands[i]!.end).toBeGreaterThan(bands[i]!.start);
    if (i > 0) expect(bands[i]!.start).toBe(bands[i - 1]!.end);
  }
}

describe('band planning and work stealing', () => {
  it('planBands tiles the rows with bands that shrink towards the end, more of them than parts', () => {
    const plan = createResizePlan({ srcWidth: 4000, srcHeight: 3000, width: 1000, height: 750, fit: 'fill' });
    expect(planBands(plan, 1)).toEqual([{ start: 0, end: 750 }]);
    for (const parts of [2, 3, 4, 8, 16]) {
      const bands = planBands(plan, parts);
      expectTiling(bands, 750);
      expect(bands.length).toBeGreaterThan(parts);
      const sizes = bands.map((b) => b.end - b.start);
      // Non-increasing but for the first band, which takes what is left over (less than twice the next).
      for (let i = 2; i < sizes.length; i++) expect(sizes[i]).toBeLessThanOrEqual(sizes[i - 1]!);
      expect(sizes[0]).toBeLessThan(2 * sizes[1]!);
      // The last band is a small share of one part's work, so a slow part holds the others up little.
      expect(sizes[sizes.length - 1]! / (750 / parts)).toBeLessThan(0.5);
    }
    for (const [w, h] of [[1, 1], [3, 1], [1, 7], [7, 13], [640, 480], [17, 1000]] as const) {
      for (const parts of [2, 5, 64]) expectTiling(planBands(createResizePlan({ srcWidth: 640, srcHeight: 480, width: w, height: h, fit: 'fill' }), parts), h);
    }
  });

  it('byte-identical output for any band count and any order of taking, on the main thread', async () => {
    const source = toShared(noise(211, 173, 5));
    for (const target of [
      { width: 97, height: 61, fit: 'fill' as const },
      { width: 120, height: 90, fit: 'contain' as const, background: [1, 2, 3, 4] as const },
      { width: 300, height: 250, fit: 'cover' as const },
    ]) {
      const reference = await resizeRaw({ src: source, ...target });
      const plan = createResizePlan({ srcWidth: 211, srcHeight: 173, ...target });
      const height = plan.dstHeight;
      const splits = [1, 2, 3, 7, 16, height].map((n) => splitRows(plan, n));
      splits.push(planBands(plan, 2), planBands(plan, 5));
      for (const bands of splits) {
        const queue = bandQueue(bands);
        const dst = new SharedArrayBuffer(plan.dstWidth * height * 4);
        const part = { plan, src: source.data, dst, y0: 0, y1: height, bands: queue };
        // Three parts, interleaved by hand: each takes one band at a time until the queue is empty.
        const taken = await Promise.all([resizeBand(part), resizeBand(part), resizeBand(part)]);
        expect(taken.reduce((sum, t) => sum + t.bands, 0)).toBe(bands.length);
        expect(Buffer.from(new Uint8Array(dst)).equals(Buffer.from(reference.data))).toBe(true);
        // A part that starts after the queue ran dry does nothing.
        expect((await resizeBand(part)).bands).toBe(0);
      }
    }
  });

  it('through the pool: a big resize splits into more bands than threads, each taken once, same bytes as one thread', async () => {
    const single = imagePool(1, false);
    const big = toShared(noise(1200, 900, 11));
    const reference = await single.run('resizeRaw', { src: big, width: 300, height: 225, fit: 'fill' });
    for (const threads of [2, 3]) {
      const pool = imagePool(threads, true);
      await pool.ready();
      for (let i = 0; i < 3; i++) {
        const out = await pool.run('resizeRaw', { src: big, width: 300, height: 225, fit: 'fill' });
        expect(Buffer.from(out.data).equals(Buffer.from(reference.data))).toBe(true);
      }
    }
  });

  it('a band queue that would write outside the part, or a counter that is not a buffer, is refused', async () => {
    const source = toShared(noise(64, 48, 3));
    const plan = createResizePlan({ srcWidth: 64, srcHeight: 48, width: 32, height: 24, fit: 'fill' });
    const dst = new SharedArrayBuffer(32 * 24 * 4);
    const base = { plan, src: source.data, dst, y0: 0, y1: 24 };
    const next = new SharedArrayBuffer(4);
    for (const bands of [
      { next, edges: Int32Array.of(0, 30) },
      { next, edges: Int32Array.of(0, 12, 6, 24) },
      { next, edges: Int32Array.of(-1, 24) },
      { next, edges: Int32Array.of(0) },
      { next, edges: [0, 24] },
      { next: 3, edges: Int32Array.of(0, 24) },
      { next: new SharedArrayBuffer(2), edges: Int32Array.of(0, 24) },
    ]) {
      await expect(resizeBand({ ...base, bands } as never)).rejects.toMatchObject({ code: 'TESSERA_IMAGE_OPTION' });
    }
    await expect(resizeBand({ ...base, y0: 4, y1: 20, bands: { next, edges: Int32Array.of(0, 24) } })).rejects.toMatchObject({ code: 'TESSERA_IMAGE_OPTION' });
    expect(new Int32Array(next)[0]).toBe(0);
  });
});
