/**
 * THE SCENARIO REGISTRY. Each scenario says which child jobs it needs (`needs`) and how it turns their
 * samples into report sections (`sections`). run.ts plans the union of the needed jobs, runs each for
 * every contender in a fresh child process, then asks every selected scenario for its sections.
 *
 * ─── EXTENSION POINT: scenario 4, image resizing ───────────────────────────────────────────────────
 * The image scenario is not built yet. To add it:
 *   1. add the task (the same code for every contender) to bench/tasks/ and, for the plain-Worker
 *      contenders, a role in bench/tasks/raw-worker.mjs;
 *   2. add a job: its params/result types in bench/jobs/types.ts, its body in bench/jobs/run.ts, its
 *      case in bench/runner.ts, and a `Need` below that run.ts plans;
 *   3. add 'image' to SCENARIO_IDS in bench/config.ts and an entry to `scenarios` below.
 * The orchestrator, the progress bar, the JSON, the markdown and the ratio-to-tessera need no change.
 * ───────────────────────────────────────────────────────────────────────────────────────────────────
 */
import type { Config, ScenarioId } from './config.ts';
import { selectContenders } from './contenders/index.ts';
import type { ContenderInfo } from './contenders/types.ts';
import type { BurstResult, CpuResult, CpuRun, JobName, JobParams, RunnerOutput, StreamResult } from './jobs/types.ts';
import { median, sig, type MetricDef, type RowData, type SectionData } from './report.ts';

/** The child jobs a scenario can need. */
export type Need = 'burst' | 'burstPriority' | 'stream' | 'cpuScaling' | 'cpuLatency';

/** Why a child gave no result: killed at its time limit, exited without one, or not run (its contender timed out too often). */
export type Failure = 'timed out' | 'failed' | 'skipped';

/** One child process: one job, one contender, one repetition. */
export interface Sample {
  need: Need;
  job: JobName;
  contender: string;
  rep: number;
  /** Position in the run (contenders are interleaved and their order rotates every repetition). */
  order: number;
  params: JobParams;
  output?: RunnerOutput;
  error?: string;
  failure?: Failure;
  elapsedMs: number;
  /** The child's time limit (run.ts childTimeoutMs). */
  timeoutMs?: number;
}

export interface Scenario {
  id: ScenarioId;
  title: string;
  needs(config: Config): Need[];
  sections(config: Config, samples: Sample[]): SectionData[];
}

const round = (digits: number) => (v: number) => v.toFixed(digits);
const perSec: MetricDef['format'] = sig;
const mib = (kib: number): number => kib / 1024;

function results<R>(samples: Sample[], need: Need, contender: string): R[] {
  return samples.filter((s) => s.need === need && s.contender === contender && s.output).map((s) => s.output!.result as R);
}

function skipReason(c: ContenderInfo, config: Config, job: JobName): string | undefined {
  if (c.skips?.[job as 'stream'] !== undefined) return c.skips[job as 'stream'];
  if (c.minThreads !== undefined && config.threads < c.minThreads && !(job === 'cpu')) return `needs at least ${c.minThreads} threads`;
  return undefined;
}

function selected(config: Config): ContenderInfo[] {
  return selectContenders(config);
}

/** "timed out", "2 of 3 runs failed", …: the mark a row gets when some of its children gave no result. */
function failedNote(samples: Sample[], need: Need, id: string): string | undefined {
  const mine = samples.filter((s) => s.need === need && s.contender === id);
  const parts: string[] = [];
  for (const failure of ['timed out', 'failed', 'skipped'] as const) {
    const n = mine.filter((s) => s.error !== undefined && (s.failure ?? 'failed') === failure).length;
    if (n === 0) continue;
    const shown = failure === 'skipped' ? 'not run' : failure;
    parts.push(mine.length === 1 ? shown : `${n} of ${mine.length} runs ${shown}`);
  }
  return parts.length > 0 ? parts.join(', ') : undefined;
}

function rowsFor<R>(
  config: Config,
  samples: Sample[],
  need: Need,
  job: JobName,
  values: (r: R) => Record<string, number>,
  note: (rs: R[]) => string | undefined,
): RowData[] {
  return selected(config).map((c) => {
    const skipped = skipReason(c, config, job);
    const rs = results<R>(samples, need, c.id);
    const rowValues: Record<string, number[]> = {};
    for (const r of rs) for (const [k, v] of Object.entries(values(r))) (rowValues[k] ??= []).push(v);
    const notes = [note(rs), failedNote(samples, need, c.id)].filter((n) => n !== undefined);
    return { id: c.id, label: c.label, note: notes.length > 0 ? notes.join(', ') : undefined, skipped, values: rowValues };
  });
}

const fmtCount = (n: number): string => n.toLocaleString('en-US');

