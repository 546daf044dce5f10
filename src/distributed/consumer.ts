/**
 * The consumer: a BullMQ Worker whose processor runs each job on a local tessera pool.
 *
 * Why not BullMQ's own processors: a function processor runs the job on the worker's event loop,
 * so a CPU-heavy job stops lock renewal and the stalled checker, its lock expires and the job
 * stalls (taskforcesh/bullmq#2857, #631); its sandboxed processors reuse child processes or
 * threads with no memory ceiling (#2422, #1555) and there is no job timeout (#136, #1289). Here
 * the processor only awaits `pool.run`: the job runs on a worker thread, the event loop stays free
 * to renew locks, a timeout stops the thread, and `resourceLimits`/`maxTasksPerThread`/
 * `maxHeapPerThreadMb` bound the threads.
 *
 * What BullMQ does, it keeps doing: fetching, locks, stalled checks, attempts and backoff (the
 * local pool never retries: a failed attempt goes back to Redis, where any consumer may take the
 * next), the rate limiter, events.
 */
import type { ConnectionOptions, Job, Worker } from 'bullmq';
import { availableParallelism } from 'node:os';
import { PoolClosedError, PoolDestroyedError, QueueFullError, UnsupportedOptionError } from '../errors.ts';
import { checkInteger, readOption, type PoolOptions, type RateLimits } from '../options.ts';
import { createPool, type Pool } from '../pool.ts';
import { retriedByDefault } from '../retry.ts';
import { describeValue } from '../worker/wire-error.ts';
import { checkJsonData } from './json-data.ts';
import { mapRateLimits, TIMEOUT_OPTION } from './options-mapping.ts';
import { bullmq } from './peers.ts';

/** Options of {@link startWorker}: the queue, the Redis connection, the pool (or its options), and BullMQ's lock settings. */
export interface StartWorkerOptions extends Omit<PoolOptions, 'module' | 'rateLimits' | 'retry' | 'retries'> {
  /** The BullMQ queue's name. */
  queue: string;
  /** BullMQ's connection: `{ host, port, … }` (ioredis options) or an ioredis instance. */
  connection: ConnectionOptions;
  /** The task module (as `createPool`'s `module`); the consumer makes a pool of it and closes it on `close()`. Give this or `pool`. */
  module?: URL | string;
  /** A pool to run jobs on, instead of `module`; the consumer does not close it. */
  pool?: Pool<any>;
  /**
   * Jobs this consumer takes from Redis at once (BullMQ's `concurrency`).
   * @default maxThreads (os.availableParallelism() when not given)
   */
  concurrency?: number;
  /** Milliseconds a job may run on its thread when the job carries no `timeout` of its own; past it the thread is stopped. */
  timeout?: number;
  /** Only `'*'`: the queue's limit across all its consumers (BullMQ's `limiter`). */
  rateLimits?: RateLimits;
  /**
   * Milliseconds a job's lock lasts without renewal (BullMQ's `lockDuration`).
   * @default 30_000
   */
  lockDuration?: number;
  /**
   * Milliseconds between lock renewals (BullMQ's `lockRenewTime`).
   * @default lockDuration / 2
   */
  lockRenewTime?: number;
  /**
   * Milliseconds between stalled-job checks (BullMQ's `stalledInterval`).
   * @default 30_000
   */
  stalledInterval?: number;
  /**
   * Times a job may stall before it fails (BullMQ's `maxStalledCount`).
   * @default 1
   */
  maxStalledCount?: number;
  /** This consumer's name, stored on each job it processes (`job.processedBy`). */
  name?: string;
  /** BullMQ's key prefix. @default 'bull' */
  prefix?: string;
  /**
   * Milliseconds `close()` lets running jobs finish before it hands them back to the queue.
   * @default 30_000
   */
  closeTimeout?: number;
  /** Called with the Worker's errors (Redis connection errors among them). @default emits a `TesseraWarning` */
  onError?: (error: Error) => void;
}

/** A running job, as the consumer tracks it. */
interface Running {
  readonly job: Job;
  readonly token: string | undefined;
  /** Aborted to stop the run: by `close()` past its deadline, or when the job's lock is lost. */
  readonly stop: AbortController;
  /** Set by `close()` past its deadline: the job goes back to the queue instead of failing. */
  handBack: boolean;
}

/**
 * Milliseconds the consumer waits on Redis where waiting longer would hold `close()` past its
 * deadline while Redis is unreachable: a hand back (`job.moveToWait`, one command), and BullMQ's own
 * close once the deadline passed. Past it a job not handed back stays active in Redis until its lock
 * expires and BullMQ's stalled check gives it to another consumer.
 */
