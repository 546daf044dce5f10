import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { FixedThreadPool } from 'poolifier';
import type { Contender, CpuInput } from './types.ts';

export function create(threads: number): Contender {
  const pool = new FixedThreadPool<number | CpuInput, number>(
    threads,
    fileURLToPath(new URL('../tasks/poolifier-worker.mjs', import.meta.url)),
  );
  return {
    async start() {
      if (!pool.info.ready && pool.emitter !== undefined) await once(pool.emitter, 'ready');
      await Promise.all(Array.from({ length: threads }, (_, i) => pool.execute(i, 'tiny')));
    },
    run: (kind: 'tiny' | 'cpu', input: number | CpuInput) => pool.execute(input, kind),
    close: () => pool.destroy(),
  } as Contender;
}
