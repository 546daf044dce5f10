/**
 * Resize plans: everything a band worker needs to resample, computed once on
 * the main thread. A plan holds only numbers, strings and typed arrays so it
 * survives structured cloning (postMessage) unchanged.
 */
import { badOption, badSize, tooLarge } from './errors.ts';
import { WEIGHT_BITS, buildFilterTable, type FilterTable } from './filters.ts';
import { backgroundOf, bufferBytes, copyOfTyped, describe, dimension, fields, filterOf, fitOf, index, maxPixelsOf, optionalDimension } from './input.ts';
import type { FilterName, Fit, Rgba } from './types.ts';

/** A serialisable description of one resize. */
export interface ResizePlan {
  /** Source image width in pixels. */
  srcWidth: number;
  /** Source image height in pixels. */
  srcHeight: number;
  /** Output image width in pixels. */
  dstWidth: number;
  /** Output image height in pixels. */
  dstHeight: number;
  /** Left edge of the resampled content in the output (non-zero only when letterboxing). */
  contentX: number;
  /** Top edge of the resampled content in the output. */
  contentY: number;
  /** Width of the resampled content in the output. */
  contentWidth: number;
  /** Height of the resampled content in the output. */
  contentHeight: number;
  /** Source rectangle mapped onto the content (fractional for exact centre crops). */
  crop: { x: number; y: number; width: number; height: number };
  /** Straight RGBA painted outside the content rectangle. */
  background: Rgba;
  /** Filter the tables were built with. */
  filter: FilterName;
  /** Horizontal table: contentWidth output columns. */
  x: FilterTable;
  /** Vertical table: contentHeight output rows. */
  y: FilterTable;
}

/** What to build a plan for. */
export interface PlanOptions {
  /** Source width. */
  srcWidth: number;
  /** Source height. */
  srcHeight: number;
  /** Target width; omitted keeps the aspect ratio from `height` (or the source width if both are omitted). */
  width?: number;
  /** Target height; omitted keeps the aspect ratio from `width`. */
  height?: number;
  /** Default 'cover' when both sides are given. */
  fit?: Fit;
  /** Default 'lanczos3'. */
  filter?: FilterName;
  /** Letterbox colour for 'contain', straight RGBA; default transparent black. */
  background?: Rgba;
  /** Refuse outputs with more pixels than this. Default 100 megapixels. */
  maxPixels?: number;
}

/** Output size for the given options, filling in a missing side from the source aspect ratio. */
export function targetSize(
  srcWidth: number,
  srcHeight: number,
  width?: number,
  height?: number,
): { width: number; height: number } {
  const w = optionalDimension('width', width);
  const h = optionalDimension('height', height);
  if (w === undefined && h === undefined) return { width: srcWidth, height: srcHeight };
  if (w === undefined) return { width: Math.max(1, Math.round((srcWidth * (h as number)) / srcHeight)), height: h as number };
  if (h === undefined) return { width: w, height: Math.max(1, Math.round((srcHeight * w) / srcWidth)) };
  return { width: w, height: h };
}

const PLAN_OPTION_KEYS = ['srcWidth', 'srcHeight', 'width', 'height', 'fit', 'filter', 'background', 'maxPixels'] as const;

/** Computes the plan for resizing a srcWidth x srcHeight image. Every option is checked before any table is built. */
export function createResizePlan(options: PlanOptions): ResizePlan {
  const o = fields(options, 'createResizePlan', '{ srcWidth, srcHeight, width?, height?, fit?, filter?, background?, maxPixels? }', PLAN_OPTION_KEYS);
  const srcWidth = dimension('source width', o.srcWidth);
  const srcHeight = dimension('source height', o.srcHeight);
  const fit = fitOf(o.fit);
  const filter = filterOf(o.filter);
  const background = backgroundOf(o.background);
  const maxPixels = maxPixelsOf(o.maxPixels);
  const { width: dstWidth, height: dstHeight } = targetSize(srcWidth, srcHeight, o.width as number | undefined, o.height as number | undefined);
  if (dstWidth * dstHeight > maxPixels) throw tooLarge(dstWidth, dstHeight, maxPixels);

  let crop = { x: 0, y: 0, width: srcWidth, height: srcHeight };
  let contentX = 0;
  let contentY = 0;
  let contentWidth = dstWidth;
  let contentHeight = dstHeight;
  if (fit === 'cover') {
    // Scale so the source covers the box, then keep the centre; expressed as a (fractional) source crop.
    const s = Math.max(dstWidth / srcWidth, dstHeight / srcHeight);
    const cw = Math.min(srcWidth, dstWidth / s);
    const ch = Math.min(srcHeight, dstHeight / s);
    crop = { x: (srcWidth - cw) / 2, y: (srcHeight - ch) / 2, width: cw, height: ch };
  } else if (fit === 'contain') {
    const s = Math.min(dstWidth / srcWidth, dstHeight / srcHeight);
    contentWidth = Math.min(dstWidth, Math.max(1, Math.round(srcWidth * s)));
    contentHeight = Math.min(dstHeight, Math.max(1, Math.round(srcHeight * s)));
    contentX = Math.floor((dstWidth - contentWidth) / 2);
    contentY = Math.floor((dstHeight - contentHeight) / 2);
  }

  return {
    srcWidth,
    srcHeight,
    dstWidth,
    dstHeight,
    contentX,
    contentY,
    contentWidth,
    contentHeight,
    crop,
    background,
    filter,
    x: buildFilterTable(filter, srcWidth, crop.x, crop.width, contentWidth),
    y: buildFilterTable(filter, srcHeight, crop.y, crop.height, contentHeight),
  };
}

