import type { TransferListItem } from 'node:worker_threads';
import type { Partitioner } from './partition.ts';
import type { QueueEntry } from './queue.ts';

/** A batch of tasks sent to one thread in one message. */
export interface Batch {
  readonly id: number;
  readonly tasks: readonly Task[];
  /** Results received so far. */
  received: number;
  /** piscina's reply is in (results may still be on their way on the other port). */
  replied: boolean;
  /** Tracked batches only: aborting it makes piscina terminate the thread. */
  readonly controller: AbortController | undefined;
  /** Thread running it, once a tracked batch announced its start. */
  thread: number | undefined;
  /** The caller gave up on it (abort, timeout): piscina's rejection that follows is expected. */
  cancelled: boolean;
  /** Why it was cancelled, for the task's `context.signal`. */
  cancelReason: unknown;
  /** Terminates the thread when a cancelled task outlives `abortGrace`. */
  graceTimer: NodeJS.Timeout | undefined;
}

/** One accepted `run`: its promise, its options, and where it is. */
export class Task implements QueueEntry {
  key = 0;
  seq = 0;
  queued = false;
  settled = false;
  /** Set while it is on a thread. */
  batch: Batch | undefined = undefined;
  /** Pending timeout, once it started. */
  timer: NodeJS.Timeout | undefined = undefined;
  resolve!: (value: unknown) => void;
  reject!: (reason: unknown) => void;
  /** Set when the task's runs are split into parts (see `PoolOptions.partitions`). */
  partitioner: Partitioner | undefined = undefined;
  /** Settles with the task's result. */
  readonly promise: Promise<unknown>;
  /** Needs a message of its own: it may be stopped, it moves buffers, or it is a chunk of many items. */
  readonly solo: boolean;

  constructor(
    readonly name: string,
    /** The input, or for a chunk the array of its items. */
    readonly input: unknown,
    readonly priority: number,
    readonly signal: AbortSignal | undefined,
    readonly timeout: number | undefined,
    readonly transfer: readonly TransferListItem[] | undefined,
    /** For a chunk of a map, the index of its first item; -1 for a run. */
    readonly offset: number,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.solo = signal !== undefined || timeout !== undefined || transfer !== undefined || offset >= 0;
  }
}
