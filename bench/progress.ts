/**
 * Main-thread cost of progress: a task that calls context.progress 1,000,000 times in a tight loop,
 * with onProgress, against the same loop without reporting, and one that yields to its event loop
 * every 1,000 reports (the 16 ms throttle then decides how many reach the main thread). Measures, per run, the wall time, the
 * main thread's event-loop active time (performance.eventLoopUtilization) and the onProgress calls.
 *
 *   node --import tsx bench/progress.ts            (N=1000000 RUNS=7 to change)
 */
import { performance } from 'node:perf_hooks';
import { createPool } from '../src/index.ts';
import type * as tasks from './tasks/progress.ts';

const N = Number(process.env['N'] ?? 1_000_000);
const RUNS = Number(process.env['RUNS'] ?? 7);

const pool = createPool<typeof tasks>({ module: new URL('./tasks/progress.ts', import.meta.url), maxThreads: 1, minThreads: 1 });
await pool.ready();

interface Sample {
  wallMs: number;
  activeMs: number;
  callbacks: number;
}

type Kind = 'silent' | 'reporting, no onProgress' | 'reporting' | 'reporting, yielding every 1,000';

async function measure(kind: Kind): Promise<Sample> {
  let callbacks = 0;
  const onProgress = (): void => void callbacks++;
  const elu = performance.eventLoopUtilization();
  const start = performance.now();
  if (kind === 'silent') await pool.run('silent', { n: N });
  else if (kind === 'reporting') await pool.run('reporting', { n: N }, { onProgress });
  else if (kind === 'reporting, yielding every 1,000') await pool.run('yielding', { n: N }, { onProgress });
  else await pool.run('reporting', { n: N });
  const wallMs = performance.now() - start;
  const used = performance.eventLoopUtilization(elu);
  return { wallMs, activeMs: used.active, callbacks };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const kinds: Kind[] = ['silent', 'reporting, no onProgress', 'reporting', 'reporting, yielding every 1,000'];
// One warm-up round.
for (const kind of kinds) await measure(kind);
const rows: string[] = [];
for (const kind of kinds) {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await measure(kind));
  rows.push(
    `| ${kind} | ${median(samples.map((s) => s.wallMs)).toFixed(1)} | ${median(samples.map((s) => s.activeMs)).toFixed(2)} | ${Math.max(...samples.map((s) => s.callbacks))} |`,
  );
}
await pool.close();
console.log(`${N.toLocaleString('en')} iterations, median of ${RUNS} runs, Node ${process.version}`);
console.log('| task | wall ms | main-thread event-loop active ms | onProgress calls (max) |');
console.log('|---|---|---|---|');
for (const row of rows) console.log(row);
