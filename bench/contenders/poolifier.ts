import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { FixedThreadPool } from 'poolifier';
import type { Contender, CpuInput } from './types.ts';

/**
 * poolifier unrefs its threads, so while a child only awaits poolifier (its 'ready' event, destroy)
 * nothing may hold the event loop and Node exits with the await unsettled (exit code 13, seen about
 * once in 60 children). A timer holds the loop for those awaits.
 */
async function holdingTheLoop<T>(work: () => Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 1_000);
  try {
    return await work();
  } finally {
    clearInterval(hold);
  }
}

export function create(threads: number): Contender {
  const pool = new FixedThreadPool<number | CpuInput, number>(
    threads,
    fileURLToPath(new URL('../tasks/poolifier-worker.mjs', import.meta.url)),
  );
  return {
    start: () =>
      holdingTheLoop(async () => {
        if (!pool.info.ready && pool.emitter !== undefined) await once(pool.emitter, 'ready');
        await Promise.all(Array.from({ length: threads }, (_, i) => pool.execute(i, 'tiny')));
      }),
    run: (kind: 'tiny' | 'cpu', input: number | CpuInput) => pool.execute(input, kind),
    close: () => holdingTheLoop(() => pool.destroy()),
  } as Contender;
}
