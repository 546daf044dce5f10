/** Helpers shared by the image test files. */
import { afterEach, expect } from 'vitest';
import { ImageError } from '../workers/image.ts';
import type { ImagePool } from '../workers/image/partition.ts';

/** Runs `fn`: the ImageError it throws or rejects with (anything else fails the test), or undefined. */
export async function errorOf(fn: () => unknown): Promise<ImageError | undefined> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ImageError);
    return err as ImageError;
  }
  return undefined;
}

/** A list the test file pushes its image pools on: each is destroyed after the test that made it. */
export function imagePools(): ImagePool[] {
  const pools: ImagePool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.destroy()));
  });
  return pools;
}
