/**
 * Typed errors for the image kernel. Every failure the kernel can predict is an
 * ImageError with a stable `code`, so callers (and the pool, across a thread
 * boundary where only plain properties survive) can branch on `code` instead of
 * parsing messages.
 */

/** The stable error codes the image kernel raises. */
export type ImageErrorCode =
  | 'TESSERA_IMAGE_CORRUPT'
  | 'TESSERA_IMAGE_FORMAT'
  | 'TESSERA_IMAGE_SIZE'
  | 'TESSERA_IMAGE_TOO_LARGE';

/** An expected image failure; `code` is stable, `message` says what to do about it. */
export class ImageError extends Error {
  /** Stable machine-readable reason. */
  readonly code: ImageErrorCode;

  constructor(code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageError';
    this.code = code;
  }
}

/** True when `err` is an ImageError, also for errors rebuilt from a structured clone. */
export function isImageError(err: unknown): err is ImageError {
  if (err instanceof ImageError) return true;
  // Errors crossing worker_threads lose their prototype, so fall back to the code shape.
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    (err as { code: string }).code.startsWith('TESSERA_IMAGE_')
  );
}

/** Raised for corrupt or truncated encoded bytes. */
export function corrupt(what: string, cause?: unknown): ImageError {
  return new ImageError(
    'TESSERA_IMAGE_CORRUPT',
    `${what}: the image bytes are corrupt or truncated; re-upload or re-encode the file.`,
    cause === undefined ? undefined : { cause },
  );
}

/** Raised for invalid dimensions or buffer lengths. */
export function badSize(what: string): ImageError {
  return new ImageError(
    'TESSERA_IMAGE_SIZE',
    `${what}; widths and heights must be positive integers and raw RGBA data must hold exactly width*height*4 bytes.`,
  );
}

/** Raised when an image would exceed the `maxPixels` budget. */
export function tooLarge(width: number, height: number, maxPixels: number): ImageError {
  return new ImageError(
    'TESSERA_IMAGE_TOO_LARGE',
    `image is ${width}x${height} (${width * height} pixels), over the limit of ${maxPixels} pixels; ` +
      'raise the maxPixels option if this size is expected, or reject the input.',
  );
}
