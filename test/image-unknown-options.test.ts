/**
 * An own key a task does not know is TESSERA_IMAGE_OPTION, named in the message with the known key
 * it is closest to: a misspelt option (`fromat`, `widht`, `quailty`) used to be dropped, and the
 * task ran with the default. Every documented field is still accepted, and raw images may carry
 * more than { data, width, height } (a `format: 'raw'` result is one).
 */
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/index.ts';
import type * as ImageTasks from '../workers/image.ts';
import { decodeShared, encodeImage, resize, resizeBand, resizeRaw, thumbnails } from '../workers/image.ts';
import { encode } from '../workers/image/codec.ts';
import { imageModule, imagePartitions, resizePartitioned, resizeRawPartitioner, type ImagePool } from '../workers/image/partition.ts';
import { createResizePlan } from '../workers/image/plan.ts';
import { toShared } from '../workers/image/shared.ts';
import { gradient } from './fixtures/images/generate.ts';
import { errorOf, imagePools } from './image-helpers.ts';

const raw = gradient(12, 8);
const png = encode(gradient(64, 48), { format: 'png' }) as Uint8Array;
const plan = createResizePlan({ srcWidth: 12, srcHeight: 8, width: 6, height: 4, fit: 'fill' });
const band = (): Record<string, unknown> => ({ plan, src: toShared(raw).data, dst: new SharedArrayBuffer(6 * 4 * 4), y0: 0, y1: 4 });
// The main-thread checks must refuse before the pool is used.
const untouchable = new Proxy({}, { get: () => { throw new Error('the pool must not be touched'); } }) as ImagePool;

const pools = imagePools();

