/**
 * Child-process entry: runs ONE job for ONE contender in this fresh process and prints the result as
 * one JSON line after RESULT_MARKER. The orchestrator (bench/run.ts) spawns it:
 *
 *   node bench/child.mjs <contender> <job> '<params json>'
 */
import { contender } from './contenders/index.ts';
import { runBurst, runCpu, runStream } from './jobs/run.ts';
import {
  RESULT_MARKER,
  type BurstParams,
  type CpuParams,
  type JobName,
  type JobResult,
  type RunnerOutput,
  type StreamParams,
} from './jobs/types.ts';

const [id, job, json] = process.argv.slice(2);
if (id === undefined || job === undefined || json === undefined) {
  console.error('usage: runner.ts <contender> <burst|stream|cpu> <params json>');
  process.exit(2);
}
const params = JSON.parse(json) as BurstParams & StreamParams & CpuParams;
const startRssKiB = process.resourceUsage().maxRSS;
// For the harness's own test (test/bench-smoke.test.ts): BENCH_TEST_HANG=<contender id> makes that
// contender's children hang, the way a pool that never settles would, to check the time limit.
if (process.env.BENCH_TEST_HANG === id) {
  setInterval(() => {}, 60_000);
  await new Promise(() => {});
}
const info = contender(id);
const { create } = await info.load();
let result: JobResult;
if (job === 'cpu') {
  result = await runCpu(create, params);
} else {
  const c = create(params.threads);
  await c.start();
  if (job === 'burst') result = await runBurst(c, params);
  else if (job === 'stream') result = await runStream(c, params);
  else throw new Error(`unknown job "${job}"`);
  await c.close();
}
const output: RunnerOutput = { contender: id, job: job as JobName, params, result, startRssKiB, node: process.version };
process.stdout.write(`${RESULT_MARKER}${JSON.stringify(output)}\n`);
// Some pools keep handles open after close; the result is out, so leave now.
process.exit(0);
