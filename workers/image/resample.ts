/**
 * The separable fixed-point resampler, run on a band of output rows.
 *
 * Pass order: horizontal first, streaming. Each source row the band needs is
 * premultiplied once and filtered horizontally into a small ring of
 * intermediate rows (contentWidth wide, `taps` deep); each output row is then a
 * vertical dot product over that ring. Both orders cost the same multiply-adds
 * for a uniform scale, but horizontal-first premultiplies every source pixel once
 * (vertical-first would redo it for every vertical tap or need a full-width
 * premultiplied copy), and its working set is a few hundred KB instead of a
 * source-width row per tap, so it stays in cache.
 *
 * Number formats (all integer, so any split of the rows gives identical bytes):
 *   premultiplied source  p = c * a (colour), a * 255 (alpha)        0..65025
 *   weights               w, 14-bit fixed point, each window sums to 16384
 *   intermediate          t = (sum p*w + 2^15) >> 16, stored as Int16 (|t| < 2^15)
 *   vertical result       q = (sum t*w + 2^13) >> 14 ≈ p / 4
 *   output                A = round(4 q_a / 255), C = round(255 q_c / q_a), clamped
 * The bounds keep every sum inside int32 even with Lanczos overshoot (worst
 * |sum w| / sum w ≈ 1.55), which is what lets the WASM kernel match bit for bit.
 */
import { badSize } from './errors.ts';
import { sourceRowsFor, type ResizePlan } from './plan.ts';

/** A source or destination pixel buffer: a Uint8Array/Uint8ClampedArray, possibly a view on a SharedArrayBuffer. */
export type PixelBuffer = Uint8Array | Uint8ClampedArray;

/** Row-level primitives; the TS implementation below and the WASM one must agree byte for byte. */
export interface RowKernel {
  /** Prepares scratch space for a band computing content rows [cy0, cy1); called once per band before any row. */
  begin(plan: ResizePlan, colStart: number, colEnd: number, ringRows: number, cy0: number, cy1: number): void;
  /** Premultiplies `src[off, off + (colEnd-colStart)*4)` and filters it horizontally into ring slot `slot`. */
  hRow(src: PixelBuffer, off: number, slot: number): void;
  /** Filters ring slots vertically with weights of content row `cy`, unpremultiplies, writes contentWidth pixels at dst[off]. */
  vRow(slots: Int32Array, cy: number, dst: PixelBuffer, off: number): void;
}

/** Options for resizeBand. */
export interface BandOptions {
  /** Source row held at src[0]; lets callers pass only sourceRowsFor(...) rows. Default 0 (the whole image). */
  srcFirstRow?: number;
  /** Row kernel to use; default the pure TypeScript one. */
  kernel?: RowKernel;
}

/** The pure TypeScript row kernel (the reference; always available). */
export function createTsKernel(): RowKernel {
  let pre = new Int32Array(0);
  let ring = new Int16Array(0);
  let acc = new Int32Array(0);
  let rowLen = 0;
  let colStart = 0;
  let cols = 0;
  let p: ResizePlan | undefined;

  return {
    begin(plan, c0, c1, ringRows) {
      p = plan;
      colStart = c0;
      cols = c1 - c0;
      rowLen = plan.contentWidth * 4;
      if (pre.length < cols * 4) pre = new Int32Array(cols * 4);
      if (ring.length < ringRows * rowLen) ring = new Int16Array(ringRows * rowLen);
      if (acc.length < rowLen) acc = new Int32Array(rowLen);
    },

    hRow(src, off, slot) {
      const plan = p as ResizePlan;
      const n = cols * 4;
      for (let i = 0; i < n; i += 4) {
        const a = src[off + i + 3] as number;
        pre[i] = (src[off + i] as number) * a;
        pre[i + 1] = (src[off + i + 1] as number) * a;
        pre[i + 2] = (src[off + i + 2] as number) * a;
        pre[i + 3] = a * 255;
      }
      const { starts, weights, taps } = plan.x;
      const cw = plan.contentWidth;
      let o = slot * rowLen;
      for (let x = 0; x < cw; x++) {
        let s = ((starts[x] as number) - colStart) * 4;
        let wi = x * taps;
        let r = 0;
        let g = 0;
        let b = 0;
        let al = 0;
        for (let k = 0; k < taps; k++) {
          const w = weights[wi++] as number;
          r += (pre[s] as number) * w;
          g += (pre[s + 1] as number) * w;
          b += (pre[s + 2] as number) * w;
          al += (pre[s + 3] as number) * w;
          s += 4;
        }
        ring[o] = (r + 32768) >> 16;
        ring[o + 1] = (g + 32768) >> 16;
        ring[o + 2] = (b + 32768) >> 16;
        ring[o + 3] = (al + 32768) >> 16;
        o += 4;
      }
    },

    vRow(slots, cy, dst, off) {
      const plan = p as ResizePlan;
      const { weights, taps } = plan.y;
      acc.fill(1 << 13, 0, rowLen);
      const wBase = cy * taps;
      for (let k = 0; k < taps; k++) {
        const w = weights[wBase + k] as number;
        if (w === 0) continue;
        const base = (slots[k] as number) * rowLen;
        for (let i = 0; i < rowLen; i++) acc[i] = (acc[i] as number) + (ring[base + i] as number) * w;
      }
      for (let i = 0; i < rowLen; i += 4) {
        const qa = (acc[i + 3] as number) >> 14;
        if (qa <= 0) {
          dst[off + i] = dst[off + i + 1] = dst[off + i + 2] = dst[off + i + 3] = 0;
          continue;
        }
        dst[off + i] = unpremultiply((acc[i] as number) >> 14, qa);
        dst[off + i + 1] = unpremultiply((acc[i + 1] as number) >> 14, qa);
        dst[off + i + 2] = unpremultiply((acc[i + 2] as number) >> 14, qa);
        const alpha = ((qa * 8 + 255) / 510) | 0;
        dst[off + i + 3] = alpha > 255 ? 255 : alpha;
      }
    },
  };
}

