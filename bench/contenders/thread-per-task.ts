// A new Worker per task (thread per request), at most `threads` alive at once; the rest wait in a FIFO.
import { Worker } from 'node:worker_threads';
import { WORKER_URL } from './raw-round-robin.ts';
import type { Contender, CpuInput } from './types.ts';

interface Job {
  kind: 'tiny' | 'cpu';
  input: number | CpuInput;
  resolve: (value: number) => void;
}

export function create(threads: number): Contender {
  const waiting: Job[] = [];
  let head = 0;
  let alive = 0;
  const spawn = (job: Job): void => {
    alive++;
    const worker = new Worker(WORKER_URL, { workerData: { role: 'once', kind: job.kind, input: job.input } });
    worker.once('message', job.resolve);
    worker.once('error', (error) => {
      console.error(error);
      process.exit(1);
    });
    worker.once('exit', () => {
      alive--;
      if (head < waiting.length) {
        const nextJob = waiting[head]!;
        waiting[head++] = undefined as unknown as Job;
        spawn(nextJob);
      }
    });
  };
  return {
    async start() {},
    run(kind: 'tiny' | 'cpu', input: number | CpuInput): Promise<number> {
      return new Promise<number>((resolve) => {
        const job = { kind, input, resolve };
        if (alive < threads) spawn(job);
        else waiting.push(job);
      });
    },
    async close() {},
  } as Contender;
}
