import { Piscina } from 'piscina';
import type { Contender, CpuInput } from './types.ts';

export function create(threads: number): Contender {
  const pool = new Piscina({
    filename: new URL('../tasks/kernel.mjs', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    maxQueue: Infinity,
  });
  return {
    async start() {
      await Promise.all(Array.from({ length: threads }, (_, i) => pool.run(i, { name: 'tiny' })));
    },
    run: (kind: 'tiny' | 'cpu', input: number | CpuInput) => pool.run(input, { name: kind }) as Promise<number>,
    close: () => pool.destroy(),
  } as Contender;
}
