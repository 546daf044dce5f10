/**
 * The small interface every contender implements. The jobs (bench/jobs/) are written once against it,
 * so every contender runs exactly the same workload code and the same task functions (bench/tasks/kernel.mjs).
 */
import type { CpuInput } from '../tasks/kernel.mjs';

export type { CpuInput };

export type TaskKind = 'tiny' | 'cpu';

export interface Contender {
  /** Starts the threads and resolves once they can take work. */
  start(): Promise<void>;
  /** Runs one task; `priority` (0-9) is only passed to contenders with `supportsPriority`. */
  run(kind: 'tiny', input: number, priority?: number): Promise<number>;
  run(kind: 'cpu', input: CpuInput): Promise<number>;
  /** Streams tiny tasks on `0..count-1` through the contender's own streaming API, where it has one; resolves with the checksum. */
  mapStream?(count: number): Promise<number>;
  /** Stops every thread. */
  close(): Promise<void>;
}

/** What the orchestrator knows about a contender without loading it. */
export interface ContenderInfo {
  id: string;
  /** Short label for tables and charts. */
  label: string;
  /** The processing model it stands for. */
  model: 'pool' | 'main thread' | 'thread per task' | 'round robin' | 'pipeline';
  description: string;
  /** Accepts a priority per task (only tessera; the burst is then run a second time with priorities). */
  supportsPriority?: boolean;
  /** Needs at least this many threads (the pipeline has two stages). */
  minThreads?: number;
  /** Ignores the thread count (the main thread contender). */
  threadless?: boolean;
  /**
   * Starts a Worker per task: runs the capped task counts of the mode (Sizes.threadPerTaskCaps), as the
   * full counts would take many minutes. Rates stay comparable; the report prints the counts used.
   */
  workerPerTask?: boolean;
  /** Runs only when the bench is given `--baseline DIR` (the build it loads); listed nowhere otherwise. */
  baselineOnly?: boolean;
  /** Jobs this contender sits out, with the reason shown in the report. */
  skips?: Partial<Record<'burst' | 'stream' | 'cpu', string>>;
  load(): Promise<{ create(threads: number): Contender }>;
}
