import type * as Tessera from '../../src/index.ts';
import type * as kernel from '../tasks/kernel.mjs';
import type { Contender, CpuInput } from './types.ts';

/**
 * run.ts compiles src/ to plain JavaScript first (what npm users run) and passes the folder in
 * TESSERA_BENCH_BUILD; without it (runner.ts started by hand) tessera runs from source through tsx,
 * whose loader then also runs in each of its threads (slower start, more memory).
 */
const build = process.env.TESSERA_BENCH_BUILD;
const { createPool } = (await import(
  build ? new URL(`file://${build}/src/index.js`).href : '../../src/index.ts'
)) as typeof Tessera;

export function create(threads: number): Contender {
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