const overhead: Scenario = {
  id: 'overhead',
  title: 'Dispatch overhead',
  needs: () => ['burst', 'burstPriority'],
  sections(config, samples) {
    const z = config.sizes;
    const metrics: MetricDef[] = [
      { key: 'burst', label: `${fmtCount(z.burst)} at once`, unit: 'tasks/s', better: 'higher', format: perSec },
      { key: 'window', label: `${fmtCount(z.window)} in flight`, unit: 'tasks/s', better: 'higher', format: perSec },
      { key: 'p50', label: 'round trip p50', unit: 'µs', better: 'lower', format: sig },
      { key: 'p99', label: 'round trip p99', unit: 'µs', better: 'lower', format: sig },
    ];
    const rows = rowsFor<BurstResult>(
      config,
      samples,
      'burst',
      'burst',
      (r) => ({ burst: r.tasksPerSec, window: r.windowTasksPerSec, p50: r.rttP50Us, p99: r.rttP99Us }),
      (rs) => (rs[0] && rs[0].tasks !== z.burst ? `${fmtCount(rs[0].tasks)} tasks, ${fmtCount(rs[0].roundTrips)} round trips` : undefined),
    );
    for (const c of selected(config).filter((c) => c.supportsPriority)) {
      const rs = results<BurstResult>(samples, 'burstPriority', c.id);
      const index = rows.findIndex((r) => r.id === c.id);
      rows.splice(index + 1, 0, {
        id: `${c.id}-priority`,
        label: `${c.label}, priority 0-9`,
        note: ['burst only', failedNote(samples, 'burstPriority', c.id)].filter((n) => n !== undefined).join(', '),
        values: { burst: rs.map((r) => r.tasksPerSec) },
      });
    }
    return [
      {
        id: 'overhead',
        scenario: 'overhead',
        title: `1. Dispatch overhead: tiny task (x + 1), ${config.threads} threads`,
        note: `${fmtCount(z.burst)} tasks submitted at once; ${fmtCount(z.windowTasks)} tasks with at most ${fmtCount(z.window)} in flight; ${fmtCount(z.roundTrips)} sequential round trips.`,
        metrics,
        rows,
      },
    ];
  },
};

/** Median main-thread tasks/s of the CPU job: the speedup baseline. */
function sequentialRate(samples: Sample[]): number | undefined {
  const runs = samples
    .filter((s) => s.contender === 'main-thread' && s.job === 'cpu' && s.output)
    .flatMap((s) => (s.output!.result as CpuResult).runs);
  return runs.length > 0 ? median(runs.map((r) => r.tasksPerSec)) : undefined;
}

function cpuRows(config: Config, samples: Sample[], need: Need, threads: number, values: (r: CpuRun) => Record<string, number>): RowData[] {
  return selected(config).map((c) => {
    const runs = samples
      .filter((s) => s.need === need && s.contender === c.id && s.output)
      .flatMap((s) => (s.output!.result as CpuResult).runs)
      .filter((r) => c.threadless || r.threads === threads);
    const rowValues: Record<string, number[]> = {};
    for (const r of runs) for (const [k, v] of Object.entries(values(r))) (rowValues[k] ??= []).push(v);
    const first = runs[0];
    const notes = [
      first && first.tasks !== config.sizes.cpuTasks ? `${fmtCount(first.tasks)} tasks` : undefined,
      c.threadless ? 'no threads' : undefined,
      failedNote(samples, need, c.id),
    ].filter((n) => n !== undefined);
    const skipped = c.minThreads !== undefined && threads < c.minThreads ? `needs at least ${c.minThreads} threads` : undefined;
    return { id: c.id, label: c.label, note: notes.length > 0 ? notes.join(', ') : undefined, skipped, values: rowValues };
  });
}

const cpu: Scenario = {
  id: 'cpu',
  title: 'CPU-bound tasks',
  needs: () => ['cpuScaling'],
  sections(config, samples) {
    const z = config.sizes;
    const seq = sequentialRate(samples);
    return z.scaling.map((threads) => ({
      id: `cpu-${threads}`,
      scenario: 'cpu' as const,
      title: `2. CPU-bound: ${fmtCount(z.cpuTasks)} tasks of ~${z.cpuTaskMs} ms, ${threads} thread${threads > 1 ? 's' : ''}`,
      note: `Speedup: tasks/s ÷ main-thread tasks/s; efficiency: speedup ÷ ${threads}. The machine has the cores listed above.`,
      metrics: [
        { key: 'wall', label: 'wall', unit: 's', better: 'lower', format: round(2) },
        { key: 'rate', label: 'throughput', unit: 'tasks/s', better: 'higher', format: sig },
        { key: 'speedup', label: 'speedup', unit: '×', better: 'higher', format: round(2) },
        { key: 'efficiency', label: 'efficiency', unit: '%', better: 'higher', format: round(0) },
      ],
      rows: cpuRows(config, samples, 'cpuScaling', threads, (r) => ({
        wall: r.wallMs / 1000,
        rate: r.tasksPerSec,
        ...(seq === undefined ? {} : { speedup: r.tasksPerSec / seq, efficiency: (100 * r.tasksPerSec) / seq / (r.threads === threads ? threads : 1) }),
      })),
    }));
  },
};

