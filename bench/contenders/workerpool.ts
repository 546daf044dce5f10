import { fileURLToPath } from 'node:url';
import workerpool from 'workerpool';
import type { Contender, CpuInput } from './types.ts';

export function create(threads: number): Contender {
  const pool = workerpool.pool(fileURLToPath(new URL('../tasks/workerpool-worker.mjs', import.meta.url)), {
    workerType: 'thread',
    minWorkers: threads,
    maxWorkers: threads,
  });
  return {
    async start() {
      await Promise.all(Array.from({ length: threads }, (_, i) => pool.exec('tiny', [i])));
    },
    run: (kind: 'tiny' | 'cpu', input: number | CpuInput) => pool.exec(kind, [input]) as unknown as Promise<number>,
    close: () => pool.terminate() as Promise<void>,
  } as Contender;
}
