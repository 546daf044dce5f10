// A two-stage pipeline of plain Workers: floor(threads / 2) stage-1 workers, each wired by a
// MessageChannel to its own stage-2 worker. The main thread posts to stage 1 round robin; stage 1 runs
// the first half of a CPU task (a tiny task is only forwarded), stage 2 the rest, and replies to the
// main thread directly.
import { MessageChannel, Worker } from 'node:worker_threads';
import { roundRobin, WORKER_URL } from './raw-round-robin.ts';
import type { Contender } from './types.ts';

export function create(threads: number): Contender {
  const pairs = Math.max(1, Math.floor(threads / 2));
  const all: Worker[] = [];
  const entries: Worker[] = [];
  const dispatch = roundRobin(entries);
  const watch = (worker: Worker): Worker => {
    all.push(worker);
    worker.on('error', (error) => {
      console.error(error);
      process.exit(1);
    });
    return worker;
  };
  return {
    async start() {
      for (let i = 0; i < pairs; i++) {
        const { port1, port2 } = new MessageChannel();
        entries.push(watch(new Worker(WORKER_URL, { workerData: { role: 'stage1', next: port1 }, transferList: [port1] })));
        watch(new Worker(WORKER_URL, { workerData: { role: 'stage2', prev: port2 }, transferList: [port2] })).on('message', dispatch.onReply);
      }
      await Promise.all(all.map((worker) => new Promise((resolve) => worker.once('online', resolve))));
    },
    run: dispatch.run,
    async close() {
      await Promise.all(all.map((worker) => worker.terminate()));
    },
  } as Contender;
}
