/** Command-line flags and the workload sizes of each mode. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export type Mode = 'full' | 'quick' | 'tiny';
export const SCENARIO_IDS = ['overhead', 'cpu', 'latency', 'memory'] as const;
/**
 * Scenarios with a script of their own, run only when named (`--scenario image`): scenario 4 (image
 * resizing, the partitioning issue's figures) and pool.map against one run per item.
 */
export const SCRIPT_SCENARIOS = { image: 'bench/image.ts', map: 'bench/map.ts' } as const;
export type ScriptScenarioId = keyof typeof SCRIPT_SCENARIOS;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export interface Sizes {
  /** Tiny tasks submitted at once. */
  burst: number;
  /** Sequential round trips. */
  roundTrips: number;
  /** Tiny tasks run with `window` in flight (the overhead scenario). */
  windowTasks: number;
  window: number;
  /** Items streamed for the memory scenario. */
  streamItems: number;
  /** CPU-bound tasks per run and the time each should take. */
  cpuTasks: number;
  cpuTaskMs: number;
  /** Thread counts of the scaling runs. */
  scaling: number[];
  /** Measured repetitions (each contender in a fresh child per repetition). */
  reps: number;
  /** Repetitions of the 1,000,000-item stream (the longest job by far). */
  streamReps: number;
  /** Warm-up rounds inside each child before it measures. */
  warmups: number;
  /** Caps for the thread-per-task model, which pays a Worker start per task. */
  threadPerTaskCaps: { burst: number; roundTrips: number; cpu: number };
}

export const SIZES: Record<Mode, Sizes> = {
  full: {
    burst: 100_000,
    roundTrips: 1_000,
    windowTasks: 100_000,
    window: 1_000,
    streamItems: 1_000_000,
    cpuTasks: 2_000,
    cpuTaskMs: 2,
    scaling: [1, 2, 4],
    reps: 3,
    streamReps: 1,
    warmups: 1,
    threadPerTaskCaps: { burst: 100, roundTrips: 30, cpu: 60 },
  },
  quick: {
    burst: 10_000,
    roundTrips: 300,
    windowTasks: 10_000,
    window: 1_000,
    streamItems: 30_000,
    cpuTasks: 150,
    cpuTaskMs: 2,
    scaling: [1, 2, 4],
    reps: 3,
    streamReps: 3,
    warmups: 1,
    threadPerTaskCaps: { burst: 40, roundTrips: 10, cpu: 20 },
  },
  tiny: {
    burst: 200,
    roundTrips: 20,
    windowTasks: 200,
    window: 50,
    streamItems: 500,
    cpuTasks: 20,
    cpuTaskMs: 0.2,
    scaling: [1, 2],
    reps: 1,
    streamReps: 1,
    warmups: 1,
    threadPerTaskCaps: { burst: 10, roundTrips: 4, cpu: 6 },
  },
};

export interface Config {
  mode: Mode;
  sizes: Sizes;
  scenarios: ScenarioId[];
  /** Scenarios run by their own script, in the order named. */
  scripts: ScriptScenarioId[];
  /** Threads of every pool contender (and of the latency run). */
  threads: number;
  /** Contender ids to run (default: all). */
  contenders: string[] | undefined;
  /** Where the JSON, markdown and SVG go; undefined: bench/results/. */
  out: string | undefined;
  /** Also copy the outputs to bench/readme/, the figures the README shows. */
  readme: boolean;
  /**
   * Another tessera to run beside this checkout's, as the contender "tessera (baseline)" (--baseline):
   * an absolute path, either a checkout (has tsconfig.build.json; run.ts compiles it like this one) or
   * a build (has src/index.js, or dist/src/index.js). Undefined: no baseline row.
   */
  baseline: string | undefined;
  /** Time limit of every child (--child-timeout); undefined: in proportion to its work (run.ts). */
  childTimeoutMs: number | undefined;
}

