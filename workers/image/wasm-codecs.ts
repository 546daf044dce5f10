/**
 * The WebAssembly codecs: MozJPEG (@jsquash/jpeg) for JPEG, libwebp (@jsquash/webp) for WebP.
 *
 * Each codec's .wasm ships in its package's own dist and is read from disk, compiled once per
 * thread on first use (synchronously: WebAssembly.Module and Instance are synchronous in Node, and
 * the Emscripten glue finishes starting up inside the factory call when `instantiateWasm` answers
 * at once), and the instance is reused for every later call on that thread. Nothing is fetched.
 *
 * The codecs are C compiled with Emscripten. A fatal libjpeg/libwebp error ends in exit(), which
 * the glue throws as an ExitStatus and which leaves the C heap holding the failed call's buffers;
 * after any throw the instance is dropped and the next call instantiates a fresh one from the
 * compiled module (a fraction of a millisecond), so a stream of bad uploads cannot leak or poison
 * the thread. libjpeg's warnings (a truncated scan, corrupt entropy data) go to stderr, which the
 * glue routes to `printErr`: they are collected per call so the caller can refuse such images.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
// The Emscripten factories are plain ESM with no usable types here (they reference a global
// namespace the packages declare elsewhere); each is cast to the small interface used below.
import mozjpegDecFactory from '@jsquash/jpeg/codec/dec/mozjpeg_dec.js';
import mozjpegEncFactory from '@jsquash/jpeg/codec/enc/mozjpeg_enc.js';
import webpDecFactory from '@jsquash/webp/codec/dec/webp_dec.js';
import webpEncFactory from '@jsquash/webp/codec/enc/webp_enc_simd.js';

const require = createRequire(import.meta.url);

// Minimal WebAssembly typings: the repo's lib settings (no DOM) do not declare the global.
interface WasmModuleCtor {
  new (bytes: Uint8Array): object;
}
interface WasmInstanceCtor {
  new (module: object, imports: object): { exports: object };
}
const WA = (globalThis as unknown as { WebAssembly: { Module: WasmModuleCtor; Instance: WasmInstanceCtor } }).WebAssembly;

/** What the Emscripten decoders return: an ImageData-shaped object (data copied out of the wasm heap). */
export interface WasmImage {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

/** MozJPEG's encoder options (cjpeg's), as the jsquash binding takes them. */
export interface MozJpegOptions {
  quality: number;
  baseline: boolean;
  arithmetic: boolean;
  progressive: boolean;
  optimize_coding: boolean;
  smoothing: number;
  color_space: number;
  quant_table: number;
  trellis_multipass: boolean;
  trellis_opt_zero: boolean;
  trellis_opt_table: boolean;
  trellis_loops: number;
  auto_subsample: boolean;
  chroma_subsample: number;
  separate_chroma_quality: boolean;
  chroma_quality: number;
}

/** libwebp's WebPConfig fields, as the jsquash binding takes them. */
export type WebpOptions = Record<
  | 'quality' | 'target_size' | 'target_PSNR' | 'method' | 'sns_strength' | 'filter_strength' | 'filter_sharpness'
  | 'filter_type' | 'partitions' | 'segments' | 'pass' | 'show_compressed' | 'preprocessing' | 'autofilter'
  | 'partition_limit' | 'alpha_compression' | 'alpha_filtering' | 'alpha_quality' | 'lossless' | 'exact'
  | 'image_hint' | 'emulate_jpeg_size' | 'thread_level' | 'low_memory' | 'near_lossless' | 'use_delta_palette'
  | 'use_sharp_yuv',
  number
>;

interface JpegDecoder {
  decode(data: Uint8Array, preserveOrientation: boolean): WasmImage | null;
}
interface JpegEncoder {
  encode(data: Uint8Array | Uint8ClampedArray, width: number, height: number, options: MozJpegOptions): Uint8Array;
}
interface WebpDecoder {
  decode(data: Uint8Array): WasmImage | null;
}
interface WebpEncoder {
  encode(data: Uint8Array | Uint8ClampedArray, width: number, height: number, options: WebpOptions): Uint8Array | null;
}

type Factory = (module: object) => unknown;

/** Messages the running codec wrote to stderr during the current call. */
let stderr: string[] = [];

// webp's glue builds results with `new ImageData(...)` and (unlike the JPEG glue) defines the class
// only in Cloudflare Workers; Node has none. Same shape as the one the JPEG glue installs in Node.
const G = globalThis as unknown as { ImageData?: unknown };
G.ImageData ??= class ImageData {
  constructor(
    public data: Uint8ClampedArray,
    public width: number,
    public height: number,
  ) {}
};

/**
 * One codec: the compiled module (once per thread) and a live instance (replaced after a throw).
 * `call` runs `fn` on the instance and returns what it returned plus the stderr lines it wrote.
 */
class Codec<T extends object> {
  private compiled: object | undefined;
  private instance: T | undefined;

