/**
 * Validation of what callers hand the image tasks and the partitioner. Pure (no codecs, no
 * kernels), so the main-thread partitioner can use it; every check is O(1) in the image's size.
 *
 * Inputs may be hostile. Each field of a caller's object is read exactly once, inside try/catch,
 * so a throwing getter or Proxy trap becomes an ImageError (TESSERA_IMAGE_OPTION, the thrown value
 * as `cause`) and a getter that answers differently on a second read cannot slip past a check.
 * Typed arrays and buffers are recognised by their internal slots (the intrinsic getters), not by
 * `instanceof` or their own `length`, and are re-viewed through those getters: a faked prototype,
 * a shadowed `length` or a Proxy around a typed array is refused, and a view with a byteOffset is
 * read exactly where it points.
 */
import { ImageError, badOption, badSize, tooLarge } from './errors.ts';
import { isFilterName } from './filters.ts';
import { DEFAULT_MAX_PIXELS, type FilterName, type Fit, type OutputFormat, type RawImage, type Rgba } from './types.ts';

type Getter = (this: unknown) => unknown;

function intrinsicGetter(target: object, key: PropertyKey): Getter {
  const get = Object.getOwnPropertyDescriptor(target, key)?.get;
  if (get === undefined) throw new Error(`intrinsic getter ${String(key)} is missing`);
  return get as Getter;
}

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
// %TypedArray%.prototype[@@toStringTag] returns the array's kind, or undefined for anything that is
// not a typed array (a Proxy included); it never throws.
const typedArrayTag = intrinsicGetter(TypedArrayPrototype, Symbol.toStringTag);
const typedArrayBuffer = intrinsicGetter(TypedArrayPrototype, 'buffer');
const typedArrayByteOffset = intrinsicGetter(TypedArrayPrototype, 'byteOffset');
const typedArrayByteLength = intrinsicGetter(TypedArrayPrototype, 'byteLength');
const arrayBufferByteLength = intrinsicGetter(ArrayBuffer.prototype, 'byteLength');
const sharedArrayBufferByteLength = intrinsicGetter(SharedArrayBuffer.prototype, 'byteLength');

/** The kind of a genuine typed array ('Uint8Array', 'Int32Array', ...; Buffer is 'Uint8Array'), else undefined. */
export function typedArrayKind(value: unknown): string | undefined {
  return typedArrayTag.call(value) as string | undefined;
}

function hasSlot(getter: Getter, value: unknown): boolean {
  try {
    getter.call(value);
    return true;
  } catch {
    return false;
  }
}

/** A short description of a value for messages; never throws, never calls the value's own code. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
  }
  if (value === null) return 'null';
  const kind = typedArrayKind(value);
  if (kind !== undefined) return `a ${kind}`;
  if (hasSlot(arrayBufferByteLength, value)) return 'an ArrayBuffer';
  if (hasSlot(sharedArrayBufferByteLength, value)) return 'a SharedArrayBuffer';
  try {
    return Array.isArray(value) ? 'an array' : 'an object';
  } catch {
    return 'a revoked Proxy';
  }
}

/**
 * Reads `keys` of a caller's object once each. Refuses non-objects (and arrays, typed arrays,
 * buffers) with TESSERA_IMAGE_OPTION; `usage` shows the expected shape.
 */
export function fields<K extends string>(value: unknown, what: string, usage: string, keys: readonly K[]): Record<K, unknown> {
  if (typeof value !== 'object' || value === null || describe(value) !== 'an object') {
    throw badOption(`${what} expects ${usage}, got ${describe(value)}.`);
  }
  return readFields(value, what, keys);
}

function readFields<K extends string>(value: object, what: string, keys: readonly K[]): Record<K, unknown> {
  const out = Object.create(null) as Record<K, unknown>;
  for (const key of keys) {
    try {
      out[key] = (value as Record<string, unknown>)[key];
    } catch (cause) {
      throw badOption(`reading ${what}.${key} threw; pass plain data (no throwing getters or Proxies).`, cause);
    }
  }
  return out;
}