/**
 * The widest window a filter table of createResizePlan can have for `srcLen` source pixels mapped
 * onto `outLen`: 2 x Lanczos radius 3 x the downscale ratio, plus the pixel the window may straddle.
 */
function maxTaps(srcLen: number, outLen: number): number {
  return Math.min(srcLen, Math.ceil(6 * Math.max(1, srcLen / outLen)) + 2);
}

const ONE = 1 << WEIGHT_BITS;

function forged(what: string, problem: string): Error {
  return badOption(`${what} ${problem}: pass a plan from createResizePlan unchanged.`);
}

/**
 * Checks a filter table against the axis it maps (`srcLen` source pixels onto `outLen` output
 * pixels) and copies it out of the caller's memory. What it guarantees is what the kernels rely on:
 * every window lies inside the source, is no wider than a real filter's, never steps back more than
 * one window (so the ring of intermediate rows stays 2 x taps deep), and its weights sum to exactly
 * 1 << 14 with absolute sum at most 2 << 14 (so every fixed-point sum stays inside int32).
 */
function readTable(value: unknown, what: string, srcLen: number, outLen: number): FilterTable {
  const f = fields(value, what, '{ taps, starts: Int32Array, weights: Int16Array }', ['taps', 'starts', 'weights']);
  if (typeof f.taps !== 'number' || !Number.isSafeInteger(f.taps) || f.taps < 1) {
    throw forged(`${what}.taps`, `must be a positive integer, got ${describe(f.taps)}`);
  }
  const taps = f.taps;
  if (taps > maxTaps(srcLen, outLen)) throw forged(`${what}.taps`, `is ${taps}, wider than any filter for ${srcLen} pixels onto ${outLen}`);
  const starts = copyOfTyped<Int32Array>(f.starts, 'Int32Array', `${what}.starts`);
  const weights = copyOfTyped<Int16Array>(f.weights, 'Int16Array', `${what}.weights`);
  if (starts.length !== outLen) throw forged(`${what}.starts`, `holds ${starts.length} windows, not ${outLen}`);
  if (weights.length !== outLen * taps) throw forged(`${what}.weights`, `holds ${weights.length} weights, not ${outLen} x ${taps}`);
  let highest = -Infinity;
  for (let i = 0; i < outLen; i++) {
    const s = starts[i] as number;
    if (s < 0 || s + taps > srcLen) throw forged(`${what}.starts[${i}]`, `is ${s}: its window leaves the ${srcLen}-pixel source`);
    if (s < highest - taps) throw forged(`${what}.starts[${i}]`, `is ${s}: it steps back more than one window`);
    if (s > highest) highest = s;
    let sum = 0;
    let abs = 0;
    for (let k = i * taps; k < (i + 1) * taps; k++) {
      const w = weights[k] as number;
      sum += w;
      abs += Math.abs(w);
    }
    if (sum !== ONE || abs > 2 * ONE) throw forged(`${what}.weights`, `of window ${i} do not sum to ${ONE}`);
  }
  return { taps, starts, weights };
}

const PLAN_KEYS = [
  'srcWidth',
  'srcHeight',
  'dstWidth',
  'dstHeight',
  'contentX',
  'contentY',
  'contentWidth',
  'contentHeight',
  'crop',
  'background',
  'filter',
  'x',
  'y',
] as const;