const USAGE = `Usage: node --import tsx bench/run.ts [options]
  --quick             about 2 minutes: smaller sizes, 1 warm-up, 3 repetitions
  --tiny              test sizes (also BENCH_TINY=1): seconds, 1 repetition, figures meaningless
  --scenario NAME     overhead | cpu | latency | memory (repeatable; default: all four)
                      image | map: scripts of their own (bench/image.ts, bench/map.ts), only when named
  --threads N         threads of every pool contender (default 2)
  --contenders A,B    run only these contenders (ids: see bench/contenders/index.ts)
  --reps N            measured repetitions (default 3; 1 for --tiny)
  --stream-reps N     repetitions of the memory scenario's stream (default 1 in full mode, at most --reps)
  --out DIR           write <timestamp>.json, latest.md and chart.svg into DIR (default bench/results/)
  --baseline DIR      also run another tessera as "tessera (baseline)", interleaved with the rest: DIR is
                      a checkout (e.g. a git worktree of an older commit; compiled like this one) or a
                      build (DIR/src/index.js or DIR/dist/src/index.js); the tables then add current ÷ baseline
  --readme            also copy them to bench/readme/ (the figures README.md shows)
  --child-timeout S   kill a child after S seconds (default: in proportion to its job, at most 600);
                      a contender killed or failed is marked in the tables and the run goes on
  -h, --help`;

export function parseConfig(argv: string[]): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      tiny: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      threads: { type: 'string', default: '2' },
      contenders: { type: 'string' },
      reps: { type: 'string' },
      'stream-reps': { type: 'string' },
      out: { type: 'string' },
      readme: { type: 'boolean', default: false },
      baseline: { type: 'string' },
      'child-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const mode: Mode = values.tiny || process.env.BENCH_TINY === '1' ? 'tiny' : values.quick ? 'quick' : 'full';
  const sizes = { ...SIZES[mode] };
  if (values.reps !== undefined) {
    const reps = Number(values.reps);
    if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be an integer >= 1, got ${values.reps}\n${USAGE}`);
    sizes.reps = reps;
    sizes.streamReps = Math.min(sizes.streamReps, reps);
  }
  if (values['stream-reps'] !== undefined) {
    const streamReps = Number(values['stream-reps']);
    if (!Number.isInteger(streamReps) || streamReps < 1) throw new Error(`--stream-reps must be an integer >= 1, got ${values['stream-reps']}\n${USAGE}`);
    sizes.streamReps = Math.min(streamReps, sizes.reps);
  }
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be an integer >= 1, got ${values.threads}\n${USAGE}`);
  let childTimeoutMs: number | undefined;
  if (values['child-timeout'] !== undefined) {
    const seconds = Number(values['child-timeout']);
    if (!(seconds > 0)) throw new Error(`--child-timeout must be a number of seconds > 0, got ${values['child-timeout']}\n${USAGE}`);
    childTimeoutMs = Math.round(seconds * 1000);
  }
  let baseline: string | undefined;
  if (values.baseline !== undefined) {
    baseline = resolve(values.baseline);
    const usable = ['tsconfig.build.json', join('src', 'index.js'), join('dist', 'src', 'index.js')].some((f) => existsSync(join(baseline!, f)));
    if (!usable) throw new Error(`--baseline ${values.baseline}: no tsconfig.build.json, src/index.js or dist/src/index.js there\n${USAGE}`);
  }
  const contenderIds = values.contenders?.split(',').map((s) => s.trim());
  if (contenderIds?.includes('tessera-baseline') && baseline === undefined) {
    throw new Error(`--contenders tessera-baseline needs --baseline DIR (the build it runs)\n${USAGE}`);
  }
  const named = (values.scenario ?? [...SCENARIO_IDS]).flatMap((s) => s.split(','));
  const known = [...SCENARIO_IDS, ...Object.keys(SCRIPT_SCENARIOS)];
  for (const s of named) {
    if (!known.includes(s)) throw new Error(`unknown --scenario "${s}"; known: ${known.join(', ')}\n${USAGE}`);
  }
  const scenarios = named.filter((s): s is ScenarioId => (SCENARIO_IDS as readonly string[]).includes(s));
  const scripts = named.filter((s): s is ScriptScenarioId => s in SCRIPT_SCENARIOS);
  return {
    mode,
    sizes,
    scenarios,
    scripts,
    threads,
    contenders: contenderIds,
    out: values.out,
    readme: values.readme,
    baseline,
    childTimeoutMs,
  };
}
