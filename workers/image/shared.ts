/** Helpers for moving pixels into SharedArrayBuffers that band workers can all read. */
import type { RawImage } from './types.ts';

/** Copies a raw image into a SharedArrayBuffer-backed RawImage (one copy, then zero-copy to every worker). */
export function toShared(image: RawImage): RawImage & { data: Uint8Array } {
  if (image.data.buffer instanceof SharedArrayBuffer) {
    return { data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength), width: image.width, height: image.height };
  }
  const data = new Uint8Array(new SharedArrayBuffer(image.data.byteLength));
  data.set(image.data);
  return { data, width: image.width, height: image.height };
}
