/**
 * Constructors for the image tasks' errors. The class and its codes live in the error catalogue
 * (src/errors.ts, a leaf module with no imports, so a worker thread may load it); this file builds
 * them with messages that say what to do. Across a thread boundary an error arrives as an Error
 * whose `name` is 'ImageError' and whose `code` survives: branch on `code`.
 *
 *   TESSERA_IMAGE_OPTION     a task input or option is missing, of the wrong type, or unknown
 *                            (fit, filter, format, background, quality, maxPixels, y0/y1 types, ...)
 *   TESSERA_IMAGE_SIZE       a dimension or buffer length is impossible (width 0, data length not
 *                            width*height*4, band rows out of range, a buffer too small for a plan)
 *   TESSERA_IMAGE_TOO_LARGE  the image (input or output) has more pixels than `maxPixels`
 *   TESSERA_IMAGE_CORRUPT    encoded bytes are truncated, damaged, or disagree with their header
 *   TESSERA_IMAGE_FORMAT     bytes in a format (or a variant of one) we cannot decode
 */
import { ErrorCodes, ImageError, type ImageErrorCode } from '../../src/errors.ts';

export { ImageError, type ImageErrorCode };

const IMAGE_CODES: ReadonlySet<string> = new Set<string>([
  ErrorCodes.IMAGE_CORRUPT,
  ErrorCodes.IMAGE_FORMAT,
  ErrorCodes.IMAGE_SIZE,
  ErrorCodes.IMAGE_TOO_LARGE,
  ErrorCodes.IMAGE_OPTION,
]);

/** True when `err` is an ImageError, also for errors rebuilt on the other side of a thread (matched by code). */
export function isImageError(err: unknown): err is ImageError {
  if (err instanceof ImageError) return true;
  if (typeof err !== 'object' || err === null) return false;
  try {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && IMAGE_CODES.has(code);
  } catch {
    return false;
  }
}

/** Raised for corrupt or truncated encoded bytes, and for headers that disagree with their data. */
export function corrupt(what: string, cause?: unknown): ImageError {
  return new ImageError(
    ErrorCodes.IMAGE_CORRUPT,
    `${what}: the image bytes are corrupt or truncated; re-upload or re-encode the file.`,
    cause === undefined ? undefined : { cause },
  );
}

/** Raised for bytes in a format, or a variant of a format, that the codecs cannot read or write. */
export function unsupported(what: string): ImageError {
  return new ImageError(ErrorCodes.IMAGE_FORMAT, what);
}

/** Raised for invalid dimensions or buffer lengths. */
export function badSize(what: string): ImageError {
  return new ImageError(
    ErrorCodes.IMAGE_SIZE,
    `${what}; widths and heights must be positive integers and raw RGBA data must hold exactly width*height*4 bytes.`,
  );
}

/** Raised when an image would exceed the `maxPixels` budget. */
export function tooLarge(width: number, height: number, maxPixels: number): ImageError {
  return new ImageError(
    ErrorCodes.IMAGE_TOO_LARGE,
    `image is ${width}x${height} (${width * height} pixels), over the limit of ${maxPixels} pixels; ` +
      'raise the maxPixels option if this size is expected, or reject the input.',
  );
}

/**
 * Raised for a task input or option that is missing, of the wrong type or unknown; `what` names the
 * field and what it should be. `cause` is what a hostile getter threw, when that is the problem.
 */
export function badOption(what: string, cause?: unknown): ImageError {
  return new ImageError(ErrorCodes.IMAGE_OPTION, what, cause === undefined ? undefined : { cause });
}
