import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createResizePlan, splitRows, type PlanOptions } from '../workers/image/plan.ts';
import { createTsKernel, resizeBand, resizeImage } from '../workers/image/resample.ts';
import { getKernel, loadWasmKernel } from '../workers/image/wasm.ts';
import type { RawImage } from '../workers/image/types.ts';
import { alphaBlob, checkerboard, noise, prng, transparentEdge } from './fixtures/images/generate.ts';

// The committed module must load here (Node 20 has WASM SIMD); a silent fallback would hide a broken build.
const wasm = await loadWasmKernel();

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

describe('WASM SIMD kernel', () => {
  it('the committed kernel.wasm is what build-wasm.mjs produces from kernel.as.ts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-wasm-'));
    try {
      const out = join(dir, 'kernel.wasm');
      execFileSync(process.execPath, [fileURLToPath(new URL('../workers/image/build-wasm.mjs', import.meta.url)), out], { stdio: 'pipe' });
      const committed = readFileSync(new URL('../workers/image/wasm/kernel.wasm', import.meta.url));
      expect(Buffer.compare(readFileSync(out), committed)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads, and is what tasks use by default', async () => {
    expect(wasm).toBeDefined();
    expect(await getKernel()).toBeDefined();
  });

  const images: Array<[string, RawImage]> = [
    ['noise', noise(173, 131, 21)],
    ['alpha', alphaBlob(160, 120)],
    ['edge', transparentEdge(90, 40)],
    ['checker', checkerboard(128, 96, 3)],
  ];
  const shapes: Array<Omit<PlanOptions, 'srcWidth' | 'srcHeight'>> = [
    { width: 41, height: 29, fit: 'fill' },
    { width: 17, height: 60, fit: 'cover' },
    { width: 300, height: 211, fit: 'fill' },
    { width: 99, height: 99, fit: 'contain', background: [10, 20, 30, 40] },
    { width: 64, height: 31, fit: 'fill', filter: 'bilinear' },
    { width: 333, height: 77, fit: 'cover', filter: 'bilinear' },
    { width: 1, height: 1, fit: 'fill' },
    { width: 3, height: 250, fit: 'fill' },
  ];
  for (const [name, img] of images) {
    it(`${name}: byte-identical to the TS kernel over ${shapes.length} resizes`, () => {
      for (const shape of shapes) {
        const plan = createResizePlan({ srcWidth: img.width, srcHeight: img.height, ...shape });
        const ts = resizeImage(plan, img.data, { kernel: createTsKernel() });
        expect(same(resizeImage(plan, img.data, { kernel: wasm }), ts)).toBe(true);
      }
    });
  }

  it('random sizes and random pixels with random alpha match the TS kernel', () => {
    const rnd = prng(99);
    const ts = createTsKernel();
    for (let t = 0; t < 40; t++) {
      const sw = 1 + ((rnd() * 90) | 0);
      const sh = 1 + ((rnd() * 90) | 0);
      const data = new Uint8Array(sw * sh * 4);
      for (let i = 0; i < data.length; i++) data[i] = (rnd() * 256) | 0;
      const plan = createResizePlan({
        srcWidth: sw,
        srcHeight: sh,
        width: 1 + ((rnd() * 120) | 0),
        height: 1 + ((rnd() * 120) | 0),
        fit: (['cover', 'contain', 'fill'] as const)[(rnd() * 3) | 0],
        filter: rnd() < 0.5 ? 'lanczos3' : 'bilinear',
      });
      expect(same(resizeImage(plan, data, { kernel: wasm }), resizeImage(plan, data, { kernel: ts }))).toBe(true);
    }
  });

  it('worst-case Lanczos overshoot (period-3 stripes at 2x) stays in range and matches', () => {
    // 255,0,255 repeating puts full-scale values under every positive lobe at phase 0.5:
    // the largest int32 sums the kernels ever form. A wrap in WASM would break equality.
    const w = 60;
    const data = new Uint8Array(w * w * 4);
    for (let y = 0; y < w; y++) {
      for (let x = 0; x < w; x++) {
        const v = x % 3 === 1 || y % 3 === 1 ? 0 : 255;
        data.set([v, v, v, 255], (y * w + x) * 4);
      }
    }
    const plan = createResizePlan({ srcWidth: w, srcHeight: w, width: 2 * w, height: 2 * w, fit: 'fill' });
    const ts = resizeImage(plan, data, { kernel: createTsKernel() });
    expect(same(resizeImage(plan, data, { kernel: wasm }), ts)).toBe(true);
    // Overshoot is clamped, not wrapped: bright stripes stay bright.
    expect(ts[0]).toBeGreaterThan(200);
    expect(Math.max(...ts)).toBe(255);
  });

  it('bands with the WASM kernel match a single TS pass', () => {
    const img = noise(250, 190, 4);
    const plan = createResizePlan({ srcWidth: 250, srcHeight: 190, width: 77, height: 58, fit: 'fill' });
    const ref = resizeImage(plan, img.data, { kernel: createTsKernel() });
    for (const n of [1, 2, 3, 7, plan.dstHeight]) {
      const out = new Uint8Array(new SharedArrayBuffer(ref.length));
      for (const b of splitRows(plan, n)) resizeBand(plan, img.data, out, b.start, b.end, { kernel: wasm });
      expect(same(out, ref)).toBe(true);
    }
  });
});
