/**
 * Resize plans: everything a band worker needs to resample, computed once on
 * the main thread. A plan holds only numbers, strings and typed arrays so it
 * survives structured cloning (postMessage) unchanged.
 */
import { badSize, tooLarge } from './errors.ts';
import { buildFilterTable, isFilterName, type FilterTable } from './filters.ts';
import { DEFAULT_MAX_PIXELS, type FilterName, type Fit, type Rgba } from './types.ts';
import { ImageError } from './errors.ts';

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

function checkDim(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw badSize(`${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

function checkBackground(bg: Rgba | undefined): Rgba {
  if (bg === undefined) return [0, 0, 0, 0];
  if (!Array.isArray(bg) || bg.length !== 4 || !bg.every((c) => Number.isInteger(c) && c >= 0 && c <= 255)) {
    throw new ImageError('TESSERA_IMAGE_FORMAT', 'background must be [r, g, b, a] with integers 0..255.');
  }
  return [bg[0], bg[1], bg[2], bg[3]];
}

/** Output size for the given options, filling in a missing side from the source aspect ratio. */
export function targetSize(
  srcWidth: number,
  srcHeight: number,
  width?: number,
  height?: number,
): { width: number; height: number } {
  if (width === undefined && height === undefined) return { width: srcWidth, height: srcHeight };
  if (width === undefined) {
    const h = checkDim('height', height);
    return { width: Math.max(1, Math.round((srcWidth * h) / srcHeight)), height: h };
  }
  const w = checkDim('width', width);
  if (height === undefined) return { width: w, height: Math.max(1, Math.round((srcHeight * w) / srcWidth)) };
  return { width: w, height: checkDim('height', height) };
}

/** Computes the plan for resizing a srcWidth x srcHeight image. */
export function createResizePlan(options: PlanOptions): ResizePlan {
  const srcWidth = checkDim('source width', options.srcWidth);
  const srcHeight = checkDim('source height', options.srcHeight);
  const { width: dstWidth, height: dstHeight } = targetSize(srcWidth, srcHeight, options.width, options.height);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (dstWidth * dstHeight > maxPixels) throw tooLarge(dstWidth, dstHeight, maxPixels);
  const filter = options.filter ?? 'lanczos3';
  if (!isFilterName(filter)) {
    throw new ImageError('TESSERA_IMAGE_FORMAT', `unknown filter ${String(filter)}: use 'lanczos3' or 'bilinear'.`);
  }
  const fit = options.fit ?? 'cover';
  const background = checkBackground(options.background);

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
  } else if (fit !== 'fill') {
    throw new ImageError('TESSERA_IMAGE_FORMAT', `unknown fit ${String(fit)}: use 'cover', 'contain' or 'fill'.`);
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