/**
 * Validates a plan that arrived from elsewhere (a band's input) and returns a copy the kernels can
 * trust: sizes within `maxPixels`, the content rectangle inside the output, and tables that keep
 * every read inside the source and every write inside the band's rows. O(table size), far below
 * the band's own work.
 */
export function readPlan(value: unknown, maxPixels: number): ResizePlan {
  const p = fields(value, 'plan', 'a plan from createResizePlan', PLAN_KEYS);
  const srcWidth = dimension('plan.srcWidth', p.srcWidth);
  const srcHeight = dimension('plan.srcHeight', p.srcHeight);
  const dstWidth = dimension('plan.dstWidth', p.dstWidth);
  const dstHeight = dimension('plan.dstHeight', p.dstHeight);
  if (srcWidth * srcHeight > maxPixels) throw tooLarge(srcWidth, srcHeight, maxPixels);
  if (dstWidth * dstHeight > maxPixels) throw tooLarge(dstWidth, dstHeight, maxPixels);
  const contentX = index('plan.contentX', p.contentX);
  const contentY = index('plan.contentY', p.contentY);
  const contentWidth = dimension('plan.contentWidth', p.contentWidth);
  const contentHeight = dimension('plan.contentHeight', p.contentHeight);
  if (contentX + contentWidth > dstWidth || contentY + contentHeight > dstHeight) {
    throw badSize(`plan content ${contentWidth}x${contentHeight} at (${contentX}, ${contentY}) lies outside its ${dstWidth}x${dstHeight} output`);
  }
  const c = fields(p.crop, 'plan.crop', '{ x, y, width, height }', ['x', 'y', 'width', 'height']);
  const crop = { x: c.x, y: c.y, width: c.width, height: c.height };
  for (const [k, v] of Object.entries(crop)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw forged(`plan.crop.${k}`, `must be a finite number, got ${describe(v)}`);
  }
  return {
    srcWidth,
    srcHeight,
    dstWidth,
    dstHeight,
    contentX,
    contentY,
    contentWidth,
    contentHeight,
    crop: crop as unknown as ResizePlan['crop'],
    background: backgroundOf(p.background),
    filter: filterOf(p.filter),
    x: readTable(p.x, 'plan.x', srcWidth, contentWidth),
    y: readTable(p.y, 'plan.y', srcHeight, contentHeight),
  };
}

/** A half-open row range [start, end). */
export interface RowRange {
  /** First row. */
  start: number;
  /** One past the last row. */
  end: number;
}

/**
 * Source rows [start, end) that output rows [y0, y1) read. Empty ({0, 0}) when
 * the band holds only letterbox background.
 */
export function sourceRowsFor(plan: ResizePlan, y0: number, y1: number): RowRange {
  const c0 = Math.max(y0, plan.contentY) - plan.contentY;
  const c1 = Math.min(y1, plan.contentY + plan.contentHeight) - plan.contentY;
  if (c1 <= c0) return { start: 0, end: 0 };
  let start = Infinity;
  let end = -Infinity;
  const { starts, taps } = plan.y;
  // Not assumed monotonic: trimming zero weights can step a window back by a pixel.
  for (let c = c0; c < c1; c++) {
    const s = starts[c] ?? 0;
    if (s < start) start = s;
    if (s + taps > end) end = s + taps;
  }
  return { start, end };
}

/** Output rows [0, dstHeight) split into `count` near-equal bands, for partitioning across threads. */
export function splitRows(plan: ResizePlan, count: number): RowRange[] {
  const n = Math.max(1, Math.min(Math.floor(count), plan.dstHeight));
  const bands: RowRange[] = [];
  for (let i = 0; i < n; i++) {
    bands.push({ start: Math.floor((i * plan.dstHeight) / n), end: Math.floor(((i + 1) * plan.dstHeight) / n) });
  }
  return bands;
}

/**
 * Bands for `parts` threads that take them from a shared queue, in order. Sizes fall
 * geometrically towards the end (each band 1/parts of the rows after it, as in guided
 * self-scheduling): the first bands are long, so there are few band edges (at each, the filter
 * window's source rows are filtered by both bands), and the last ones short, so a thread that
 * got less CPU (pre-empted, or started late) holds the others up by one short band at most. No
 * band is shorter than `minRows`: the rows whose extra work at an edge stays under a quarter of
 * the band's own, and at least 1/8 of a part's share. One part gets one band. Any split gives
 * the same bytes (test/image-partitioned.test.ts).
 */
