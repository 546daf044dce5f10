/**
 * Filter kernels and the per-axis filter tables the resampler runs on.
 * Tables are computed once in floating point and then quantised, so the hot
 * loops see only integers and every thread computes byte-identical results.
 */
import type { FilterName } from './types.ts';

/** Fixed-point precision of the weights: each output pixel's weights sum to exactly 1 << WEIGHT_BITS. */
export const WEIGHT_BITS = 14;
const ONE = 1 << WEIGHT_BITS;

/** Per-axis resampling table: output pixel i reads source [starts[i], starts[i] + taps). */
export interface FilterTable {
  /** Window width, identical for every output pixel (short windows are zero-padded). */
  taps: number;
  /** First source index (in full-image coordinates) of each output pixel's window. */
  starts: Int32Array;
  /** `taps` weights per output pixel, row-major, each row summing to exactly 1 << WEIGHT_BITS. */
  weights: Int16Array;
}

interface Kernel {
  radius: number;
  fn: (x: number) => number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

const KERNELS: Record<FilterName, Kernel> = {
  lanczos3: { radius: 3, fn: (x) => (Math.abs(x) < 3 ? sinc(x) * sinc(x / 3) : 0) },
  // A triangle: bilinear when enlarging, a tent average over the footprint when shrinking.
  bilinear: { radius: 1, fn: (x) => Math.max(0, 1 - Math.abs(x)) },
};

/** True when `name` is a filter this kernel implements. */
export function isFilterName(name: unknown): name is FilterName {
  return name === 'lanczos3' || name === 'bilinear';
}

/**
 * Builds the table mapping `outLen` output pixels onto the source span
 * [cropStart, cropStart + cropLen) of an axis `srcLen` pixels long. Samples
 * outside the image repeat the edge pixel (as libvips does), folded into the
 * edge weight so windows never leave [0, srcLen).
 */
export function buildFilterTable(
  filter: FilterName,
  srcLen: number,
  cropStart: number,
  cropLen: number,
  outLen: number,
): FilterTable {
  const { radius, fn } = KERNELS[filter];
  const scale = outLen / cropLen;
  // Shrinking stretches the kernel over the footprint of one output pixel; otherwise it aliases.
  const stretch = Math.max(1, 1 / scale);
  const support = radius * stretch;

  const windows: Array<{ lo: number; w: Int32Array }> = [];
  let maxTaps = 1;
  const folded = new Float64Array(srcLen);
  for (let i = 0; i < outLen; i++) {
    const center = cropStart + (i + 0.5) / scale - 0.5;
    const first = Math.ceil(center - support);
    const last = Math.floor(center + support);
    let lo = srcLen;
    let hi = -1;
    let sum = 0;
    for (let j = first; j <= last; j++) {
      const w = fn((j - center) / stretch);
      if (w === 0) continue;
      const k = j < 0 ? 0 : j >= srcLen ? srcLen - 1 : j;
      if (k < lo) lo = k;
      if (k > hi) hi = k;
      folded[k] = (folded[k] ?? 0) + w;
      sum += w;
    }
    if (hi < lo || sum === 0) {
      // Degenerate footprint (cannot happen for sane inputs): nearest neighbour keeps output defined.
      const k = Math.min(srcLen - 1, Math.max(0, Math.round(center)));
      lo = hi = k;
      folded[k] = 1;
      sum = 1;
    }
    // Quantise, then give the rounding residue to the largest weight so the row sums to ONE exactly.
    const w = new Int32Array(hi - lo + 1);
    let qsum = 0;
    let big = 0;
    for (let k = lo; k <= hi; k++) {
      const v = folded[k] ?? 0;
      folded[k] = 0;
      const q = Math.round((v / sum) * ONE);
      w[k - lo] = q;
      qsum += q;
      if (Math.abs(q) > Math.abs(w[big] ?? 0)) big = k - lo;
    }
    w[big] = (w[big] ?? 0) + (ONE - qsum);
    // Trim zero weights at the ends so taps stays as small as possible.
    let a = 0;
    let b = w.length - 1;
    while (a < b && w[a] === 0) a++;
    while (b > a && w[b] === 0) b--;
    const trimmed = w.subarray(a, b + 1);
    windows.push({ lo: lo + a, w: trimmed });
    if (trimmed.length > maxTaps) maxTaps = trimmed.length;
  }

  const taps = maxTaps;
  const starts = new Int32Array(outLen);
  const weights = new Int16Array(outLen * taps);
  for (let i = 0; i < outLen; i++) {
    const win = windows[i];
    if (win === undefined) continue;
    // Pull the start back near the far edge so start + taps never passes srcLen; starts stay monotonic.
    const start = Math.min(win.lo, srcLen - taps);
    starts[i] = start;
    const off = win.lo - start;
    for (let k = 0; k < win.w.length; k++) weights[i * taps + off + k] = win.w[k] ?? 0;
  }
  return { taps, starts, weights };
}