describe('unknown keys of task inputs and options', () => {
  // [task, run, a valid input, a misspelt key and its value, the key the message should suggest]
  const cases: Array<[string, (input: unknown) => unknown, () => Record<string, unknown>, string, unknown, string]> = [
    ['resize', (i) => resize(i as never), () => ({ image: png, width: 10 }), 'fromat', 'jpeg', 'format'],
    ['resize', (i) => resize(i as never), () => ({ image: png }), 'widht', 64, 'width'],
    ['resize', (i) => resize(i as never), () => ({ image: png, width: 10, format: 'webp' }), 'quailty', 20, 'quality'],
    ['resize', (i) => resize(i as never), () => ({ image: png, width: 10 }), 'maxpixels', 5, 'maxPixels'],
    ['resize', (i) => resize(i as never), () => ({ image: png, width: 10 }), 'shrinkOnload', false, 'shrinkOnLoad'],
    ['thumbnails', (i) => thumbnails(i as never), () => ({ image: png, sizes: [{ width: 4, height: 4 }] }), 'size', [], 'sizes'],
    ['decodeShared', (i) => decodeShared(i as never), () => ({ image: png }), 'orientaton', 'keep', 'orientation'],
    ['resizeRaw', (i) => resizeRaw(i as never), () => ({ src: raw, width: 5 }), 'heigth', 3, 'height'],
    ['resizeRaw split', (i) => resizeRawPartitioner.split(i as never, 2), () => ({ src: toShared(raw), width: 5 }), 'fil', 'fill', 'fit'],
    ['resizeBand', (i) => resizeBand(i as never), band, 'y2', 4, 'y0'],
    ['encodeImage', (i) => encodeImage(i as never), () => ({ image: raw }), 'backgrond', [0, 0, 0, 255], 'background'],
    ['resizePartitioned', (i) => resizePartitioned(untouchable, i as never), () => ({ image: png, width: 10 }), 'filtre', 'bilinear', 'filter'],
  ];

  for (const [task, run, valid, key, value, near] of cases) {
    it(`${task}: \`${key}\` is TESSERA_IMAGE_OPTION naming it and suggesting \`${near}\``, async () => {
      const err = await errorOf(() => run({ ...valid(), [key]: value }));
      expect(err?.code).toBe('TESSERA_IMAGE_OPTION');
      expect(err?.message).toContain(`"${key}"`);
      expect(err?.message).toContain(`did you mean \`${near}\`?`);
    });
  }

  it('thumbnails: an unknown key of one size is refused too, with its index', async () => {
    const err = await errorOf(() => thumbnails({ image: png, sizes: [{ width: 4, height: 4 }, { width: 4, height: 4, fti: 'contain' }] } as never));
    expect(err?.code).toBe('TESSERA_IMAGE_OPTION');
    expect(err?.message).toMatch(/sizes\[1\] has no option "fti" \(did you mean `fit`\?\)/);
    // `fit` belongs to each size, not to the task.
    expect((await errorOf(() => thumbnails({ image: png, sizes: [{ width: 4, height: 4 }], fit: 'contain' } as never)))?.code).toBe('TESSERA_IMAGE_OPTION');
  });

  it('a key close to nothing is named without a suggestion; the expected shape is shown', async () => {
    const err = await errorOf(() => resize({ image: png, width: 10, banana: 1 } as never));
    expect(err?.code).toBe('TESSERA_IMAGE_OPTION');
    expect(err?.message).toContain('"banana"');
    expect(err?.message).not.toContain('did you mean');
    expect(err?.message).toContain('{ image, width?, height?');
    // A field of another task is unknown here too.
    expect((await errorOf(() => encodeImage({ image: raw, width: 10 } as never)))?.code).toBe('TESSERA_IMAGE_OPTION');
  });

  it('a Proxy whose key listing throws, or lists an unknown key, is TESSERA_IMAGE_OPTION, never a crash', async () => {
    const throwing = new Proxy({ image: png, width: 10 }, { ownKeys: () => { throw new Error('no keys'); } });
    const err = await errorOf(() => resize(throwing));
    expect(err?.code).toBe('TESSERA_IMAGE_OPTION');
    expect((err?.cause as Error).message).toBe('no keys');
    const descriptorThrows = new Proxy({ image: png, width: 10 }, { getOwnPropertyDescriptor: () => { throw new Error('no descriptor'); } });
    expect((await errorOf(() => resize(descriptorThrows)))?.code).toBe('TESSERA_IMAGE_OPTION');
    const lying = new Proxy({ image: png, width: 10 }, { ownKeys: () => ['image', 'width', 'fromat'], getOwnPropertyDescriptor: () => ({ value: 1, enumerable: true, configurable: true }) });
    expect((await errorOf(() => resize(lying)))?.message).toContain('did you mean `format`?');
  });

  it('symbol keys, non-enumerable keys and extra keys of a raw image are not refused', async () => {
    const input = Object.defineProperty({ image: png, width: 10, [Symbol('trace')]: 1 }, 'hidden', { value: 1, enumerable: false });
    expect((await resize(input)).width).toBe(10);
    const rawOut = await resize({ image: png, width: 8, format: 'raw' });
    expect(Object.keys(rawOut)).toContain('format');
    expect(encodeImage({ image: rawOut, format: 'png' }).width).toBe(8);
  });

  it('every documented field of every task is accepted', async () => {
    const options = { format: 'jpeg', quality: 80, filter: 'bilinear', maxPixels: 1_000_000, background: [1, 2, 3, 255], orientation: 'keep', shrinkOnLoad: false } as const;
    expect((await resize({ image: png, width: 16, height: 12, fit: 'contain', ...options })).format).toBe('jpeg');
    expect((await thumbnails({ image: png, sizes: [{ width: 8, height: 8, fit: 'fill' }], ...options }))[0]?.width).toBe(8);
    expect(decodeShared({ image: png, maxPixels: 1_000_000, orientation: 'keep' }).width).toBe(64);
    expect((await resizeRaw({ src: raw, width: 6, height: 4, fit: 'fill', filter: 'bilinear', background: [0, 0, 0, 0], maxPixels: 1000, shrinkOnLoad: true })).width).toBe(6);
    const [part] = resizeRawPartitioner.split({ src: toShared(raw), width: 6, height: 4, fit: 'contain', filter: 'lanczos3', background: [0, 0, 0, 0], maxPixels: 1000, shrinkOnLoad: true }, 1);
    expect(await resizeBand({ ...(part as NonNullable<typeof part>), srcFirstRow: 0 })).toMatchObject({ y0: 0, y1: 4 });
    expect(encodeImage({ image: raw, format: 'webp', quality: 70, maxPixels: 1000, background: [0, 0, 0, 255] }).format).toBe('webp');
    const pool = createPool<typeof ImageTasks>({ module: imageModule, partitions: imagePartitions, maxThreads: 2 });
    pools.push(pool);
    const out = await resizePartitioned(pool, { image: png, width: 16, height: 12, fit: 'cover', filter: 'bilinear', background: [0, 0, 0, 0], maxPixels: 1_000_000, format: 'jpeg', quality: 80, shrinkOnLoad: true });
    expect([out.format, out.width, out.height]).toEqual(['jpeg', 16, 12]);
  });

  it('through a pool: the misspelt fields of the report reject with a code and message that survive the thread', async () => {
    const pool = createPool<typeof ImageTasks>({ module: imageModule, maxThreads: 1 });
    pools.push(pool);
    for (const [input, near] of [
      [{ image: png, width: 64, fromat: 'jpeg' }, 'format'],
      [{ image: png, widht: 64 }, 'width'],
      [{ image: png, width: 64, quailty: 20, format: 'webp' }, 'quality'],
    ] as const) {
      await expect(pool.run('resize', input as never)).rejects.toMatchObject({ name: 'ImageError', code: 'TESSERA_IMAGE_OPTION', message: expect.stringContaining(`did you mean \`${near}\`?`) });
    }
    expect((await pool.run('resize', { image: png, width: 32, format: 'jpeg' })).format).toBe('jpeg');
  });
});
