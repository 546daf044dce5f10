/**
 * Loader for the WASM SIMD row kernel (wasm/kernel.wasm, built from
 * wasm/kernel.as.ts by build-wasm.mjs). It implements the same RowKernel
 * contract as the TS kernel and produces identical bytes; when the module is
 * missing or the runtime lacks WASM SIMD, callers fall back to the TS kernel.
 */
import { readFile } from 'node:fs/promises';
import type { ResizePlan } from './plan.ts';
import { createTsKernel, type PixelBuffer, type RowKernel } from './resample.ts';

// Minimal WebAssembly typings: the repo's lib settings (no DOM) do not declare the global.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: unknown } }>;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface KernelExports {
  memory: WasmMemory;
  hrow(src: number, cols: number, pre: number, starts: number, weights: number, taps: number, cw: number, out: number): void;
  vrow(slots: number, wv: number, taps: number, n: number, out: number): void;
}

// Scratch starts above the first 64 KiB, which AssemblyScript keeps for its stack and statics.
const BASE = 65536;
const align16 = (n: number): number => (n + 15) & ~15;

function wrap(ex: KernelExports): RowKernel {
  const mem = ex.memory;
  let u8 = new Uint8Array(mem.buffer);
  let i16 = new Int16Array(mem.buffer);
  let i32 = new Int32Array(mem.buffer);
  let p: ResizePlan | undefined;
  let cols = 0;
  let cw = 0;
  let stride = 0; // bytes per ring row (pixels rounded up to even, 8 bytes each)
  let startsPtr = 0;
  let xwPtr = 0;
  let wvPtr = 0;
  let slotsPtr = 0;
  let srcPtr = 0;
  let prePtr = 0;
  let ringPtr = 0;
  let outPtr = 0;
  let firstRow = 0;

  function ensure(bytes: number): void {
    if (bytes > mem.buffer.byteLength) mem.grow(Math.ceil((bytes - mem.buffer.byteLength) / 65536));
    if (u8.buffer !== mem.buffer || u8.length === 0) {
      u8 = new Uint8Array(mem.buffer);
      i16 = new Int16Array(mem.buffer);
      i32 = new Int32Array(mem.buffer);
    }
  }

  return {
    begin(plan, c0, c1, ringRows, cy0, cy1) {
      firstRow = cy0;
      p = plan;
      cols = c1 - c0;
      cw = plan.contentWidth;
      const evenW = cw + (cw & 1);
      stride = evenW * 8;
      const xt = plan.x;
      const yt = plan.y;
      startsPtr = BASE;
      xwPtr = align16(startsPtr + cw * 4);
      wvPtr = align16(xwPtr + cw * xt.taps * 4);
      slotsPtr = align16(wvPtr + (cy1 - cy0) * yt.taps * 16);
      srcPtr = align16(slotsPtr + yt.taps * 4);
      prePtr = align16(srcPtr + cols * 4);
      ringPtr = align16(prePtr + cols * 16);
      outPtr = align16(ringPtr + ringRows * stride);
      ensure(outPtr + evenW * 4 + 16);
      for (let x = 0; x < cw; x++) i32[(startsPtr >> 2) + x] = ((xt.starts[x] ?? 0) - c0) * 16;
      i32.set(xt.weights, xwPtr >> 2);
      // Vertical weights pre-splatted to i16x8 so the inner loop is one load per tap.
      const yw = yt.weights.subarray(cy0 * yt.taps, cy1 * yt.taps);
      for (let i = 0, o = wvPtr >> 1; i < yw.length; i++, o += 8) i16.fill(yw[i] ?? 0, o, o + 8);
      // The odd pixel of each ring row is read by the 2-pixel loop; keep it defined.
      u8.fill(0, ringPtr, outPtr);
    },

    hRow(src: PixelBuffer, off: number, slot: number) {
      const plan = p as ResizePlan;
      u8.set(src.subarray(off, off + cols * 4), srcPtr);
      ex.hrow(srcPtr, cols, prePtr, startsPtr, xwPtr, plan.x.taps, cw, ringPtr + slot * stride);
    },

    vRow(slots: Int32Array, cy: number, dst: PixelBuffer, off: number) {
      const taps = (p as ResizePlan).y.taps;
      for (let k = 0; k < taps; k++) i32[(slotsPtr >> 2) + k] = ringPtr + (slots[k] ?? 0) * stride;
      ex.vrow(slotsPtr, wvPtr + (cy - firstRow) * taps * 16, taps, cw, outPtr);
      dst.set(u8.subarray(outPtr, outPtr + cw * 4), off);
    },
  };
}

/** Instantiates a fresh WASM row kernel, or undefined when the module is missing or unsupported. */
export async function loadWasmKernel(): Promise<RowKernel | undefined> {
  try {
    const bytes = await readFile(new URL('./wasm/kernel.wasm', import.meta.url));
    const { instance } = await WA.instantiate(bytes, {});
    return wrap(instance.exports as unknown as KernelExports);
  } catch {
    // No SIMD support or no built module: the TS kernel gives the same bytes, only slower.
    return undefined;
  }
}

let shared: Promise<RowKernel> | undefined;

/**
 * The kernel tasks use: WASM when available, else TS. Set TESSERA_IMAGE_KERNEL=ts to
 * force the TS kernel (outputs are identical either way).
 */
export function getKernel(): Promise<RowKernel> {
  shared ??= (async () => {
    if (process.env.TESSERA_IMAGE_KERNEL === 'ts') return createTsKernel();
    return (await loadWasmKernel()) ?? createTsKernel();
  })();
  return shared;
}
