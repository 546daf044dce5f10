// examples/nice-under-load.ts: what `niceIncrement` costs when other processes want the CPU too.
//
//   node --import tsx examples/nice-under-load.ts [--seconds 5] [--threads N] [--hogs N]
//
// Measures a pool's throughput on CPU tasks (about 2 ms of SHA-256 each) with niceIncrement 0 and 19,
// first on a quiet machine, then while --hogs other processes (default: one per core) spin at the
// normal priority. niceIncrement lowers the worker threads below every other process on the machine,
// not only below this process's main thread: under competing load, a niced pool gets what is left.
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { createPool, taskModule } from 'tessera-pool';
import type * as tasks from './tasks.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    threads: { type: 'string', default: String(availableParallelism()) },
    hogs: { type: 'string', default: String(availableParallelism()) },
  },
});
const seconds = Number(values.seconds);
const threads = Number(values.threads);
const hogCount = Number(values.hogs);
const module = taskModule('./tasks.ts', import.meta.url);
const input = { text: 'tessera', rounds: 2_000 };

/** Tasks per second over `seconds`, keeping two tasks per thread in flight. */
async function throughput(niceIncrement: number): Promise<number> {
  await using pool = createPool<typeof tasks>({ module, maxThreads: threads, minThreads: threads, niceIncrement });
  await pool.ready();
  await Promise.all(Array.from({ length: threads * 4 }, () => pool.run('hash', input))); // warm-up
  let done = 0;
  const end = performance.now() + seconds * 1_000;
  const start = performance.now();
  const lane = async (): Promise<void> => {
    while (performance.now() < end) {
      await pool.run('hash', input);
      done++;
    }
  };
  await Promise.all(Array.from({ length: threads * 2 }, lane));
  return done / ((performance.now() - start) / 1_000);
}

function startHogs(count: number): ChildProcess[] {
  return Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }));
}

const results: Record<string, number> = {};
for (const load of ['quiet', 'hogs'] as const) {
  const hogs = load === 'hogs' ? startHogs(hogCount) : [];
  try {
    for (const nice of [0, 19]) {
      results[`${load} nice ${nice}`] = await throughput(nice);
      console.log(`${load === 'quiet' ? 'no other load' : `${hogCount} CPU hog(s)`}, niceIncrement ${nice}: ${results[`${load} nice ${nice}`]!.toFixed(0)} tasks/s`);
    }
  } finally {
    for (const hog of hogs) hog.kill();
  }
}
const ratio = (load: string): string => (results[`${load} nice 19`]! / results[`${load} nice 0`]!).toFixed(2);
console.log(`niceIncrement 19 / 0, no other load: ${ratio('quiet')}x`);
console.log(`niceIncrement 19 / 0, with CPU hogs: ${ratio('hogs')}x`);
console.log(`(${threads} threads, ${hogCount} hog(s), ${seconds} s per measurement, ${availableParallelism()} cores, Node ${process.version})`);
