/**
 * Codec candidates side by side: ms per photo for decode and encode, median of several runs.
 *
 *   node --import tsx bench/codecs.ts [dir-or-files...] [--runs 5]
 *
 * Default photos: /usr/share/backgrounds/mate/nature/*.jpg (`apt-get install -y mate-backgrounds`).
 * JPEG: jpeg-js against MozJPEG (@jsquash/jpeg, wasm), decode at full size and encode of a 256 px
 * thumbnail and of the full image. PNG: pngjs against @jsquash/png (wasm) on a PNG made from the
 * photo. WebP: libwebp (@jsquash/webp) encode for reference. Shrink-on-load: the decode a 256 px
 * thumbnail gets (the scan walk of jpeg-scan.ts, then libvips at 1/2, 1/4 or 1/8; a progressive JPEG
 * falls back to the full-size decode), and the walk alone. Then the whole thumbnail on one thread:
 * tessera's resize task (JPEG -> 256 px JPEG), with and without shrink-on-load, against sharp
 * (libvips, native, concurrency 1) when installed.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type * as JpegModule from 'jpeg-js';
import type { PNG as PngClass } from 'pngjs';
import { jpegDecoder, jpegEncoder, mozjpegOptions, webpEncoder, webpOptions } from '../workers/image/wasm-codecs.ts';
import { decode as tesseraDecode, decodeToFit, encode as tesseraEncode } from '../workers/image/codec.ts';
import { scanVerdict } from '../workers/image/jpeg-scan.ts';
import { resize as tesseraResize } from '../workers/image.ts';

const require = createRequire(import.meta.url);
const jpeg = require('jpeg-js') as typeof JpegModule;
const { PNG } = require('pngjs') as { PNG: typeof PngClass };

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
const paths = args.filter((a, i) => !a.startsWith('--') && (runsAt < 0 || i !== runsAt + 1));
const inputs = paths.length > 0 ? paths : ['/usr/share/backgrounds/mate/nature'];
const files = inputs.flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).filter((f) => /\.jpe?g$/i.test(f)).map((f) => join(p, f)) : [p]));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}
function time(fn: () => unknown): number {
  fn(); // warm-up (JIT tiers, wasm tier-up)
  const t: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now();
    await fn();
    if (i > 0) t.push(performance.now() - t0);
  }
  return median(t);
}

/** A 256 px-wide thumbnail by nearest neighbour (the resize itself is not what is measured here). */
function shrink(img: { data: Uint8Array | Uint8ClampedArray; width: number; height: number }, w: number) {
  const h = Math.max(1, Math.round((img.height * w) / img.width));
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    const sy = Math.floor((y * img.height) / h);
    for (let x = 0; x < w; x++) {
      const s = (sy * img.width + Math.floor((x * img.width) / w)) * 4;
      data.set(img.data.subarray(s, s + 4), (y * w + x) * 4);
    }
  }
  return { data, width: w, height: h };
}

let sharp: ((b: Uint8Array) => { resize(w: number): { jpeg(o: object): { toBuffer(): Promise<Buffer> } } }) & { concurrency(n: number): void; cache(b: boolean): void } | undefined;
try {
  sharp = require('sharp');
  sharp?.concurrency(1);
  sharp?.cache(false);
} catch {
  sharp = undefined;
}

// @jsquash/png (wasm-bindgen) instantiated synchronously from the wasm on disk.
type SquooshPng = { initSync(m: Uint8Array): unknown; decode(d: Uint8Array): unknown; encode(d: Uint8Array | Uint8ClampedArray, w: number, h: number, depth: number): Uint8Array };
let squooshPng: SquooshPng | undefined;
try {
  const m = (await import('@jsquash/png/codec/pkg/squoosh_png.js')) as unknown as SquooshPng;
  m.initSync(readFileSync(require.resolve('@jsquash/png/codec/pkg/squoosh_png_bg.wasm')));
  squooshPng = m;
} catch (err) {
  console.error('no @jsquash/png:', err);
}