const REDIS_GRACE = 1_000;

const WORKER_KEYS = [
  'queue', 'connection', 'module', 'pool', 'concurrency', 'timeout', 'rateLimits', 'lockDuration', 'lockRenewTime',
  'stalledInterval', 'maxStalledCount', 'name', 'prefix', 'closeTimeout', 'onError',
] as const;

/** A BullMQ Worker running jobs on a tessera pool. */
export class Consumer implements AsyncDisposable {
  /** The BullMQ Worker (its events: `completed`, `failed`, `stalled`, …). */
  readonly worker: Worker;
  /** The pool the jobs run on. */
  readonly pool: Pool<any>;
  readonly #ownsPool: boolean;
  readonly #running = new Map<string, Running>();
  readonly #closeTimeout: number;
  readonly #onError: (error: Error) => void;
  #closing: Promise<void> | undefined;

  /** @internal Use {@link startWorker}. */
  constructor(options: StartWorkerOptions) {
    if (typeof options !== 'object' || options === null) throw new UnsupportedOptionError('options', 'pass an object.');
    const read = Object.fromEntries(WORKER_KEYS.map((key) => [key, readOption(options, key)])) as Partial<StartWorkerOptions>;
    for (const refused of ['retry', 'retries'] as const) {
      if (readOption(options, refused) !== undefined) {
        throw new UnsupportedOptionError(refused, 'BullMQ retries a job (any consumer may take the next attempt): give `retry` to `queue.add`/`queue.run`.');
      }
    }
    if (typeof read.queue !== 'string' || read.queue.length === 0) throw new UnsupportedOptionError('queue', 'give the BullMQ queue name, a non-empty string.');
    const limiter = mapRateLimits(read.rateLimits);
    const timeout = read.timeout === undefined ? undefined : checkInteger('timeout', read.timeout, 1);
    this.#closeTimeout = read.closeTimeout === undefined ? 30_000 : checkInteger('closeTimeout', read.closeTimeout, 0);
    const poolOptions = Object.fromEntries(
      Object.keys(options)
        .filter((key) => !(WORKER_KEYS as readonly string[]).includes(key))
        .map((key) => [key, readOption(options, key)]),
    ) as Omit<PoolOptions, 'module'>;
    if (read.pool !== undefined) {
      if (read.module !== undefined || Object.keys(poolOptions).length > 0) {
        throw new UnsupportedOptionError(read.module !== undefined ? 'module' : Object.keys(poolOptions)[0]!, 'a consumer given a `pool` uses it as it is: give either `pool` or `module` with pool options.');
      }
      this.pool = read.pool;
      this.#ownsPool = false;
    } else {
      this.pool = createPool({ ...poolOptions, module: read.module as URL | string });
      this.#ownsPool = true;
    }
    const concurrency = read.concurrency === undefined ? (poolOptions.maxThreads ?? availableParallelism()) : checkInteger('concurrency', read.concurrency, 1);
    const onError = read.onError ?? ((error: Error) => process.emitWarning(`BullMQ worker of queue \`${read.queue}\`: ${describeValue(error)}`, 'TesseraWarning'));
    this.#onError = (error) => {
      try {
        onError(error);
      } catch {
        // The user's handler threw: nothing more to tell anyone.
      }
    };