export function planBands(plan: ResizePlan, parts: number): RowRange[] {
  const height = plan.dstHeight;
  const p = Math.max(1, Math.floor(parts) || 1);
  if (p === 1) return [{ start: 0, end: height }];
  // Work of a band of r rows, in units of one intermediate row's multiply-adds per tap:
  // r x (source rows per output row x horizontal taps + vertical taps). An edge redoes ~ yTaps source rows.
  const xTaps = plan.x.taps;
  const yTaps = plan.y.taps;
  const perRow = (plan.crop.height / plan.contentHeight) * xTaps + yTaps;
  const minRows = Math.max(1, Math.ceil((4 * yTaps * xTaps) / perRow), Math.ceil(height / (8 * p)));
  // Built from the end: each band is 1/p of the rows after it, at least minRows.
  const sizes: number[] = [];
  let after = 0;
  while (after < height) {
    const rows = Math.min(height - after, Math.max(minRows, Math.ceil(after / p)));
    sizes.push(rows);
    after += rows;
  }
  // A first band shorter than the minimum joins the one after it.
  if (sizes.length > 1 && (sizes[sizes.length - 1] as number) < minRows) {
    const first = sizes.pop() as number;
    sizes[sizes.length - 1] = (sizes[sizes.length - 1] as number) + first;
  }
  const bands: RowRange[] = [];
  let start = 0;
  for (let i = sizes.length - 1; i >= 0; i--) {
    bands.push({ start, end: start + (sizes[i] as number) });
    start += sizes[i] as number;
  }
  return bands;
}

/**
 * A queue of bands shared by the parts of one run: `edges` (band i is rows [edges[i], edges[i+1]))
 * and `next`, a SharedArrayBuffer that every part sees, holding at Int32 0 the index of the next
 * band to take.
 */
export interface BandQueue {
  /** The shared counter: Int32 at byte 0, the next band index; each part claims with Atomics.add until none is left. */
  next: SharedArrayBuffer;
  /** Band edges, non-decreasing: band i is output rows [edges[i], edges[i + 1]). */
  edges: Int32Array;
}

/** A queue over `bands` (contiguous, in order), its counter at 0 in a new SharedArrayBuffer. */
export function bandQueue(bands: readonly RowRange[]): BandQueue {
  const edges = new Int32Array(bands.length + 1);
  bands.forEach((band, i) => {
    edges[i] = band.start;
    edges[i + 1] = band.end;
  });
  return { next: new SharedArrayBuffer(4), edges };
}

/** A band queue read from a part's input: the counter as an Int32Array on the caller's memory, edges copied. */
export interface ClaimableBands {
  /** Int32 view of the shared counter. */
  next: Int32Array;
  /** Checked copy of the edges. */
  edges: Int32Array;
}

/**
 * Checks a band queue that arrived in a part's input against the part's rows [y0, y1): `next` a
 * buffer of at least 4 bytes (shared, so the parts see one counter), `edges` an Int32Array of
 * non-decreasing rows inside [y0, y1]. Copies `edges`; `next` stays the caller's memory.
 */
export function readBandQueue(value: unknown, y0: number, y1: number): ClaimableBands {
  const q = fields(value, 'bands', '{ next: SharedArrayBuffer, edges: Int32Array }', ['next', 'edges']);
  const counter = bufferBytes(q.next, 'bands.next');
  if (counter.byteLength < 4 || counter.byteOffset % 4 !== 0) {
    throw badOption(`bands.next must hold the 4-byte band counter (a SharedArrayBuffer from bandQueue), got ${counter.byteLength} bytes.`);
  }
  const next = new Int32Array(counter.buffer, counter.byteOffset, 1);
  const edges = copyOfTyped<Int32Array>(q.edges, 'Int32Array', 'bands.edges');
  if (edges.length < 2) throw badOption(`bands.edges must hold at least 2 edges, got ${edges.length}.`);
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i] as number;
    if (e < y0 || e > y1 || (i > 0 && e < (edges[i - 1] as number))) {
      throw badOption(`bands.edges[${i}] is ${e}: edges must not decrease and must lie within the part's rows [${y0}, ${y1}].`);
    }
  }
  return { next, edges };
}

/** Takes bands off `queue` until none is left (each index goes to exactly one taker); yields their rows. */
export function* claimBands(queue: ClaimableBands): Generator<RowRange> {
  const count = queue.edges.length - 1;
  for (;;) {
    const i = Atomics.add(queue.next, 0, 1);
    if (i >= count) return;
    yield { start: queue.edges[i] as number, end: queue.edges[i + 1] as number };
  }
}