/** The latency figures reuse the scaling run at --threads when there is one. */
function latencyNeed(config: Config): Need {
  return config.scenarios.includes('cpu') && config.sizes.scaling.includes(config.threads) ? 'cpuScaling' : 'cpuLatency';
}

const latency: Scenario = {
  id: 'latency',
  title: 'Event-loop responsiveness',
  needs: (config) => [latencyNeed(config)],
  sections(config, samples) {
    const z = config.sizes;
    return [
      {
        id: 'latency',
        scenario: 'latency',
        title: `3. Main event loop while the CPU-bound run (${fmtCount(z.cpuTasks)} × ~${z.cpuTaskMs} ms) runs, ${config.threads} threads`,
        note: 'perf_hooks.monitorEventLoopDelay (resolution 1 ms; an idle loop reads about 1 ms) and performance.eventLoopUtilization over the run.',
        metrics: [
          { key: 'p50', label: 'delay p50', unit: 'ms', better: 'lower', format: round(2) },
          { key: 'p99', label: 'delay p99', unit: 'ms', better: 'lower', format: round(2) },
          { key: 'max', label: 'delay max', unit: 'ms', better: 'lower', format: sig },
          { key: 'elu', label: 'utilization', unit: '%', better: 'lower', format: round(1) },
        ],
        rows: cpuRows(config, samples, latencyNeed(config), config.threads, (r) => ({ p50: r.eldP50Ms, p99: r.eldP99Ms, max: r.eldMaxMs, elu: r.elu * 100 })),
      },
    ];
  },
};

const memory: Scenario = {
  id: 'memory',
  title: 'Memory',
  needs: () => ['burst', 'stream'],
  sections(config, samples) {
    const z = config.sizes;
    const burstRows = rowsFor<BurstResult>(
      config,
      samples,
      'burst',
      'burst',
      (r) => ({ burst: mib(r.burstPeakRssKiB) }),
      (rs) => (rs[0] && rs[0].tasks !== z.burst ? `burst of ${fmtCount(rs[0].tasks)}` : undefined),
    );
    const streamRows = rowsFor<StreamResult>(
      config,
      samples,
      'stream',
      'stream',
      (r) => ({ stream: mib(r.streamPeakRssKiB), rate: r.tasksPerSec }),
      () => undefined,
    );
    const start = new Map<string, number[]>();
    for (const s of samples) if (s.output && (s.need === 'burst' || s.need === 'stream')) (start.get(s.contender) ?? start.set(s.contender, []).get(s.contender)!).push(mib(s.output.startRssKiB));
    const rows = burstRows.map((row, i) => {
      const streamRow = streamRows[i]!;
      return {
        ...row,
        skipped: row.skipped ?? (streamRow.skipped && Object.keys(row.values).length === 0 ? streamRow.skipped : undefined),
        note: [row.note, streamRow.note ? `stream ${streamRow.note}` : undefined, streamRow.skipped ? `no stream: ${streamRow.skipped}` : undefined].filter(Boolean).join(', ') || undefined,
        values: { ...row.values, ...streamRow.values, start: start.get(row.id) ?? [] },
      };
    });
    return [
      {
        id: 'memory',
        scenario: 'memory',
        title: `5. Peak RSS (process.resourceUsage().maxRSS in the child), ${config.threads} threads`,
        note: `Burst: right after ${fmtCount(z.burst)} tiny tasks submitted at once. Stream: ${fmtCount(z.streamItems)} items from a generator, through pool.map for tessera (bounded read-ahead), through run() with at most ${fmtCount(z.window)} in flight for the others, ${z.streamReps} repetition(s). Start: the child before loading the contender.`,
        metrics: [
          { key: 'burst', label: 'burst peak', unit: 'MiB', better: 'lower', format: round(0) },
          { key: 'stream', label: 'stream peak', unit: 'MiB', better: 'lower', format: round(0) },
          { key: 'rate', label: 'stream', unit: 'tasks/s', better: 'higher', format: sig },
          { key: 'start', label: 'at start', unit: 'MiB', better: 'lower', format: round(0) },
        ],
        rows,
      },
    ];
  },
};

/** The registry, in report order. Add the image scenario here (see the EXTENSION POINT above). */
export const scenarios: readonly Scenario[] = [overhead, cpu, latency, memory];
