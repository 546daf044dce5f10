import { describe, expect, it } from 'vitest';
import { toShared, type Pool } from '../src/index.ts';
import { makePool } from './helpers.ts';
import type * as Transfers from './fixtures/transfers.ts';

describe('zero-copy helpers', () => {
  it('transfer() moves a result buffer back instead of copying it', async () => {
    const pool: Pool<typeof Transfers> = makePool('transfers.ts');
    const out = await pool.run('filled', { size: 1 << 20, fill: 7 });
    expect(out).toBeInstanceOf(Uint8Array);
    expect(out.length).toBe(1 << 20);
    expect(out[12345]).toBe(7);
  });

  it('toShared() gives memory the thread writes in place', async () => {
    const pool: Pool<typeof Transfers> = makePool('transfers.ts');
    const bytes = toShared(new Uint8Array(1024));
    expect(bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    await expect(pool.run('fillShared', { bytes, fill: 9 })).resolves.toBe(1024);
    // The thread wrote into our memory: no copy came back.
    expect(bytes.every((b) => b === 9)).toBe(true);
    // Already shared: no second copy.
    expect(toShared(bytes)).toBe(bytes);
  });

  it('the transfer run option moves an input buffer to the thread', async () => {
    const pool: Pool<typeof Transfers> = makePool('transfers.ts');
    const buffer = new ArrayBuffer(4096);
    await expect(pool.run('length', { buffer }, { transfer: [buffer] })).resolves.toBe(4096);
    expect(buffer.byteLength).toBe(0);
  });
});
