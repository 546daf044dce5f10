import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { FixedThreadPool } from 'poolifier';
import type { Contender, CpuInput } from './types.ts';

/**
 * poolifier unrefs its threads, so while a child only awaits poolifier (its 'ready' event, the
 * threads' exit) nothing else holds the event loop. A timer holds it for those awaits.
 */
async function holdingTheLoop<T>(work: () => Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 1_000);
  try {
    return await work();
  } finally {
    clearInterval(hold);
  }
}

/**
 * Closes the pool and resolves once every thread has exited. poolifier 5.3.2's destroy() sometimes
 * never settles: its kill message makes the thread close its port and exit on its own, and when that
 * 'exit' is emitted before destroy reaches worker.terminate() (which only then listens for 'exit'),
 * the promise waits for an event that has passed (about 1 close in 10 on a loaded 2-core machine).
 * Without a handle Node then quit with exit code 13; with the timer above it hung until the runner's
 * timeout. So the threads' own 'exit' events, listened for before destroy starts, decide.
 */
async function destroy(pool: FixedThreadPool<number | CpuInput, number>): Promise<void> {
  const exited = pool.workerNodes.map((node) => (node.worker.threadId === -1 ? undefined : once(node.worker, 'exit')));
  const destroyed = pool.destroy();
  destroyed.catch(() => {}); // an error after every thread has exited changes nothing
  await holdingTheLoop(() => Promise.race([destroyed, Promise.all(exited)]));
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
    close: () => destroy(pool),
  } as Contender;
}
