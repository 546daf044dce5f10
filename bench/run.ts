/**
 * The benchmark orchestrator: `npm run bench` (see --help). It calibrates the CPU task, then runs every
 * (job × contender × repetition) in a fresh child process (bench/child.mjs → bench/runner.ts), the
 * contenders interleaved and their order rotated every repetition, and prints/writes the figures:
 * a table in the terminal, bench/results/<timestamp>.json (every sample), bench/results/latest.md and
 * bench/results/chart.svg (gitignored). `--readme` also copies them to bench/readme/, the figures the
 * README shows, so a casual run never rewrites committed files.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { renderChart } from './chart.ts';
import { parseConfig, SCRIPT_SCENARIOS, type Config, type ScriptScenarioId } from './config.ts';
import { BASELINE_BUILD, contenders, selectContenders } from './contenders/index.ts';
import type { ContenderInfo } from './contenders/types.ts';
import {
  RESULT_MARKER,
  type BurstParams,
  type BurstResult,
  type CpuParams,
  type CpuResult,
  type JobName,
  type JobParams,
  type RunnerOutput,
  type StreamParams,
  type StreamResult,
} from './jobs/types.ts';
import {
  BASELINE,
  compareBuilds,
  computeSection,
  median,
  renderComparisonMarkdown,
  renderComparisonText,
  renderMarkdown,
  renderText,
  type Section,
} from './report.ts';
import { scenarios, type Failure, type Need, type Sample } from './scenarios.ts';
import { cpu } from './tasks/kernel.mjs';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url));
const ROOT = join(BENCH_DIR, '..');
/** Where tessera is compiled for the run (node_modules/ is gitignored, and packages resolve from there). */
const BUILD_DIR = join(ROOT, 'node_modules', '.cache', 'tessera-bench');
/**
 * Where a --baseline checkout is compiled: beside BUILD_DIR, so both builds resolve their packages
 * (piscina) from this checkout's node_modules/ and differ in their own code only.
 */
const BASELINE_BUILD_DIR = join(ROOT, 'node_modules', '.cache', 'tessera-bench-baseline');

/**
 * Compiles a checkout's src/ (this one by default) to JavaScript, as users get it from npm, so tessera's
 * threads run plain JS like every other contender's. Falls back to running from source (tsx in each
 * thread) if the build fails.
 */
function buildTessera(checkout = ROOT, outDir = BUILD_DIR): { build: string | undefined; how: string } {
  try {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(
      process.execPath,
      [tsc, '-p', join(checkout, 'tsconfig.build.json'), '--outDir', outDir, '--declaration', 'false', '--sourceMap', 'false', '--inlineSources', 'false'],
      { cwd: checkout, stdio: 'pipe', timeout: 5 * 60_000 },
    );
    return { build: outDir, how: 'src/ compiled with tsconfig.build.json (plain JavaScript, as published)' };
  } catch (error) {
    const out = String((error as { stdout?: unknown }).stdout ?? '');
    // tsc still emits on type errors; only a missing output is fatal.
    try {
      readFileSync(join(outDir, 'src', 'index.js'));
      return { build: outDir, how: `src/ compiled with tsconfig.build.json despite type errors: ${out.slice(0, 300)}` };
    } catch {
      return { build: undefined, how: 'src/ run from source through tsx (the build failed)' };
    }
  }
}