  constructor(
    private readonly factory: Factory,
    private readonly wasmPath: string,
  ) {}

  private start(): T {
    this.compiled ??= new WA.Module(readFileSync(require.resolve(this.wasmPath)));
    const compiled = this.compiled;
    const module = {
      noInitialRun: true,
      print: (line: string) => stderr.push(line),
      printErr: (line: string) => stderr.push(line),
      instantiateWasm(imports: object, done: (instance: object) => void) {
        const instance = new WA.Instance(compiled, imports);
        done(instance);
        return instance.exports;
      },
    };
    const ready = this.factory(module) as Promise<unknown> | undefined;
    // The factory's promise settles with `module` itself; nothing to wait for, but never leave it unhandled.
    if (ready !== undefined && typeof (ready as { then?: unknown }).then === 'function') ready.then(undefined, () => {});
    // Instantiation answered synchronously, so the glue has already attached the bindings to `module`.
    if (typeof (module as Record<string, unknown>).decode !== 'function' && typeof (module as Record<string, unknown>).encode !== 'function') {
      throw new Error(`codec ${this.wasmPath} did not start synchronously`);
    }
    return module as unknown as T;
  }

  call<R>(fn: (codec: T) => R): { result: R; messages: string[] } {
    const codec = (this.instance ??= this.start());
    stderr = [];
    try {
      const result = fn(codec);
      return { result, messages: stderr };
    } catch (err) {
      // exit() or a trap mid-call: the C heap may hold what the call allocated. Start afresh next time.
      this.instance = undefined;
      throw Object.assign(err instanceof Error ? err : new Error(String(err)), { codecMessages: stderr });
    } finally {
      stderr = [];
    }
  }
}

export const jpegDecoder = new Codec<JpegDecoder>(mozjpegDecFactory as unknown as Factory, '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm');
export const jpegEncoder = new Codec<JpegEncoder>(mozjpegEncFactory as unknown as Factory, '@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm');
export const webpDecoder = new Codec<WebpDecoder>(webpDecFactory as unknown as Factory, '@jsquash/webp/codec/dec/webp_dec.wasm');
export const webpEncoder = new Codec<WebpEncoder>(webpEncFactory as unknown as Factory, '@jsquash/webp/codec/enc/webp_enc_simd.wasm');

/** The stderr lines a failed codec call wrote (libjpeg's reason for giving up), if any. */
export function codecMessages(err: unknown): string[] {
  const m = (err as { codecMessages?: unknown } | null)?.codecMessages;
  return Array.isArray(m) ? (m as string[]) : [];
}

/**
 * MozJPEG settings for thumbnails: cjpeg's defaults minus what costs time for little gain at small
 * sizes (progressive scans and trellis quantisation roughly triple the encode time); Huffman tables
 * are still optimised. 4:2:0 chroma like every camera and libjpeg's own default.
 */
export function mozjpegOptions(quality: number): MozJpegOptions {
  return {
    quality,
    baseline: false,
    arithmetic: false,
    progressive: false,
    optimize_coding: true,
    smoothing: 0,
    color_space: 3,
    quant_table: 3,
    trellis_multipass: false,
    trellis_opt_zero: false,
    trellis_opt_table: false,
    trellis_loops: 1,
    auto_subsample: true,
    chroma_subsample: 2,
    separate_chroma_quality: false,
    chroma_quality: quality,
  };
}

/** libwebp's defaults (cwebp's) at `quality`, lossy. */
export function webpOptions(quality: number): WebpOptions {
  return {
    quality,
    target_size: 0,
    target_PSNR: 0,
    method: 4,
    sns_strength: 50,
    filter_strength: 60,
    filter_sharpness: 0,
    filter_type: 1,
    partitions: 0,
    segments: 4,
    pass: 1,
    show_compressed: 0,
    preprocessing: 0,
    autofilter: 0,
    partition_limit: 0,
    alpha_compression: 1,
    alpha_filtering: 1,
    alpha_quality: 100,
    lossless: 0,
    exact: 0,
    image_hint: 0,
    emulate_jpeg_size: 0,
    thread_level: 0,
    low_memory: 0,
    near_lossless: 100,
    use_delta_palette: 0,
    use_sharp_yuv: 0,
  };
}
