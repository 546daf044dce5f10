/**
 * CMYK/YCCK and 12-bit JPEGs are a variant the decoder cannot read (an 8-bit MozJPEG build whose
 * only output is RGBA): TESSERA_IMAGE_FORMAT from the frame header, with a message saying what to
 * convert them to, never TESSERA_IMAGE_CORRUPT (the bytes are fine) and never a codec's raw wording.
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createPool } from '../src/index.ts';
import type * as ImageTasks from '../workers/image.ts';
import { ImageErrorCodes, decodeShared, resize, thumbnails } from '../workers/image.ts';
import { decode, encode } from '../workers/image/codec.ts';
import { imageModule } from '../workers/image/partition.ts';
import { probe } from '../workers/image/probe.ts';
import { jpegSof } from './fixtures/images/forge.ts';
import { smooth } from './fixtures/images/generate.ts';
import { errorOf, imagePools } from './image-helpers.ts';

const rgb = encode(smooth(64, 48), { format: 'jpeg', quality: 90 }) as Uint8Array;
const progressive = new Uint8Array(await sharp(Buffer.from(rgb)).jpeg({ progressive: true }).toBuffer());
// sharp writes CMYK as libjpeg does: four components and an Adobe APP14 marker (transform 0).
const cmyk = new Uint8Array(await sharp(Buffer.from(rgb)).toColourspace('cmyk').jpeg().toBuffer());

/** The CMYK file relabelled YCCK (Adobe transform 2), as Photoshop writes CMYK. */
function asYcck(jpeg: Uint8Array): Uint8Array {
  const out = jpeg.slice();
  const app14 = out.findIndex((b, i) => b === 0xff && out[i + 1] === 0xee && String.fromCharCode(...out.subarray(i + 4, i + 9)) === 'Adobe');
  if (app14 < 0) throw new Error('no Adobe marker');
  out[app14 + 15] = 2;
  return out;
}

/** The JPEG's frame header declaring 12-bit samples (SOF0 becomes SOF1: baseline allows only 8). */
function twelveBit(jpeg: Uint8Array): Uint8Array {
  const out = jpeg.slice();
  const sof = jpegSof(out);
  if (out[sof + 1] === 0xc0) out[sof + 1] = 0xc1;
  out[sof + 4] = 12;
  return out;
}

const pools = imagePools();

describe('JPEG variants the decoder cannot read', () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['CMYK', cmyk, /CMYK or YCCK/],
    ['YCCK', asYcck(cmyk), /CMYK or YCCK/],
    ['12-bit extended sequential', twelveBit(rgb), /12-bit samples/],
    ['12-bit progressive', twelveBit(progressive), /12-bit samples/],
  ];

  it('the fixtures are what they claim: sharp reads the CMYK file as 4-channel CMYK', async () => {
    expect(await sharp(Buffer.from(cmyk)).metadata()).toMatchObject({ format: 'jpeg', space: 'cmyk', channels: 4 });
  });

  for (const [name, bytes, reason] of cases) {
    it(`${name}: TESSERA_IMAGE_FORMAT from the header, on every path, with what to convert it to`, async () => {
      const runs: Array<[string, () => unknown]> = [
        ['probe', () => probe(bytes, 1e8)],
        ['decode', () => decode(bytes)],
        ['decodeShared', () => decodeShared({ image: bytes })],
        ['resize, shrunk on load', () => resize({ image: bytes, width: 8 })],
        ['resize, full size', () => resize({ image: bytes, width: 8, shrinkOnLoad: false })],
        ['thumbnails', () => thumbnails({ image: bytes, sizes: [{ width: 8, height: 8 }] })],
      ];
      for (const [path, run] of runs) {
        const err = await errorOf(run);
        expect([path, err?.code]).toEqual([path, ImageErrorCodes.FORMAT]);
        expect(err?.message).toMatch(reason);
        expect(err?.message).toMatch(/convert it to an 8-bit RGB JPEG or to PNG/);
      }
    });
  }

  it('a precision no DCT JPEG has (not 8 or 12) is damage: CORRUPT', async () => {
    for (const precision of [0, 7, 16, 255]) {
      const forged = twelveBit(rgb);
      forged[jpegSof(forged) + 4] = precision;
      expect([precision, (await errorOf(() => decode(forged)))?.code]).toEqual([precision, ImageErrorCodes.CORRUPT]);
    }
  });

  it('through a pool: the code survives the thread, and the thread goes on decoding RGB JPEGs', async () => {
    const pool = createPool<typeof ImageTasks>({ module: imageModule, maxThreads: 1 });
    pools.push(pool);
    for (const [, bytes] of cases) {
      await expect(pool.run('resize', { image: bytes, width: 16, format: 'jpeg' })).rejects.toMatchObject({ name: 'ImageError', code: ImageErrorCodes.FORMAT });
    }
    expect((await pool.run('resize', { image: rgb, width: 16, format: 'jpeg' })).width).toBe(16);
  });
});
