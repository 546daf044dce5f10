/** Public surface of the image kernel for code outside the worker (plans, bands, codecs, errors). */
export { ImageError, isImageError, type ImageErrorCode } from './errors.ts';
export type { RawImage, ImageInput, OutputFormat, EncodedFormat, FilterName, Fit, Rgba } from './types.ts';
export { DEFAULT_MAX_PIXELS } from './types.ts';
export { detectFormat, probe, type HeaderInfo } from './probe.ts';
export { decode, encode, assertRawImage, type DecodeOptions, type EncodeOptions } from './codec.ts';
export { WEIGHT_BITS, buildFilterTable, type FilterTable } from './filters.ts';
export {
  createResizePlan,
  sourceRowsFor,
  splitRows,
  targetSize,
  type ResizePlan,
  type PlanOptions,
  type RowRange,
} from './plan.ts';
export { resizeBand, resizeImage, createTsKernel, type RowKernel, type BandOptions, type PixelBuffer } from './resample.ts';
export { loadWasmKernel, getKernel } from './wasm.ts';
export { toShared } from './shared.ts';
