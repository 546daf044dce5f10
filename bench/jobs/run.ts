/** The jobs, written once against the Contender interface so every contender runs the same code. */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Contender } from '../contenders/types.ts';
import type { BurstParams, BurstResult, CpuParams, CpuResult, CpuRun, StreamParams, StreamResult } from './types.ts';

const maxRssKiB = (): number => process.resourceUsage().maxRSS;

/** Deterministic priorities 0-9 (the same sequence in every run). */
function priorities(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = 0x2545f491;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) % 10;
  }
  return out;
}

function percentile(sorted: Float64Array, p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** Submits `n` tiny tasks at once and waits for all; resolves with the checksum (sum mod 2^32). */
async function burst(c: Contender, n: number, prio: Uint8Array | undefined): Promise<number> {
  const promises = new Array<Promise<number>>(n);
  if (prio === undefined) for (let i = 0; i < n; i++) promises[i] = c.run('tiny', i);
  else for (let i = 0; i < n; i++) promises[i] = c.run('tiny', i, prio[i]);
  const results = await Promise.all(promises);
  let sum = 0;
  for (const r of results) sum = (sum + r) >>> 0;
  return sum;
}

async function roundTrips(c: Contender, n: number): Promise<Float64Array> {
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await c.run('tiny', i);
    times[i] = (performance.now() - t0) * 1000;
  }
  return times.sort();
}

export async function runBurst(c: Contender, p: BurstParams): Promise<BurstResult> {
  const prio = p.priorities ? priorities(p.tasks) : undefined;
  const warm = Math.max(1, Math.floor(p.tasks / 10));
  for (let w = 0; w < p.warmups; w++) {
    await burst(c, warm, prio);
    await roundTrips(c, Math.min(100, p.roundTrips));
    if (p.windowTasks > 0) await stream(c, Math.max(1, Math.floor(p.windowTasks / 10)), p.window);
  }
  const t0 = performance.now();
  const checksum = await burst(c, p.tasks, prio);
  const burstMs = performance.now() - t0;
  const burstPeakRssKiB = maxRssKiB();
  const rtt = await roundTrips(c, p.roundTrips);
  let windowTasksPerSec = 0;
  let windowChecksum = 0;
  if (p.windowTasks > 0) {
    const t1 = performance.now();
    windowChecksum = await stream(c, p.windowTasks, p.window);
    windowTasksPerSec = p.windowTasks / ((performance.now() - t1) / 1000);
  }
  return {
    tasks: p.tasks,
    burstMs,
    tasksPerSec: p.tasks / (burstMs / 1000),
    burstPeakRssKiB,
    roundTrips: p.roundTrips,
    rttP50Us: rtt.length > 0 ? percentile(rtt, 50) : 0,
    rttP99Us: rtt.length > 0 ? percentile(rtt, 99) : 0,
    windowTasks: p.windowTasks,
    windowTasksPerSec,
    checksum,
    windowChecksum,
  };
}

/** Runs `items` tiny tasks with at most `window` in flight. */
function stream(c: Contender, items: number, window: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let submitted = 0;
    let done = 0;
    let sum = 0;
    const onResult = (r: number): void => {
      sum = (sum + r) >>> 0;
      if (++done === items) resolve(sum);
      else pump();
    };
    const pump = (): void => {
      while (submitted < items && submitted - done < window) c.run('tiny', submitted++).then(onResult, reject);
    };
    pump();
  });
}

/** The memory job's stream: through the contender's own stream API (tessera's pool.map), else a window of runs. */
function longStream(c: Contender, items: number, window: number): Promise<number> {
  return c.mapStream ? c.mapStream(items) : stream(c, items, window);
}

export async function runStream(c: Contender, p: StreamParams): Promise<StreamResult> {
  const warm = Math.max(1, Math.min(20_000, Math.floor(p.items / 20)));
  for (let w = 0; w < p.warmups; w++) await longStream(c, warm, p.window);
  const t0 = performance.now();
  const checksum = await longStream(c, p.items, p.window);
  const streamMs = performance.now() - t0;
  return {
    items: p.items,
    window: p.window,
    streamMs,
    tasksPerSec: p.items / (streamMs / 1000),
    streamPeakRssKiB: maxRssKiB(),
    checksum,
  };
}

export async function runCpu(create: (threads: number) => Contender, p: CpuParams): Promise<CpuResult> {
  const runs: CpuRun[] = [];
  for (const threads of p.threadCounts) {
    const c = create(threads);
    await c.start();
    runs.push(await cpuRun(c, p, threads));
    await c.close();
  }
  return { runs };
}

async function cpuRun(c: Contender, p: CpuParams, threads: number): Promise<CpuRun> {
  const warm = Math.max(2, threads * 2);
  for (let w = 0; w < p.warmups; w++) {
    await Promise.all(Array.from({ length: warm }, (_, i) => c.run('cpu', { seed: i, iterations: p.iterations })));
  }
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  // Let the monitor's timer turn a few times first: it records the gap between two of its turns, so
  // it must have turned once before a block (the main-thread contender's whole run) to record it.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const promises = new Array<Promise<number>>(p.tasks);
  for (let i = 0; i < p.tasks; i++) promises[i] = c.run('cpu', { seed: i, iterations: p.iterations });
  const results = await Promise.all(promises);
  const wallMs = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  // One more timer turn, so a loop blocked until now (the main-thread contender) records that block.
  await new Promise((resolve) => setTimeout(resolve, 3));
  histogram.disable();
  let checksum = 0;
  for (const r of results) checksum = (checksum + r) >>> 0;
  const ms = (ns: number): number => ns / 1e6;
  return {
    tasks: p.tasks,
    threads,
    wallMs,
    tasksPerSec: p.tasks / (wallMs / 1000),
    eldP50Ms: ms(histogram.percentile(50)),
    eldP99Ms: ms(histogram.percentile(99)),
    eldMaxMs: ms(histogram.max),
    elu,
    checksum,
  };
}