const rows: Record<string, string | number>[] = [];
for (const file of files) {
  const bytes = new Uint8Array(readFileSync(file));
  const ref = jpegDecoder.call((c) => c.decode(bytes, false)).result;
  if (ref === null) throw new Error(`${file}: MozJPEG could not decode it`);
  const thumb = shrink(ref, 256);
  const row: Record<string, string | number> = { photo: file.split('/').pop() ?? file, MP: +((ref.width * ref.height) / 1e6).toFixed(1) };
  row['dec jpeg-js'] = time(() => jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 }));
  row['dec mozjpeg'] = time(() => jpegDecoder.call((c) => c.decode(bytes, false)));
  row['dec tessera'] = time(() => tesseraDecode(bytes));
  row['enc256 jpeg-js'] = time(() => jpeg.encode(thumb, 85));
  row['enc256 mozjpeg'] = time(() => jpegEncoder.call((c) => c.encode(thumb.data, thumb.width, thumb.height, mozjpegOptions(85))));
  row['enc256 mozjpeg-prog'] = time(() =>
    jpegEncoder.call((c) => c.encode(thumb.data, thumb.width, thumb.height, { ...mozjpegOptions(85), progressive: true, trellis_multipass: false, trellis_loops: 1, trellis_opt_zero: false, trellis_opt_table: false })),
  );
  row['enc256 webp'] = time(() => webpEncoder.call((c) => c.encode(thumb.data, thumb.width, thumb.height, webpOptions(80))));
  row['encfull jpeg-js'] = time(() => jpeg.encode({ data: ref.data as Uint8Array, width: ref.width, height: ref.height }, 85));
  row['encfull mozjpeg'] = time(() => jpegEncoder.call((c) => c.encode(ref.data, ref.width, ref.height, mozjpegOptions(85))));
  // PNG from the photo: pngjs (zlib, native deflate) vs @jsquash/png (Rust png crate, wasm).
  const png = PNG.sync.write({ width: ref.width, height: ref.height, data: Buffer.from(ref.data.buffer, ref.data.byteOffset, ref.data.byteLength) } as unknown as PngClass, { colorType: 6 });
  row['png dec pngjs'] = time(() => PNG.sync.read(png));
  row['png enc256 pngjs'] = time(() => tesseraEncode(thumb, { format: 'png' }));
  if (squooshPng !== undefined) {
    const sq = squooshPng;
    row['png dec wasm'] = time(() => sq.decode(new Uint8Array(png)));
    row['png enc256 wasm'] = time(() => sq.encode(thumb.data, thumb.width, thumb.height, 8));
    row['png encfull pngjs'] = time(() => tesseraEncode({ data: new Uint8Array(ref.data.buffer), width: ref.width, height: ref.height }, { format: 'png' }));
    row['png encfull wasm'] = time(() => sq.encode(new Uint8Array(ref.data.buffer), ref.width, ref.height, 8));
  }
  row['scan walk'] = time(() => scanVerdict(bytes));
  row['dec for 256 px (shrink-on-load)'] = await timeAsync(() => decodeToFit(bytes, {}, [{ width: 256, height: undefined, fit: 'cover' }]));
  // The whole task on this thread: decode, Lanczos to 256 px wide, encode JPEG q85.
  row['tessera jpeg->256 jpeg'] = await timeAsync(() => tesseraResize({ image: bytes, width: 256, format: 'jpeg', quality: 85 }));
  row['tessera jpeg->256 jpeg, full decode'] = await timeAsync(() => tesseraResize({ image: bytes, width: 256, format: 'jpeg', quality: 85, shrinkOnLoad: false }));
  if (sharp !== undefined) {
    const s = sharp;
    const t: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const t0 = performance.now();
      await s(bytes).resize(256).jpeg({ quality: 85 }).toBuffer();
      if (i > 0) t.push(performance.now() - t0);
    }
    row['sharp jpeg->256 jpeg'] = median(t);
  }
  for (const k of Object.keys(row)) if (typeof row[k] === 'number' && k !== 'MP') row[k] = +(row[k] as number).toFixed(1);
  rows.push(row);
  console.error(JSON.stringify(row));
}
console.table(rows);
const keys = Object.keys(rows[0] ?? {}).filter((k) => k !== 'photo' && k !== 'MP');
console.log('median over photos (ms):', Object.fromEntries(keys.map((k) => [k, median(rows.map((r) => r[k] as number))])));
