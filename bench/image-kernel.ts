/**
 * Resampling kernel throughput: a 4000x3000 synthetic RGBA image resized to
 * 1000x750 with lanczos3 on the main thread, ours (TS, and WASM SIMD when its
 * module is built) versus sharp limited to one thread. Same raw input for all.
 *
 *   node --import tsx bench/image-kernel.ts [--runs 5]
 */
import sharp from 'sharp';
import { createResizePlan } from '../workers/image/plan.ts';
import { resizeImage } from '../workers/image/resample.ts';
import { loadWasmKernel } from '../workers/image/wasm.ts';

const SRC_W = 4000;
const SRC_H = 3000;
const DST_W = 1000;
const DST_H = 750;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

function synthetic(width: number, height: number): Uint8Array {
  // Smooth gradients plus hashed noise, so neither codec shortcuts nor caches flatter anyone.
  const data = new Uint8Array(width * height * 4);
  let s = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const i = (y * width + x) * 4;
      data[i] = (x * 255) / width + (s & 15);
      data[i + 1] = (y * 255) / height + ((s >>> 8) & 15);
      data[i + 2] = ((x + y) * 127) / (width + height) + ((s >>> 16) & 31);
      data[i + 3] = 255;
    }
  }
  return data;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function time(label: string, fn: () => unknown | Promise<unknown>): Promise<number> {
  await fn(); // warm-up: JIT, WASM compile, sharp's first-call setup
  const mps: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    mps.push((SRC_W * SRC_H) / 1e6 / secs);
  }
  const med = median(mps);
  console.log(`${label.padEnd(22)} median ${med.toFixed(1)} input MP/s  (runs: ${mps.map((v) => v.toFixed(1)).join(', ')})`);
  return med;
}

const src = synthetic(SRC_W, SRC_H);
const plan = createResizePlan({ srcWidth: SRC_W, srcHeight: SRC_H, width: DST_W, height: DST_H, fit: 'fill', filter: 'lanczos3' });
console.log(`${SRC_W}x${SRC_H} -> ${DST_W}x${DST_H} lanczos3, ${RUNS} runs, node ${process.version}`);

const ts = await time('tessera TS kernel', () => resizeImage(plan, src));
const wasmKernel = await loadWasmKernel();
const wasm = wasmKernel ? await time('tessera WASM kernel', () => resizeImage(plan, src, { kernel: wasmKernel })) : undefined;
if (!wasmKernel) console.log('tessera WASM kernel    not available (module missing or no WASM SIMD)');

sharp.concurrency(1);
sharp.cache(false);
const sh = await time('sharp (1 thread)', () =>
  sharp(src, { raw: { width: SRC_W, height: SRC_H, channels: 4 } })
    .resize(DST_W, DST_H, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer(),
);

// Figures only count if the outputs are right: WASM must equal TS byte for byte, and both must track sharp.
const tsOut = resizeImage(plan, src);
if (wasmKernel && Buffer.compare(Buffer.from(resizeImage(plan, src, { kernel: wasmKernel })), Buffer.from(tsOut)) !== 0) {
  throw new Error('WASM and TS kernels disagree');
}
const sharpOut = await sharp(src, { raw: { width: SRC_W, height: SRC_H, channels: 4 } })
  .resize(DST_W, DST_H, { kernel: 'lanczos3', fit: 'fill' })
  .raw()
  .toBuffer();
let se = 0;
for (let i = 0; i < tsOut.length; i += 4) {
  for (let c = 0; c < 3; c++) se += ((tsOut[i + c] ?? 0) - (sharpOut[i + c] ?? 0)) ** 2;
}
console.log(`PSNR ours vs sharp (RGB) ${(10 * Math.log10((255 * 255) / (se / ((tsOut.length / 4) * 3)))).toFixed(1)} dB`);
console.log(`ratio TS/sharp   ${(ts / sh).toFixed(2)}x`);
if (wasm !== undefined) console.log(`ratio WASM/sharp ${(wasm / sh).toFixed(2)}x`);