    // Three declared parameters: BullMQ passes the abort signal only to a processor whose length is >= 3.
    const processor = (job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<unknown> => this.#process(job, token, signal, timeout);
    const settings = {
      connection: read.connection!,
      concurrency,
      autorun: true,
      ...(limiter && { limiter }),
      ...(read.lockDuration !== undefined && { lockDuration: checkInteger('lockDuration', read.lockDuration, 1) }),
      ...(read.lockRenewTime !== undefined && { lockRenewTime: checkInteger('lockRenewTime', read.lockRenewTime, 1) }),
      ...(read.stalledInterval !== undefined && { stalledInterval: checkInteger('stalledInterval', read.stalledInterval, 1) }),
      ...(read.maxStalledCount !== undefined && { maxStalledCount: checkInteger('maxStalledCount', read.maxStalledCount, 0) }),
      ...(read.name !== undefined && { name: read.name }),
      ...(read.prefix !== undefined && { prefix: read.prefix }),
    };
    this.worker = new bullmq.Worker(read.queue, processor, settings);
    this.worker.on('error', this.#onError);
    // A job whose lock could not be renewed may already be another consumer's: stop running it here.
    this.worker.on('lockRenewalFailed', (jobIds) => {
      for (const id of jobIds) this.#running.get(id)?.stop.abort(new Error(`the lock of job ${id} was lost`));
    });
  }

  async #process(job: Job, token: string | undefined, signal: AbortSignal | undefined, defaultTimeout: number | undefined): Promise<unknown> {
    const running: Running = { job, token, stop: new AbortController(), handBack: false };
    const id = job.id!;
    this.#running.set(id, running);
    try {
      const own = (job.opts as Record<string, unknown>)[TIMEOUT_OPTION];
      const result = await this.pool.run(job.name, job.data, {
        signal: signal === undefined ? running.stop.signal : AbortSignal.any([signal, running.stop.signal]),
        timeout: typeof own === 'number' ? own : defaultTimeout,
        onProgress: (value: unknown) => job.updateProgress(value as object),
      });
      checkJsonData('result', result);
      return result;
    } catch (error) {
      const poolGone = error instanceof PoolClosedError || error instanceof PoolDestroyedError;
      if (poolGone && this.#closing === undefined) {
        // The pool was closed under this consumer and will run nothing more. Fetching on would take
        // each job back at once, only to hand it back again (a hot loop): the consumer closes instead,
        // and says why. Closing first also keeps BullMQ from fetching the next job below.
        this.#onError(error);
        this.close().catch(this.#onError);
      }
      if (running.handBack || poolGone || error instanceof QueueFullError) {
        // Not the job's failure: this consumer could not run it. Back to the queue, no attempt spent.
        await handBack(job, token);
        throw new bullmq.WaitingError();
      }
      throw toBullError(error);
    } finally {
      this.#running.delete(id);
    }
  }

  /** Jobs running on this consumer now. */
  get running(): number {
    return this.#running.size;
  }

  /**
   * Stops taking jobs, lets the running ones finish for up to `timeout` ms, then hands those still
   * running back to the queue (their threads are stopped; no attempt is spent, another consumer
   * takes them), closes the Worker, and closes the pool if the consumer made it. With Redis
   * unreachable it still resolves, within about two {@link REDIS_GRACE}s past `timeout`.
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeout === undefined ? this.#closeTimeout : checkInteger('timeout', options.timeout, 0));
    return this.#closing;
  }

  async #close(timeout: number): Promise<void> {
    const closed = this.worker.close();
    if (!(await settlesWithin(closed, timeout))) {
      for (const running of this.#running.values()) {
        running.handBack = true;
        running.stop.abort(new Error('the consumer closed before the job finished'));
      }
      // BullMQ's close waits for the 'end' event of its blocking connection, and ioredis never emits
      // it for a connection told to disconnect while it waits to reconnect (redis/ioredis#1830, fix
      // proposed in redis/ioredis#2169): with Redis unreachable, close would wait forever and its
      // timers (lock renewal, stalled checks) would keep the process alive. Past the grace the
      // connections are dropped, and the 'end' that ioredis owes is given, so BullMQ's close finishes.
      if (!(await settlesWithin(closed, REDIS_GRACE))) {
        await this.worker.backend.close(true);
        (await this.worker.backend.blockingConnection?.client)?.emit('end');
        await settlesWithin(closed, REDIS_GRACE);
      }
    }
    if (this.#ownsPool) await this.pool.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Moves a job this consumer took back to the queue, waiting at most {@link REDIS_GRACE} ms for Redis. */
async function handBack(job: Job, token: string | undefined): Promise<void> {
  const moved = job.moveToWait(token);
  if (await settlesWithin(moved, REDIS_GRACE)) await moved;
  else moved.catch(() => undefined);
}

/** Whether `promise` settles (either way) within `ms`; it goes on regardless. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([promise.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** What BullMQ stores for a failed attempt: the code first in the message, so `queue.run` can tell it (`JobFailedError.errorCode`). */
function toBullError(error: unknown): Error {
  let message: string;
  let code: unknown;
  let stack: string | undefined;
  try {
    message = error instanceof Error ? error.message : describeValue(error);
    code = (error as { code?: unknown } | null)?.code;
    stack = error instanceof Error ? error.stack : undefined;
  } catch {
    message = describeValue(error);
  }
  const reason = typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code) ? `${code}: ${message}` : message;
  // tessera's classification (see the README's Retries): what tessera would not retry, BullMQ does not either.
  const converted = retriedByDefault(error) ? new Error(reason) : new bullmq.UnrecoverableError(reason);
  if (stack !== undefined) converted.stack = `${converted.name}: ${reason}\n${stack.split('\n').slice(1).join('\n')}`;
  return converted;
}

/**
 * Starts a consumer: a BullMQ Worker on `queue` whose jobs run on a tessera pool of `module` (or on
 * `pool`). A job's name is the task's name, its data the task's input, its return value the task's result.
 */
export function startWorker(options: StartWorkerOptions): Consumer {
  return new Consumer(options);
}
