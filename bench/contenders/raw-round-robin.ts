// The raw baseline: N long-lived plain Workers, tasks posted round robin with postMessage, results
// matched back by id. No queue, no batching, no library.
import { Worker } from 'node:worker_threads';
import type { Contender, CpuInput } from './types.ts';

export const WORKER_URL = new URL('../tasks/raw-worker.mjs', import.meta.url);

/**
 * Posts `[id, kind, input]` to `targets` round robin and matches `[id, result]` replies back by id:
 * the whole dispatcher of the hand-written models.
 */
export function roundRobin(targets: readonly Worker[]): {
  onReply: (msg: [number, number]) => void;
  run: (kind: 'tiny' | 'cpu', input: number | CpuInput) => Promise<number>;
} {
  const pending = new Map<number, (value: number) => void>();
  let nextId = 0;
  let next = 0;
  return {
    onReply(msg) {
      const resolve = pending.get(msg[0])!;
      pending.delete(msg[0]);
      resolve(msg[1]);
    },
    run(kind, input) {
      const id = nextId++;
      const worker = targets[next]!;
      next = (next + 1) % targets.length;
      return new Promise<number>((resolve) => {
        pending.set(id, resolve);
        worker.postMessage([id, kind, input]);
      });
    },
  };
}

export function create(threads: number): Contender {
  const workers: Worker[] = [];
  const dispatch = roundRobin(workers);
  return {
    async start() {
      for (let i = 0; i < threads; i++) workers.push(new Worker(WORKER_URL, { workerData: { role: 'rr' } }));
      for (const worker of workers) {
        worker.on('message', dispatch.onReply);
        worker.on('error', (error) => {
          console.error(error);
          process.exit(1);
        });
      }
      await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('online', resolve))));
    },
    run: dispatch.run,
    async close() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  } as Contender;
}
