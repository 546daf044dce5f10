// The raw baseline: N long-lived plain Workers, tasks posted round robin with postMessage, results
// matched back by id. No queue, no batching, no library.
import { Worker } from 'node:worker_threads';
import type { Contender, CpuInput } from './types.ts';

export const WORKER_URL = new URL('../tasks/raw-worker.mjs', import.meta.url);

export function create(threads: number): Contender {
  const pending = new Map<number, (value: number) => void>();
  let workers: Worker[] = [];
  let nextId = 0;
  let next = 0;
  const onMessage = (msg: [number, number]): void => {
    const resolve = pending.get(msg[0])!;
    pending.delete(msg[0]);
    resolve(msg[1]);
  };
  return {
    async start() {
      workers = Array.from({ length: threads }, () => new Worker(WORKER_URL, { workerData: { role: 'rr' } }));
      for (const worker of workers) {
        worker.on('message', onMessage);
        worker.on('error', (error) => {
          console.error(error);
          process.exit(1);
        });
      }
      await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('online', resolve))));
    },
    run(kind: 'tiny' | 'cpu', input: number | CpuInput): Promise<number> {
      const id = nextId++;
      const worker = workers[next]!;
      next = (next + 1) % workers.length;
      return new Promise<number>((resolve) => {
        pending.set(id, resolve);
        worker.postMessage([id, kind, input]);
      });
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  } as Contender;
}