/** Edit distance with adjacent swaps (`fromat`, `quailty`), cut off above 2: only near misses matter. */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 40) return 3;
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      row[j] = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The known key `key` is most likely a misspelling of, ignoring case; undefined when none is close. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = key.length < 5 ? 2 : 3;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/**
 * {@link fields} for a task's input or options object, which also refuses an own enumerable key
 * not in `keys`: a misspelt option (`fromat`, `widht`) would otherwise be dropped and its default
 * used without a word. Raw images are read with `fields`, so `{ data, width, height }` may carry more.
 */
export function knownFields<K extends string>(value: unknown, what: string, usage: string, keys: readonly K[]): Record<K, unknown> {
  if (typeof value !== 'object' || value === null || describe(value) !== 'an object') {
    throw badOption(`${what} expects ${usage}, got ${describe(value)}.`);
  }
  let own: string[];
  try {
    own = Object.keys(value);
  } catch (cause) {
    throw badOption(`listing the keys of ${what} threw; pass plain data (no throwing getters or Proxies).`, cause);
  }
  const known: readonly string[] = keys;
  const unknown = own.find((key) => !known.includes(key));
  if (unknown !== undefined) {
    const near = closest(unknown, known);
    throw badOption(`${what} has no option ${describe(unknown)}${near === undefined ? '' : ` (did you mean \`${near}\`?)`}; it expects ${usage}.`);
  }
  return readFields(value, what, keys);
}

/** Runs `read` over a caller's value; anything it throws that is not already an ImageError becomes TESSERA_IMAGE_OPTION. */
function guarded<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (cause) {
    if (cause instanceof ImageError) throw cause;
    throw badOption(`reading ${what} threw; pass plain data (no throwing getters or Proxies).`, cause);
  }
}

/** A positive integer number of pixels: wrong type is TESSERA_IMAGE_OPTION, a bad number TESSERA_IMAGE_SIZE. */
export function dimension(name: string, value: unknown): number {
  if (typeof value !== 'number') throw badOption(`${name} must be a positive integer number of pixels, got ${describe(value)}.`);
  if (!Number.isSafeInteger(value) || value <= 0) throw badSize(`${name} must be a positive integer, got ${describe(value)}`);
  return value;
}

/** Like {@link dimension}, but undefined (omitted) is allowed. */
export function optionalDimension(name: string, value: unknown): number | undefined {
  return value === undefined ? undefined : dimension(name, value);
}

/** A non-negative integer row or column index: wrong type is TESSERA_IMAGE_OPTION, a bad number TESSERA_IMAGE_SIZE. */
export function index(name: string, value: unknown): number {
  if (typeof value !== 'number') throw badOption(`${name} must be a non-negative integer, got ${describe(value)}.`);
  if (!Number.isSafeInteger(value) || value < 0) throw badSize(`${name} must be a non-negative integer, got ${describe(value)}`);
  return value;
}

/**
 * The `maxPixels` option: a positive integer, default 100 megapixels. Anything else (NaN, 0,
 * negative, Infinity, a string) is refused, so a bad value can never disable the guard.
 */
export function maxPixelsOf(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_PIXELS;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw badOption(
      `maxPixels must be a positive integer (default ${DEFAULT_MAX_PIXELS}), got ${describe(value)}; ` +
        'the guard cannot be turned off: raise it to the largest image you accept.',
    );
  }
  return value;
}

/** The `fit` option, default 'cover'. */
export function fitOf(value: unknown): Fit {
  if (value === undefined) return 'cover';
  if (value === 'cover' || value === 'contain' || value === 'fill') return value;
  throw badOption(`unknown fit ${describe(value)}: use 'cover', 'contain' or 'fill'.`);
}

/** The `filter` option, default 'lanczos3'. */
export function filterOf(value: unknown): FilterName {
  if (value === undefined) return 'lanczos3';
  if (isFilterName(value)) return value;
  throw badOption(`unknown filter ${describe(value)}: use 'lanczos3' or 'bilinear'.`);
}

/** The `format` option, default 'png'. */
export function formatOf(value: unknown): OutputFormat {
  if (value === undefined) return 'png';
  if (value === 'png' || value === 'jpeg' || value === 'webp' || value === 'raw') return value;
  throw badOption(`unknown output format ${describe(value)}: use 'png', 'jpeg', 'webp' or 'raw'.`);
}

/** The `quality` option: JPEG/WebP quality 1..100 (rounded), undefined for the default. */
export function qualityOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || value > 100) {
    throw badOption(`jpeg/webp quality must be a number from 1 to 100, got ${describe(value)}; pass an integer in range.`);
  }
  return value;
}

/** The `orientation` option: 'auto' (default) applies the EXIF Orientation tag, 'keep' leaves pixels as stored. */
export function orientationOf(value: unknown): 'auto' | 'keep' {
  if (value === undefined) return 'auto';
  if (value === 'auto' || value === 'keep') return value;
  throw badOption(`unknown orientation ${describe(value)}: use 'auto' (apply the EXIF tag, the default) or 'keep'.`);
}

/** The `shrinkOnLoad` option: true (default) lets a JPEG decode at 1/2, 1/4 or 1/8 size when the output is that much smaller. */
export function shrinkOnLoadOf(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value === 'boolean') return value;
  throw badOption(`shrinkOnLoad must be true or false (default true), got ${describe(value)}.`);
}

/** The `background` option: [r, g, b, a], integers 0..255, default transparent black. */
export function backgroundOf(value: unknown): Rgba {
  if (value === undefined) return [0, 0, 0, 0];
  const bad = (): Error => badOption(`background must be [r, g, b, a] with integers 0..255, got ${describe(value)}.`);
  return guarded('background', () => {
    if (!Array.isArray(value) || value.length !== 4) throw bad();
    const c: number[] = [];
    for (let i = 0; i < 4; i++) {
      const v: unknown = value[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) throw bad();
      c.push(v);
    }
    return [c[0] ?? 0, c[1] ?? 0, c[2] ?? 0, c[3] ?? 0] as const;
  });
}

function view(value: unknown, what: string): Uint8Array {
  try {
    const buffer = typedArrayBuffer.call(value) as ArrayBufferLike;
    return new Uint8Array(buffer, typedArrayByteOffset.call(value) as number, typedArrayByteLength.call(value) as number);
  } catch (cause) {
    throw badOption(`${what} cannot be read: its buffer was detached (transferred away); pass a live buffer.`, cause);
  }
}

/**
 * A fresh Uint8Array over the same memory as a genuine Uint8Array (Buffer included) or
 * Uint8ClampedArray, honouring its byteOffset; undefined for anything else.
 */
export function pixelBytes(value: unknown, what: string): Uint8Array | undefined {
  const kind = typedArrayKind(value);
  return kind === 'Uint8Array' || kind === 'Uint8ClampedArray' ? view(value, what) : undefined;
}

/** Bytes of a SharedArrayBuffer, an ArrayBuffer, or a Uint8Array view (the band buffers); TESSERA_IMAGE_OPTION otherwise. */
export function bufferBytes(value: unknown, what: string): Uint8Array {
  const bytes = pixelBytes(value, what);
  if (bytes !== undefined) return bytes;
  if (hasSlot(sharedArrayBufferByteLength, value) || hasSlot(arrayBufferByteLength, value)) {
    try {
      return new Uint8Array(value as ArrayBufferLike);
    } catch (cause) {
      throw badOption(`${what} cannot be read: it was detached (transferred away); pass a live buffer.`, cause);
    }
  }
  throw badOption(`${what} must be a SharedArrayBuffer, an ArrayBuffer or a Uint8Array, got ${describe(value)}.`);
}

/** A genuine typed array of `kind` copied out of the caller's memory (so nobody can change it after it is checked). */
export function copyOfTyped<T extends Int32Array | Int16Array>(value: unknown, kind: 'Int32Array' | 'Int16Array', what: string): T {
  if (typedArrayKind(value) !== kind) throw badOption(`${what} must be an ${kind}, got ${describe(value)}; pass a plan from createResizePlan unchanged.`);
  const bytes = view(value, what);
  const Ctor = kind === 'Int32Array' ? Int32Array : Int16Array;
  const out = new Ctor(bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
  new Uint8Array(out.buffer).set(bytes);
  return out as T;
}

const RAW_USAGE = 'raw RGBA as { data: Uint8Array, width, height }';

/**
 * Validates raw straight RGBA: positive integer width and height, at most `maxPixels` pixels, and
 * `data` a Uint8Array/Uint8ClampedArray of exactly width*height*4 bytes. Returns a fresh descriptor
 * over the caller's memory (no pixel is copied).
 */
export function rawImage(value: unknown, what: string, maxPixels: number): RawImage & { data: Uint8Array } {
  const f = fields(value, what, RAW_USAGE, ['data', 'width', 'height']);
  const width = dimension(`${what}.width`, f.width);
  const height = dimension(`${what}.height`, f.height);
  const data = pixelBytes(f.data, `${what}.data`);
  if (data === undefined) throw badOption(`${what}.data must be a Uint8Array or Uint8ClampedArray of RGBA bytes, got ${describe(f.data)}.`);
  if (width * height > maxPixels) throw tooLarge(width, height, maxPixels);
  if (data.length !== width * height * 4) {
    throw badSize(`${what} is ${width}x${height} but its data holds ${data.length} bytes, not ${width * height * 4}`);
  }
  return { data, width, height };
}

/** Where the encoded bytes or raw image of an `image` field are. */
export type ImageSource = { kind: 'encoded'; bytes: Uint8Array } | { kind: 'raw'; value: unknown };

/** Sorts an `image` field: encoded bytes (a Uint8Array or Buffer), or an object to check as raw RGBA. */
export function imageSource(value: unknown, what = 'image'): ImageSource {
  if (typedArrayKind(value) === 'Uint8Array') return { kind: 'encoded', bytes: view(value, what) };
  if (describe(value) === 'an object') return { kind: 'raw', value };
  throw badOption(`${what} must be PNG/JPEG bytes (a Uint8Array or Buffer) or ${RAW_USAGE}, got ${describe(value)}.`);
}

/** How a resize-type task maps its source onto the output. */
export interface Target {
  /** Requested width, if given. */
  width: number | undefined;
  /** Requested height, if given. */
  height: number | undefined;
  /** Fit mode. */
  fit: Fit;
  /** Resampling filter. */
  filter: FilterName;
  /** Letterbox colour. */
  background: Rgba;
  /** Size guard for input and output. */
  maxPixels: number;
}

/** The target options of a resize-type task, from fields read by {@link fields}. */
export function targetOf(f: Partial<Record<'width' | 'height' | 'fit' | 'filter' | 'background' | 'maxPixels', unknown>>, what = ''): Target {
  return {
    width: optionalDimension(`${what}width`, f.width),
    height: optionalDimension(`${what}height`, f.height),
    fit: fitOf(f.fit),
    filter: filterOf(f.filter),
    background: backgroundOf(f.background),
    maxPixels: maxPixelsOf(f.maxPixels),
  };
}

/** Input of `resizeRaw` (and of its partitioner), validated. */
export interface RawResize extends Target {
  /** The source, checked against maxPixels. */
  src: RawImage & { data: Uint8Array };
}

// shrinkOnLoad is in ResizeRawInput's type (shared with resize) but means nothing to raw input: checked, not used.
const RESIZE_RAW_KEYS = ['src', 'width', 'height', 'fit', 'filter', 'background', 'maxPixels', 'shrinkOnLoad'] as const;

/** Validates a `resizeRaw` input; O(1) in the image's size, so the main thread may call it. */
export function resizeRawInput(value: unknown): RawResize {
  const f = knownFields(value, 'resizeRaw', '{ src: { data, width, height }, width?, height?, fit?, filter?, background?, maxPixels? }', RESIZE_RAW_KEYS);
  const target = targetOf(f);
  shrinkOnLoadOf(f.shrinkOnLoad);
  if (f.src === undefined) throw badOption('resizeRaw needs src: raw RGBA { data, width, height }, e.g. the result of decodeShared.');
  return { ...target, src: rawImage(f.src, 'src', target.maxPixels) };
}
