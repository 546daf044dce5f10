/**
 * Thread recycling against a leaking task: `node --expose-gc --import tsx bench/recycling.ts`.
 *
 * 100,000 runs of bench/tasks/leak.mjs `leaky` (each keeps --leak KiB of its thread's heap for good)
 * through a pool of --threads threads, once per setting, each in a fresh child process so that one's
 * RSS does not carry into the next: no recycling, `maxHeapPerThreadMb: 64` and `maxTasksPerThread: 10_000`.
 * Each child starts through bench/recycling-child.mjs, so its threads do not inherit `--import tsx`.
 * Prints the process RSS (main thread and worker threads together) at the start, every 10,000 runs
 * and at the end, the throughput of each, and checks that every run returned its value.
 *
 * tessera runs from source (src/ through tsx, which every thread then loads too: a replacement thread
 * starts several times slower) unless TESSERA_BENCH_BUILD names a compiled build, as for bench/soak.ts:
 *
 *   npm run build && TESSERA_BENCH_BUILD=$PWD/dist node --expose-gc --import tsx bench/recycling.ts
 *
 *   options: --runs N (100000), --every N (10000), --leak KiB (4), --threads N (2), --window N (2000)
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type * as Tessera from '../src/index.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '100000' },
    every: { type: 'string', default: '10000' },
    leak: { type: 'string', default: '4' },
    threads: { type: 'string', default: '2' },
    window: { type: 'string', default: '2000' },
    setting: { type: 'string' },
  },
  strict: true,
});

function int(name: 'runs' | 'every' | 'leak' | 'threads' | 'window'): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be an integer >= 1, got ${String(values[name])}`);
  return n;
}

const SETTINGS: Record<string, Partial<Tessera.PoolOptions>> = {
  none: {},
  'maxHeapPerThreadMb: 64': { maxHeapPerThreadMb: 64 },
  'maxTasksPerThread: 10000': { maxTasksPerThread: 10_000 },
};

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

interface Outcome {
  setting: string;
  startRss: number;
  peakRss: number;
  endRss: number;
  runsPerSecond: number;
  retired: number;
}

async function child(setting: string): Promise<void> {
  const build = process.env['TESSERA_BENCH_BUILD'];
  const { createPool } = (await import(build ? new URL(`file://${build}/src/index.js`).href : '../src/index.ts')) as typeof Tessera;
  const runs = int('runs');
  const every = int('every');
  const kb = int('leak');
  const window = int('window');
  const threads = int('threads');
  const pool = createPool<typeof import('./tasks/leak.mjs')>({
    module: new URL('./tasks/leak.mjs', import.meta.url),
    minThreads: threads,
    maxThreads: threads,
    ...SETTINGS[setting],
  });
  await pool.ready();
  globalThis.gc?.();
  const startRss = process.memoryUsage.rss();
  let peakRss = startRss;
  console.log(`  ${setting}: start RSS ${mib(startRss)}`);
  const start = performance.now();
  let wrong = 0;
  for (let done = 0; done < runs; ) {
    const wave = Math.min(window, runs - done);
    const results = await Promise.all(Array.from({ length: wave }, (_, i) => pool.run('leaky', { x: done + i, kb })));
    results.forEach((value, i) => value !== done + i + 1 && wrong++);
    const before = done;
    done += wave;
    if (Math.floor(done / every) > Math.floor(before / every) || done === runs) {
      const rss = process.memoryUsage.rss();
      peakRss = Math.max(peakRss, rss);
      const at = ((performance.now() - start) / 1000).toFixed(1);
      console.log(`  ${setting}: ${done.toLocaleString('en-US')} runs, ${at} s, RSS ${mib(rss)}, threads retired ${pool.stats().retired}`);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const stats = pool.stats();
  const endRss = process.memoryUsage.rss();
  await pool.destroy();
  if (wrong > 0 || stats.failed > 0) throw new Error(`${wrong} runs returned a wrong value, ${stats.failed} failed`);
  const outcome: Outcome = { setting, startRss, peakRss, endRss, runsPerSecond: runs / seconds, retired: stats.retired };
  console.log(`RESULT ${JSON.stringify(outcome)}`);
}

function parent(): void {
  const entry = fileURLToPath(new URL('./recycling-child.mjs', import.meta.url));
  const passed = process.argv.slice(2);
  console.log(`${Number(values.runs).toLocaleString('en-US')} runs of a task leaking ${values.leak} KiB each, ${values.threads} threads, Node ${process.version}`);
  const outcomes: Outcome[] = [];
  for (const setting of Object.keys(SETTINGS)) {
    const output = execFileSync(process.execPath, ['--expose-gc', entry, ...passed, '--setting', setting], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    for (const line of output.split('\n')) {
      if (line.startsWith('RESULT ')) outcomes.push(JSON.parse(line.slice(7)) as Outcome);
      else if (line) console.log(line);
    }
  }
  console.log('\n| recycling | RSS at start | peak RSS | RSS at end | runs/s | threads retired |');
  console.log('|---|---|---|---|---|---|');
  for (const o of outcomes) {
    console.log(`| ${o.setting} | ${mib(o.startRss)} | ${mib(o.peakRss)} | ${mib(o.endRss)} | ${Math.round(o.runsPerSecond).toLocaleString('en-US')} | ${o.retired} |`);
  }
}

if (values.setting === undefined) parent();
else await child(values.setting);