/** The commit a checkout is at (for the report), or undefined where it is no git checkout. */
function commitOf(dir: string): string | undefined {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { stdio: 'pipe', encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The --baseline build: a checkout is compiled exactly like this one (into BASELINE_BUILD_DIR, emptied
 * first so no file of an earlier baseline lingers); a folder that is already a build is used as it is.
 */
function buildBaseline(dir: string): { build: string; how: string; at: string } {
  const commit = commitOf(dir);
  const at = `${dir}${commit !== undefined ? ` at ${commit}` : ''}`;
  if (existsSync(join(dir, 'tsconfig.build.json'))) {
    rmSync(BASELINE_BUILD_DIR, { recursive: true, force: true });
    const { build, how } = buildTessera(dir, BASELINE_BUILD_DIR);
    if (build === undefined) throw new Error(`--baseline ${dir}: the build failed (tsc -p ${join(dir, 'tsconfig.build.json')})`);
    return { build, how: `${at}: ${how}`, at };
  }
  const build = existsSync(join(dir, 'src', 'index.js')) ? dir : join(dir, 'dist');
  return { build, how: `${at}: the build in ${build} as it is`, at };
}

/** Iterations of the hash chain that take about `targetMs` on this machine's main thread. */
function calibrate(targetMs: number): { iterations: number; measuredMs: number } {
  const time = (iterations: number): number => {
    const t0 = performance.now();
    cpu({ seed: 1, iterations });
    return performance.now() - t0;
  };
  let probe = 10_000;
  let t = time(probe);
  while (t < 20) {
    probe *= 2;
    t = time(probe);
  }
  let iterations = Math.max(1, Math.round((probe * targetMs) / t));
  const medianOf = (n: number): number => median(Array.from({ length: n }, () => time(iterations)));
  iterations = Math.max(1, Math.round((iterations * targetMs) / medianOf(25)));
  return { iterations, measuredMs: medianOf(25) };
}

interface PlannedJob {
  need: Need;
  job: JobName;
  contender: ContenderInfo;
  params: JobParams;
}

function paramsFor(need: Need, c: ContenderInfo, config: Config, iterations: number): JobParams | undefined {
  const z = config.sizes;
  const capped = c.workerPerTask === true;
  const caps = z.threadPerTaskCaps;
  const tooFewThreads = c.minThreads !== undefined && config.threads < c.minThreads;
  switch (need) {
    case 'burst':
    case 'burstPriority':
      if (tooFewThreads || (need === 'burstPriority' && !c.supportsPriority)) return undefined;
      return {
        threads: config.threads,
        tasks: capped ? Math.min(z.burst, caps.burst) : z.burst,
        roundTrips: need === 'burstPriority' ? 0 : capped ? Math.min(z.roundTrips, caps.roundTrips) : z.roundTrips,
        windowTasks: need === 'burstPriority' ? 0 : capped ? Math.min(z.windowTasks, caps.burst) : z.windowTasks,
        window: z.window,
        priorities: need === 'burstPriority',
        warmups: z.warmups,
      };
    case 'stream':
      if (tooFewThreads || c.skips?.stream !== undefined) return undefined;
      return { threads: config.threads, items: z.streamItems, window: z.window, warmups: z.warmups };
    case 'cpuScaling':
    case 'cpuLatency': {
      let threadCounts = need === 'cpuScaling' ? [...z.scaling] : [config.threads];
      if (need === 'cpuScaling' && !threadCounts.includes(config.threads) && config.scenarios.includes('latency')) {
        threadCounts.push(config.threads);
      }
      if (c.threadless) threadCounts = [1];
      if (c.minThreads !== undefined) threadCounts = threadCounts.filter((t) => t >= c.minThreads!);
      if (threadCounts.length === 0) return undefined;
      return { tasks: capped ? Math.min(z.cpuTasks, caps.cpu) : z.cpuTasks, iterations, threadCounts, warmups: z.warmups };
    }
  }
}

const JOB_OF: Record<Need, JobName> = { burst: 'burst', burstPriority: 'burst', stream: 'stream', cpuScaling: 'cpu', cpuLatency: 'cpu' };

function plan(config: Config, iterations: number): Array<PlannedJob & { rep: number }> {
  const needs = [...new Set(scenarios.filter((s) => config.scenarios.includes(s.id)).flatMap((s) => s.needs(config)))];
  const chosen = selectContenders(config);
  const out: Array<PlannedJob & { rep: number }> = [];
  for (let rep = 0; rep < config.sizes.reps; rep++) {
    // Rotate the contender order every repetition so no one always runs first (or right after the slowest).
    const order = chosen.map((_, i) => chosen[(i + rep) % chosen.length]!);
    for (const need of needs) {
      if (need === 'stream' && rep >= config.sizes.streamReps) continue;
      for (const c of order) {
        const params = paramsFor(need, c, config, iterations);
        if (params !== undefined) out.push({ need, job: JOB_OF[need], contender: c, params, rep });
      }
    }
  }
  return out;
}

/**
 * How long one child may take before it is killed and its row marked "timed out": a generous multiple
 * of its work at pessimistic rates (a tiny task at 5,000/s, a thread started per task at 10/s, a CPU
 * task at a third of its calibrated speed), so a loaded machine does not trip it, yet a hung child
 * costs seconds in --quick, not minutes. Capped at 10 minutes (the full mode's 1,000,000-item stream).
 */
export const CHILD_BASE_MS = 15_000;
export const CHILD_CAP_MS = 10 * 60_000;
function childTimeoutMs(job: PlannedJob, config: Config): number {
  if (config.childTimeoutMs !== undefined) return config.childTimeoutMs;
  const perTask = job.contender.workerPerTask === true;
  const tinyMs = perTask ? 100 : 0.2;
  const poolStartMs = 2_000;
  let workMs: number;
  if (job.job === 'burst') {
    const p = job.params as BurstParams;
    const tasks = p.tasks * (1 + 0.1 * p.warmups) + p.windowTasks * (1 + 0.1 * p.warmups) + p.roundTrips + Math.min(100, p.roundTrips) * p.warmups;
    workMs = poolStartMs + tasks * tinyMs;
  } else if (job.job === 'stream') {
    const p = job.params as StreamParams;
    workMs = poolStartMs + p.items * (1 + 0.05 * p.warmups) * tinyMs;
  } else {
    const p = job.params as CpuParams;
    const tasks = p.tasks + p.warmups * 8;
    workMs = p.threadCounts.length * (poolStartMs + tasks * (3 * config.sizes.cpuTaskMs + (perTask ? 100 : 0)));
  }
  return Math.min(CHILD_CAP_MS, Math.round(CHILD_BASE_MS + 3 * workMs));
}

interface ChildOutcome {
  output?: RunnerOutput;
  error?: string;
  failure?: Failure;
  elapsedMs: number;
}

function runChild(job: PlannedJob, threadsArg: number, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ChildOutcome> {
  const t0 = performance.now();
  const params = { threads: threadsArg, ...job.params };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD, job.contender.id, job.job, JSON.stringify(params)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      const elapsedMs = performance.now() - t0;
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      const tail = (stderr || stdout).trim().slice(-2000);
      if (timedOut) {
        resolve({ error: `timed out after ${(timeoutMs / 1000).toFixed(0)} s, killed${tail ? `: ${tail}` : ''}`, failure: 'timed out', elapsedMs });
      } else if (code === 0 && line !== undefined) {
        resolve({ output: JSON.parse(line.slice(RESULT_MARKER.length)) as RunnerOutput, elapsedMs });
      } else {
        resolve({ error: `exit ${code ?? signal}: ${tail}`, failure: 'failed', elapsedMs });
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
      // 'close' waits for the pipes; should anything else hold them, settle on 'exit' shortly after.
      grace = setTimeout(() => finish(child.exitCode, child.signalCode), 5_000);
    }, timeoutMs);
    child.on('error', (error) => {
      stderr += String(error);
      finish(null, null);
    });
    child.on('close', finish);
  });
}

