/**
 * Waiting for a job's outcome from the producer's side. QueueEvents carries `completed`,
 * `failed` and `progress` as they happen, but an event can be missed: the blocking XREAD that
 * reads them starts from `$` (events just before it are not seen), a connection drops and comes
 * back, a stream is trimmed. So the waiter also reads the job's state from Redis every
 * `checkInterval` ms while no outcome has arrived: a missed event costs at most that long, and
 * never leaves `run` pending forever. Whichever answers first settles the wait, once.
 */
import type { Job, Queue, QueueEvents } from 'bullmq';
import type { EventEmitter } from 'node:events';
import { JobFailedError } from '../errors.ts';
import { describeValue } from '../worker/wire-error.ts';
import { bullmq } from './peers.ts';

/** How one wait is set up. */
export interface OutcomeWait {
  readonly queue: Queue;
  readonly events: QueueEvents;
  readonly jobId: string;
  readonly onProgress: ((value: unknown) => unknown) | undefined;
  readonly checkInterval: number;
  /** Read the state at once too: the job may have finished before (a keyed job kept from an earlier run). */
  readonly checkNow: boolean;
}

/** A wait in progress; `end` stops its listeners and checks, leaving `promise` unsettled (its run settled another way: aborted, or the queue closed). */
export interface PendingOutcome {
  readonly promise: Promise<unknown>;
  end(): void;
}

/** A failed job's error for the caller; BullMQ hands `failedReason` over untyped. */
export function failure(jobId: string, failedReason: unknown): JobFailedError {
  return new JobFailedError(jobId, typeof failedReason === 'string' ? failedReason : describeValue(failedReason));
}

/** States from which a job can still be removed without racing a consumer that holds it. */
const NOT_STARTED = new Set(['waiting', 'delayed', 'prioritized', 'paused', 'wait']);

/** Waits for job `jobId` to complete (resolves with its return value) or fail (rejects with `JobFailedError`). */
export function awaitOutcome(wait: OutcomeWait): PendingOutcome {
  const { queue, jobId, onProgress, checkInterval, checkNow } = wait;
  // QueueEvents also emits `<event>:<jobId>` (one listener per wait, no filtering), which its types do not list.
  const events = wait.events as unknown as EventEmitter;
  let settle!: (outcome: { value: unknown } | { error: unknown }) => void;
  let timer: NodeJS.Timeout | undefined;
  let warned = false;
  let ended = false;

  const onCompleted = (args: { returnvalue: unknown }): void => settle({ value: args.returnvalue });
  const onFailed = (args: { failedReason: unknown }): void => settle({ error: failure(jobId, args.failedReason) });
  const onProgressEvent = (args: { data: unknown }): void => {
    try {
      const returned = onProgress!(args.data);
      if (returned instanceof Promise) returned.catch(warn);
    } catch (error) {
      warn(error);
    }
  };
  const warn = (error: unknown): void => {
    if (warned) return;
    warned = true;
    process.emitWarning(`onProgress of job ${jobId} threw; ignored, the wait goes on. ${describeValue(error)}`, 'TesseraWarning');
  };
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    events.off(`completed:${jobId}`, onCompleted);
    events.off(`failed:${jobId}`, onFailed);
    if (onProgress) events.off(`progress:${jobId}`, onProgressEvent);
  };

  const promise = new Promise<unknown>((resolve, reject) => {
    settle = (outcome) => {
      if (ended) return;
      end();
      if ('value' in outcome) resolve(outcome.value);
      else reject(outcome.error);
    };
  });
  events.on(`completed:${jobId}`, onCompleted);
  events.on(`failed:${jobId}`, onFailed);
  if (onProgress) events.on(`progress:${jobId}`, onProgressEvent);

  const check = async (): Promise<void> => {
    try {
      const outcome = await readOutcome(queue, jobId);
      if (outcome !== undefined) return settle(outcome);
    } catch {
      // Redis unreachable for now: the next check, or an event, will tell.
    }
    // Ended while that read was in flight: no more checks.
    if (!ended) timer = setTimeout(check, checkInterval);
  };
  timer = setTimeout(check, checkNow ? 0 : checkInterval);
  return { promise, end };
}

/** The job's outcome read from Redis, or undefined while it has none. */
async function readOutcome(queue: Queue, jobId: string): Promise<{ value: unknown } | { error: unknown } | undefined> {
  const state = await queue.getJobState(jobId);
  if (state === 'completed' || state === 'failed') {
    const job: Job | undefined = await bullmq.Job.fromId(queue, jobId);
    if (job === undefined) return { error: failure(jobId, 'the job was removed from Redis before its outcome was read') };
    return state === 'completed' ? { value: job.returnvalue } : { error: failure(jobId, job.failedReason) };
  }
  if (state === 'unknown') return { error: failure(jobId, 'the job was removed from Redis before its outcome was read') };
  return undefined;
}

/** Removes job `jobId` if no consumer took it yet; one already running goes on (BullMQ cannot stop it from a producer). */
export async function removeIfNotStarted(queue: Queue, jobId: string): Promise<void> {
  try {
    if (NOT_STARTED.has(await queue.getJobState(jobId))) await queue.remove(jobId);
  } catch {
    // Taken by a consumer meanwhile (BullMQ refuses to remove a locked job), or Redis unreachable.
  }
}
