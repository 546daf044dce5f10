import type * as Tessera from '../../src/index.ts';
import type * as kernel from '../tasks/kernel.mjs';
import type { Contender, CpuInput } from './types.ts';

/**
 * The tessera contender's body, shared by tessera.ts (this checkout) and tessera-baseline.ts (another
 * build, `--baseline DIR`), so both run the same calls; each passes the createPool of the build it loaded.
 * Imports no build itself: a child loads one tessera only (the peak RSS figures depend on it).
 */
export function tesseraContender(createPool: typeof Tessera.createPool, threads: number): Contender {
  const pool = createPool<typeof kernel>({
    module: new URL('../tasks/kernel.mjs', import.meta.url),
    minThreads: threads,
    maxThreads: threads,
    maxQueue: Infinity,
  });
  return {
    async start() {
      await pool.ready();
    },
    run(kind: 'tiny' | 'cpu', input: number | CpuInput, priority?: number): Promise<number> {
      if (kind === 'tiny') return pool.run('tiny', input as number, priority === undefined ? undefined : { priority });
      return pool.run('cpu', input as CpuInput);
    },
    async mapStream(count: number): Promise<number> {
      async function* items(): AsyncGenerator<number> {
        for (let i = 0; i < count; i++) yield i;
      }
      let sum = 0;
      for await (const r of pool.map('tiny', items())) sum = (sum + r) >>> 0;
      return sum;
    },
    close: () => pool.destroy(),
  } as Contender;
}
