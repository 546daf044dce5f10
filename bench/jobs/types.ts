/** The measurements a child process can take; each is run for one contender in a fresh process. */
export type JobName = 'burst' | 'stream' | 'cpu';

export interface BurstParams {
  threads: number;
  /** Tasks submitted at once. */
  tasks: number;
  /** Sequential round trips timed one by one (0: none). */
  roundTrips: number;
  /** Tasks then run with at most `window` in flight (0: none). */
  windowTasks: number;
  window: number;
  /** Random priority 0-9 per task (tessera only). */
  priorities: boolean;
  warmups: number;
}

export interface StreamParams {
  threads: number;
  /** Items streamed through run(). */
  items: number;
  /** The most tasks in flight at once. */
  window: number;
  warmups: number;
}

export interface CpuParams {
  tasks: number;
  /** Steps of the hash chain per task, calibrated by the orchestrator to about `targetMs`. */
  iterations: number;
  /** A fresh pool per thread count, one after the other, in this process. */
  threadCounts: number[];
  warmups: number;
}

export type JobParams = BurstParams | StreamParams | CpuParams;

export interface BurstResult {
  tasks: number;
  burstMs: number;
  tasksPerSec: number;
  /** process.resourceUsage().maxRSS right after the burst, in KiB. */
  burstPeakRssKiB: number;
  roundTrips: number;
  rttP50Us: number;
  rttP99Us: number;
  windowTasks: number;
  windowTasksPerSec: number;
  checksum: number;
  windowChecksum: number;
}

export interface StreamResult {
  items: number;
  window: number;
  streamMs: number;
  tasksPerSec: number;
  streamPeakRssKiB: number;
  checksum: number;
}

export interface CpuResult {
  runs: CpuRun[];
}

export interface CpuRun {
  tasks: number;
  threads: number;
  wallMs: number;
  tasksPerSec: number;
  /** monitorEventLoopDelay at 1 ms resolution during the run, in ms. */
  eldP50Ms: number;
  eldP99Ms: number;
  eldMaxMs: number;
  /** performance.eventLoopUtilization() over the run, 0-1. */
  elu: number;
  checksum: number;
}

export type JobResult = BurstResult | StreamResult | CpuResult;

/** What the runner prints, one JSON line after RESULT_MARKER. */
export interface RunnerOutput {
  contender: string;
  job: JobName;
  params: JobParams;
  result: JobResult;
  /** maxRSS before the contender was loaded, in KiB. */
  startRssKiB: number;
  node: string;
}

export const RESULT_MARKER = '@@bench-result ';
