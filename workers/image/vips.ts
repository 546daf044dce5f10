/**
 * Shrink-on-load: a JPEG decoded straight to 1/2, 1/4 or 1/8 of its size from the DCT
 * coefficients (libjpeg's scale_num/scale_denom), the step that makes sharp's thumbnails cheap.
 * The MozJPEG build we use for full-size decodes (@jsquash/jpeg) never sets the scale, so this
 * goes through libvips compiled to WebAssembly (wasm-vips, from the npm registry; libjpeg-turbo
 * inside), whose jpegload takes `shrink`. Why, with figures: README, "The image pipeline".
 *
 * Only the decode is libvips's: the pixels come back to our resize kernel and encoders, so the
 * output options, orientation and errors stay ours. libvips starts once per thread, on the first
 * JPEG that can shrink (about 0.2 s, asynchronous), with one libvips worker thread
 * (`concurrency(1)`: the pool's threads are the parallelism) and without its optional modules
 * (HEIF, JPEG XL). Anything libvips refuses, or a start that fails, falls back to the full-size
 * MozJPEG decode, which classifies damaged and unsupported files as before: shrinking is an
 * optimisation and never the reason an image fails.
 */

/** The part of wasm-vips's API used here (the package's own types are not reachable under NodeNext). */
interface VipsImage {
  readonly width: number;
  readonly height: number;
  readonly bands: number;
  readonly format: string;
  writeToMemory(): Uint8Array;
  delete(): void;
}
interface Vips {
  concurrency(n?: number): number | undefined;
  Image: { newFromBuffer(data: Uint8Array, options: string, load: Record<string, unknown>): VipsImage };
}
type VipsFactory = (config: Record<string, unknown>) => Promise<Vips>;

/** The decode factors libjpeg can produce from the DCT coefficients. */
export type ShrinkFactor = 1 | 2 | 4 | 8;

/**
 * The largest shrink-on-load factor for a downscale by `factor` (source pixels per output pixel on
 * the axis that shrinks least): 8 from 8x, 4 from 4x, 2 from 2x, as sharp's default
 * (`fastShrinkOnLoad`). The resize kernel then finishes with less than a 2x reduction.
 */
export function shrinkFor(factor: number): ShrinkFactor {
  if (factor >= 8) return 8;
  if (factor >= 4) return 4;
  if (factor >= 2) return 2;
  return 1;
}

let started: Promise<Vips | null> | undefined;

/** libvips for this thread, started on first use; null when it cannot start here (then never retried). */
function vips(): Promise<Vips | null> {
  started ??= (async () => {
    try {
      // A specifier in a variable: the package ships no types for its Node entry.
      const specifier = 'wasm-vips';
      const factory = ((await import(specifier)) as { default: VipsFactory }).default;
      const instance = await factory({
        dynamicLibraries: [],
        // libjpeg's and libvips's warnings would go to the process's stderr; a failed load throws anyway.
        print: () => {},
        printErr: () => {},
        preRun: (module: { ENV: Record<string, string> }) => {
          module.ENV.VIPS_WARNING = '0';
        },
      });
      instance.concurrency(1);
      return instance;
    } catch {
      return null;
    }
  })();
  return started;
}

/**
 * `bytes` (a JPEG whose header said `width` x `height`) decoded at 1/`shrink` size as straight RGBA,
 * or null when libvips is unavailable or refuses the file (damaged, truncated, CMYK, ...): the caller
 * then decodes at full size. Each side is divided by `shrink` and rounded down, as libvips does.
 */
export async function decodeJpegShrunk(bytes: Uint8Array, width: number, height: number, shrink: ShrinkFactor): Promise<{ data: Uint8Array; width: number; height: number } | null> {
  const lib = await vips();
  if (lib === null) return null;
  // libvips rounds each side down (libjpeg would round up): the last partial block column or row,
  // at most shrink - 1 source pixels, is left out.
  const w = Math.floor(width / shrink);
  const h = Math.floor(height / shrink);
  let pixels: Uint8Array;
  let bands: number;
  let image: VipsImage | undefined;
  try {
    // fail_on 'warning': a truncated scan or corrupt entropy data is an error, never grey fill.
    image = lib.Image.newFromBuffer(bytes, '', { shrink, fail_on: 'warning' });
    if (image.width !== w || image.height !== h || image.format !== 'uchar' || (image.bands !== 3 && image.bands !== 1)) return null;
    bands = image.bands;
    pixels = image.writeToMemory();
  } catch {
    return null;
  } finally {
    image?.delete();
  }
  if (pixels.length !== w * h * bands) return null;
  const data = new Uint8Array(w * h * 4);
  if (bands === 3) {
    for (let i = 0, j = 0; j < data.length; i += 3, j += 4) {
      data[j] = pixels[i] as number;
      data[j + 1] = pixels[i + 1] as number;
      data[j + 2] = pixels[i + 2] as number;
      data[j + 3] = 255;
    }
  } else {
    for (let i = 0, j = 0; j < data.length; i++, j += 4) {
      const v = pixels[i] as number;
      data[j] = v;
      data[j + 1] = v;
      data[j + 2] = v;
      data[j + 3] = 255;
    }
  }
  return { data, width: w, height: h };
}