/** A contender that computed another result than the reference for the same inputs. */
interface Disagreement {
  contender: string;
  text: string;
}

/**
 * Every contender must compute the same results for the same inputs. The reference is the main-thread
 * contender's figure (no threads, nothing to get wrong), else the figure most contenders computed.
 */
function checkResults(samples: Sample[]): Disagreement[] {
  const seen = new Map<string, Array<{ value: number; contender: string }>>();
  const add = (key: string, value: number, contender: string): void => {
    (seen.get(key) ?? seen.set(key, []).get(key)!).push({ value, contender });
  };
  for (const s of samples) {
    if (!s.output) continue;
    const r = s.output.result;
    if (s.job === 'burst') {
      const b = r as BurstResult;
      add(`tiny x${b.tasks}`, b.checksum, s.contender);
      if (b.windowTasks > 0) add(`tiny x${b.windowTasks}`, b.windowChecksum, s.contender);
    } else if (s.job === 'stream') {
      const st = r as StreamResult;
      add(`tiny x${st.items}`, st.checksum, s.contender);
    } else {
      for (const run of (r as CpuResult).runs) add(`cpu x${run.tasks}`, run.checksum, s.contender);
    }
  }
  const problems: Disagreement[] = [];
  for (const [key, values] of seen) {
    const counts = new Map<number, number>();
    for (const { value } of values) counts.set(value, (counts.get(value) ?? 0) + 1);
    const reference =
      values.find((v) => v.contender === 'main-thread')?.value ?? [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    const wrong = new Map<string, number>();
    for (const { value, contender } of values) if (value !== reference) wrong.set(contender, value);
    for (const [contender, value] of wrong) problems.push({ contender, text: `${key}: ${contender} computed ${value}, expected ${reference}` });
  }
  return problems;
}

function versionOf(pkg: string): string {
  try {
    const file = join(BENCH_DIR, '..', 'node_modules', pkg, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

/** Runs a scenario that has a script of its own, in a child process, its output passed through; killed if it outlives SCRIPT_TIMEOUT_MS. */
const SCRIPT_TIMEOUT_MS = { full: 30 * 60_000, quick: 10 * 60_000, tiny: 5 * 60_000 } as const;
async function runScript(id: ScriptScenarioId, config: Config): Promise<void> {
  const args = ['--import', 'tsx', join(ROOT, SCRIPT_SCENARIOS[id]), '--threads', String(config.threads)];
  if (config.mode !== 'full') args.push('--runs', '3');
  if (config.mode === 'tiny') args.push('--items', '2000', '--stream', '5000', '--runs', '1');
  const limitMs = SCRIPT_TIMEOUT_MS[config.mode];
  const code = await new Promise<number | string | null>((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(`killed after ${limitMs / 60_000} min`);
    }, limitMs);
    child.on('exit', (c, signal) => {
      clearTimeout(timer);
      resolve(c ?? signal);
    });
  });
  if (code !== 0) throw new Error(`--scenario ${id} (${SCRIPT_SCENARIOS[id]}) ${typeof code === 'string' && code.startsWith('killed') ? code : `exited with code ${code}`}`);
}

async function main(): Promise<void> {
  const config = parseConfig(process.argv.slice(2));
  for (const id of config.scripts) await runScript(id, config);
  if (config.scenarios.length === 0) return;
  const started = new Date();
  const t0 = performance.now();
  const cpus = os.cpus();
  const machine = {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${os.release()} ${process.arch}`,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: os.loadavg(),
  };
  const tty = process.stdout.isTTY === true;
  const command = `node --import tsx bench/run.ts ${process.argv.slice(2).join(' ')}`.trim();
  console.log(`tessera bench (${config.mode}): ${command}`);
  console.log(`Node ${machine.node} · ${machine.cpuModel} · ${machine.cores} cores · ${machine.totalMemGiB} GiB · load ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`);

  const calibration = calibrate(config.sizes.cpuTaskMs);
  console.log(`CPU task calibrated: ${calibration.iterations.toLocaleString('en-US')} hash steps ≈ ${calibration.measuredMs.toFixed(2)} ms on the main thread`);

  const tessera = buildTessera();
  console.log(`tessera: ${tessera.how}`);
  const baseline = config.baseline === undefined ? undefined : buildBaseline(config.baseline);
  if (baseline !== undefined) console.log(`tessera (baseline): ${baseline.how}`);
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  if (tessera.build !== undefined) childEnv.TESSERA_BENCH_BUILD = tessera.build;
  if (baseline !== undefined) childEnv.TESSERA_BENCH_BASELINE = baseline.build;

  const jobs = plan(config, calibration.iterations);
  const samples: Sample[] = [];
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: '{bar} {value}/{total} runs | {percentage}% | elapsed {duration_formatted} | ETA {eta_formatted} | {task}', hideCursor: true, etaBuffer: 20 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(jobs.length, 0, { task: 'starting' });
  // A contender (other than tessera) whose children timed out MAX_TIMEOUTS times sits out its remaining
  // ones, so one that hangs every time costs a few time limits, not one per repetition and job.
  const MAX_TIMEOUTS = 2;
  const timeouts = new Map<string, number>();
  for (const [order, job] of jobs.entries()) {
    const label = `${job.need} · ${job.contender.id} · rep ${job.rep + 1}`;
    bar?.update(order, { task: label });
    const base = { need: job.need, job: job.job, contender: job.contender.id, rep: job.rep + 1, order, params: job.params };
    if (job.contender.id !== BASELINE && (timeouts.get(job.contender.id) ?? 0) >= MAX_TIMEOUTS) {
      samples.push({ ...base, error: `not run: ${job.contender.id} timed out ${MAX_TIMEOUTS} times`, failure: 'skipped', elapsedMs: 0 });
      if (!tty) console.log(`[${order + 1}/${jobs.length}] ${label}: SKIPPED (timed out ${MAX_TIMEOUTS} times before)`);
      continue;
    }
    const timeoutMs = childTimeoutMs(job, config);
    const { output, error, failure, elapsedMs } = await runChild(job, config.threads, childEnv, timeoutMs);
    samples.push({ ...base, output, error, failure, elapsedMs, timeoutMs });
    if (failure === 'timed out') timeouts.set(job.contender.id, (timeouts.get(job.contender.id) ?? 0) + 1);
    if (!tty) console.log(`[${order + 1}/${jobs.length}] ${label}: ${failure === undefined ? 'ok' : failure.toUpperCase()} in ${(elapsedMs / 1000).toFixed(1)} s`);
    if (error !== undefined) {
      if (bar) bar.stop();
      console.error(`  ${label} ${failure ?? 'failed'}: ${error}${job.contender.id === BASELINE ? '' : ' (the run goes on; its row is marked)'}`);
      bar?.start(jobs.length, order + 1, { task: label });
    }
  }
  bar?.update(jobs.length, { task: 'done' });
  bar?.stop();

  const sections: Section[] = scenarios
    .filter((s) => config.scenarios.includes(s.id))
    .flatMap((s) => s.sections(config, samples))
    .map(computeSection);
  const problems = checkResults(samples);
  const comparison = baseline === undefined ? undefined : compareBuilds(sections, BASELINE, BASELINE_BUILD);
  const comparisonTitle = `tessera (this checkout) against tessera (baseline: ${baseline?.at ?? ''}), same run`;
  const failures = samples.filter((s) => s.error !== undefined);
  const durationMs = performance.now() - t0;
  const summary = `Node ${machine.node}, ${machine.cpuModel}, ${machine.cores} cores, ${config.threads} threads per pool, ${config.sizes.reps} repetitions (${config.mode})`;

  console.log(renderText(sections));
  if (comparison !== undefined) console.log(renderComparisonText(comparison, sections, comparisonTitle));
  if (problems.length > 0) console.log(`\nWARNING: contenders disagree on results:\n  ${problems.map((p) => p.text).join('\n  ')}`);
  if (failures.length > 0) {
    console.log(`\nWARNING: ${failures.length} child run(s) did not finish (marked in the tables; "error" in the JSON):`);
    for (const f of failures) {
      console.log(`  ${f.need} · ${f.contender} · rep ${f.rep}: ${f.failure === 'skipped' ? f.error : `${f.failure ?? 'failed'} after ${(f.elapsedMs / 1000).toFixed(1)} s`}`);
    }
  }
  // Other contenders' failures are reported above and marked; only tessera's own make the run fail.
  const ownFailures = failures.filter((f) => f.contender === BASELINE);
  const ownProblems = problems.filter((p) => p.contender === BASELINE);

  const outDir = config.out ?? join(BENCH_DIR, 'results');
  await mkdir(outDir, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const jsonPath = join(outDir, `${stamp}.json`);
  const mdPath = join(outDir, 'latest.md');
  const svgPath = join(outDir, 'chart.svg');
  const libraries = Object.fromEntries(['piscina', 'tinypool', 'workerpool', 'poolifier', 'tsx'].map((p) => [p, versionOf(p)]));
  const meta = {
    startedAt: started.toISOString(),
    durationS: Math.round(durationMs / 100) / 10,
    command,
    mode: config.mode,
    scenarios: config.scenarios,
    threads: config.threads,
    sizes: config.sizes,
    machine: { ...machine, loadAverageAtEnd: os.loadavg() },
    libraries,
    calibration,
    tessera: tessera.how,
    ...(baseline === undefined ? {} : { baseline: baseline.how }),
    contenders: contenders.filter((c) => !c.baselineOnly || baseline !== undefined).map(({ load: _load, ...c }) => c),
  };
  const report = {
    meta,
    resultsAgree: problems.length === 0,
    problems: problems.map((p) => p.text),
    sections: sections.map(({ formatters: _f, ...s }) => s),
    ...(comparison === undefined ? {} : { baselineComparison: comparison }),
    samples,
  };
  await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  const md = [
    `Measured with \`${command.replace('node --import tsx bench/run.ts', 'npm run bench --').replace(/ --$/, '')}\` on ${started.toISOString().slice(0, 10)}: ${summary}.`,
    `CPU task: ${calibration.iterations.toLocaleString('en-US')} hash steps ≈ ${calibration.measuredMs.toFixed(2)} ms. Libraries: ${Object.entries(libraries).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    '',
    renderMarkdown(sections),
    ...(comparison === undefined ? [] : [renderComparisonMarkdown(comparison, sections, comparisonTitle)]),
  ].join('\n');
  await writeFile(mdPath, md);
  const svg = await renderChart(sections, summary);
  if (svg !== undefined) await writeFile(svgPath, svg);
  console.log(`\n${summary}; took ${formatDuration(durationMs)}.`);
  console.log(`Wrote ${jsonPath}\n      ${mdPath}${svg !== undefined ? `\n      ${svgPath}` : ''}`);
  if (config.readme) {
    const readmeDir = join(BENCH_DIR, 'readme');
    await mkdir(readmeDir, { recursive: true });
    await copyFile(jsonPath, join(readmeDir, 'run.json'));
    await copyFile(mdPath, join(readmeDir, 'results.md'));
    if (svg !== undefined) await copyFile(svgPath, join(readmeDir, 'chart.svg'));
    console.log(`Copied to ${readmeDir}/ (run.json, results.md, chart.svg) for the README.`);
  }
  if (ownFailures.length > 0) console.log(`\nFAILED: ${ownFailures.length} of tessera's own run(s) did not finish.`);
  if (ownProblems.length > 0) console.log('\nFAILED: tessera computed wrong results.');
  if (ownFailures.length > 0 || ownProblems.length > 0) process.exitCode = 1;
}

await main();