function unpremultiply(qc: number, qa: number): number {
  if (qc <= 0) return 0;
  if (qc >= qa) return 255;
  // Integer division on non-negative int32 values: identical to WASM's i32.div_u.
  return ((qc * 510 + qa) / (qa * 2)) | 0;
}

let defaultKernel: RowKernel | undefined;

/**
 * Computes output rows [y0, y1) of `plan` from straight-RGBA `src` into `dst`.
 * `src` holds whole source rows starting at `options.srcFirstRow` (default 0) and
 * must cover sourceRowsFor(plan, y0, y1). `dst` is either the whole output
 * (dstWidth*dstHeight*4 bytes; the band writes its own rows) or just the band
 * ((y1-y0)*dstWidth*4 bytes). Either may be a view on a SharedArrayBuffer.
 */
export function resizeBand(
  plan: ResizePlan,
  src: PixelBuffer,
  dst: PixelBuffer,
  y0: number,
  y1: number,
  options: BandOptions = {},
): void {
  if (!Number.isInteger(y0) || !Number.isInteger(y1) || y0 < 0 || y1 > plan.dstHeight || y0 > y1) {
    throw badSize(`band rows [${y0}, ${y1}) must be integers within [0, ${plan.dstHeight}]`);
  }
  const dw4 = plan.dstWidth * 4;
  let dstRowBase: number;
  if (dst.length === plan.dstHeight * dw4) dstRowBase = 0;
  else if (dst.length === (y1 - y0) * dw4) dstRowBase = y0;
  else throw badSize(`destination holds ${dst.length} bytes; expected the whole image (${plan.dstHeight * dw4}) or the band (${(y1 - y0) * dw4})`);

  const srcFirstRow = options.srcFirstRow ?? 0;
  if (!Number.isSafeInteger(srcFirstRow) || srcFirstRow < 0) throw badSize(`srcFirstRow must be a non-negative integer, got ${srcFirstRow}`);
  const sw4 = plan.srcWidth * 4;
  const rows = sourceRowsFor(plan, y0, y1);
  if (src.length % sw4 !== 0 || (rows.end > rows.start && (rows.start < srcFirstRow || rows.end > srcFirstRow + src.length / sw4))) {
    throw badSize(`source holds ${src.length} bytes from row ${srcFirstRow}; the band needs whole rows [${rows.start}, ${rows.end}) of a ${plan.srcWidth}-pixel-wide image`);
  }

  const [br, bg, bb, ba] = plan.background;
  const fill = (from: number, to: number): void => {
    for (let i = from; i < to; i += 4) {
      dst[i] = br;
      dst[i + 1] = bg;
      dst[i + 2] = bb;
      dst[i + 3] = ba;
    }
  };

  const c0 = Math.max(y0, plan.contentY) - plan.contentY;
  const c1 = Math.min(y1, plan.contentY + plan.contentHeight) - plan.contentY;
  // Letterbox rows above and below the content.
  for (let y = y0; y < y1; y++) {
    const cy = y - plan.contentY;
    if (cy < c0 || cy >= c1) fill((y - dstRowBase) * dw4, (y - dstRowBase + 1) * dw4);
  }
  if (c1 <= c0) return;

  const { taps: xTaps, starts: xStarts } = plan.x;
  let colStart = Infinity;
  let colEnd = -Infinity;
  for (let i = 0; i < plan.contentWidth; i++) {
    const s = xStarts[i] as number;
    if (s < colStart) colStart = s;
    if (s + xTaps > colEnd) colEnd = s + xTaps;
  }

  // Ring depth: enough rows that a window stepping back (see sourceRowsFor) still finds its rows.
  const { taps, starts } = plan.y;
  let ringRows = taps;
  let maxEnd = -Infinity;
  for (let c = c0; c < c1; c++) {
    const s = starts[c] as number;
    if (s + taps > maxEnd) maxEnd = s + taps;
    if (maxEnd - s > ringRows) ringRows = maxEnd - s;
  }

  const kernel = options.kernel ?? (defaultKernel ??= createTsKernel());
  kernel.begin(plan, colStart, colEnd, ringRows, c0, c1);
  const slots = new Int32Array(taps);
  let computedEnd = -Infinity;
  const left = plan.contentX * 4;
  const right = left + plan.contentWidth * 4;
  for (let c = c0; c < c1; c++) {
    const s = starts[c] as number;
    for (let r = Math.max(s, computedEnd); r < s + taps; r++) {
      kernel.hRow(src, (r - srcFirstRow) * sw4 + colStart * 4, r % ringRows);
    }
    if (s + taps > computedEnd) computedEnd = s + taps;
    for (let k = 0; k < taps; k++) slots[k] = (s + k) % ringRows;
    const rowOff = (c + plan.contentY - dstRowBase) * dw4;
    kernel.vRow(slots, c, dst, rowOff + left);
    if (left > 0) fill(rowOff, rowOff + left);
    if (right < dw4) fill(rowOff + right, rowOff + dw4);
  }
}

/** Resizes a whole straight-RGBA image in one band; returns a new buffer of dstWidth*dstHeight*4 bytes. */
export function resizeImage(plan: ResizePlan, src: PixelBuffer, options: BandOptions = {}): Uint8Array {
  const out = new Uint8Array(plan.dstWidth * plan.dstHeight * 4);
  resizeBand(plan, src, out, 0, plan.dstHeight, options);
  return out;
}
