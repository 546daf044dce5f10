/**
 * The contenders, in the order the tables list them. Each one is loaded lazily in its own child process,
 * so no child carries another contender's library (the peak RSS figures depend on it).
 */
import type { ContenderInfo } from './types.ts';

/** The id of the row that compares tessera with another build of itself (`--baseline DIR`). */
export const BASELINE_BUILD = 'tessera-baseline';

export const contenders: readonly ContenderInfo[] = [
  {
    id: 'tessera',
    label: 'tessera',
    model: 'pool',
    description: 'tessera pool (this repository, src/), tasks from bench/tasks/kernel.mjs',
    supportsPriority: true,
    load: () => import('./tessera.ts'),
  },
  {
    id: BASELINE_BUILD,
    label: 'tessera (baseline)',
    model: 'pool',
    description: 'tessera from another checkout (--baseline DIR), compiled like this one: the before of a before/after comparison',
    supportsPriority: true,
    baselineOnly: true,
    load: () => import('./tessera-baseline.ts'),
  },
  { id: 'piscina', label: 'piscina', model: 'pool', description: 'piscina 5 pool', load: () => import('./piscina.ts') },
  { id: 'tinypool', label: 'tinypool', model: 'pool', description: 'tinypool 2 pool', load: () => import('./tinypool.ts') },
  {
    id: 'workerpool',
    label: 'workerpool',
    model: 'pool',
    description: 'workerpool 10 pool (workerType: thread)',
    load: () => import('./workerpool.ts'),
  },
  {
    id: 'poolifier',
    label: 'poolifier',
    model: 'pool',
    description: 'poolifier 5 FixedThreadPool',
    load: () => import('./poolifier.ts'),
  },
  {
    id: 'raw-round-robin',
    label: 'raw round robin',
    model: 'round robin',
    description: 'hand-written postMessage round robin over N plain Workers (the raw baseline)',
    load: () => import('./raw-round-robin.ts'),
  },
  {
    id: 'pipeline',
    label: 'two-stage pipeline',
    model: 'pipeline',
    description: 'N/2 stage-1 Workers piped into N/2 stage-2 Workers over MessageChannels; each CPU task is split in two halves',
    minThreads: 2,
    load: () => import('./pipeline.ts'),
  },
  {
    id: 'thread-per-task',
    label: 'thread per task',
    model: 'thread per task',
    description: 'a new Worker per task, at most N alive at once',
    workerPerTask: true,
    skips: { stream: 'a Worker per item: hours' },
    load: () => import('./thread-per-task.ts'),
  },
  {
    id: 'main-thread',
    label: 'main thread',
    model: 'main thread',
    description: 'everything on the main thread, sequentially (no threads)',
    threadless: true,
    load: () => import('./sequential.ts'),
  },
];

export function contender(id: string): ContenderInfo {
  const found = contenders.find((c) => c.id === id);
  if (found === undefined) throw new Error(`Unknown contender "${id}"; known: ${contenders.map((c) => c.id).join(', ')}`);
  return found;
}

/**
 * The contenders a run uses, in table order: those named by --contenders (all when none are), the
 * baseline build only with --baseline DIR, and then always (it is what --baseline asks for).
 */
export function selectContenders(config: { contenders: string[] | undefined; baseline: string | undefined }): ContenderInfo[] {
  return contenders.filter((c) => {
    if (c.baselineOnly) return config.baseline !== undefined;
    return config.contenders === undefined || config.contenders.includes(c.id);
  });
}
