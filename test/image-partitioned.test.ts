import { describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../src/index.ts';
import type * as ImageTasks from '../workers/image.ts';
import { imagePartitions, resizePartitioned, resizeRawPartitioner } from '../workers/image/partition.ts';
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
  it('split copies no pixels: every band views the source and one shared output; merge wraps that output', () => {
    const src = toShared(noise(64, 48, 3));
    const input = { src, width: 20, height: 15, fit: 'fill' as const };
    const parts = resizeRawPartitioner.split(input, 4);
    expect(parts.map((p) => [p.y0, p.y1])).toEqual([[0, 3], [3, 7], [7, 11], [11, 15]]);
    for (const part of parts) {
      expect(part.src.buffer).toBe(src.data.buffer);
      expect(part.dst).toBe(parts[0]!.dst);
      expect(part.plan).toBe(parts[0]!.plan);
    }
    const merged = resizeRawPartitioner.merge([], input, parts);
    expect(merged.data.buffer).toBe(parts[0]!.dst);
    expect([merged.width, merged.height]).toEqual([20, 15]);
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
    const parts = resizeRawPartitioner.split({ src: noise(64, 48, 3), width: 20, height: 15 }, 4);
    expect(parts.map((p) => [p.y0, p.y1])).toEqual([[0, 15]]);
  });
});
