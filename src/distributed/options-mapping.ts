/**
 * tessera's options in BullMQ's terms (the table in the README's "Beyond one machine" section).
 * Where BullMQ has an equivalent, the option maps to it exactly; where it has none, or only a
 * near one that would quietly change what the option means, the option is refused with
 * `UnsupportedOptionError` at once, before anything reaches Redis. Nothing is dropped silently.
 */
import type { JobsOptions, RateLimiterOptions } from 'bullmq';
import { InvalidOptionTypeError, UnsupportedOptionError } from '../errors.ts';
import { checkInteger, checkRetry, checkRunOptions, readOption, POOL_RATE_LIMIT, type RateLimits } from '../options.ts';
import type { RetryOptions } from '../retry.ts';

/** A retry policy BullMQ can carry: `attempts` and a built-in backoff (see the README's mapping table). */
export type JobRetryOptions = Pick<RetryOptions, 'attempts' | 'delay' | 'jitter' | 'maxDelay'> & {
  /**
   * `'exponential'` or `'fixed'`, as tessera's; a function cannot travel to Redis.
   * @default 'exponential'
   */
  backoff?: 'exponential' | 'fixed';
};

/** Options of `queue.add`: tessera's run options where BullMQ has an equivalent, and BullMQ's `delay`. */
export interface JobOptions {
  /**
   * Higher runs first, as in `pool.run` (-1,000,000 to 1,000,000, integers only: BullMQ's are).
   * Sent as BullMQ priority `1,048,576 - priority` (BullMQ runs lower numbers first).
   * @default 0
   */
  priority?: number;
  /** Milliseconds the job may run on a consumer's thread; past it the thread is stopped and the attempt fails with `TaskTimeoutError`. */
  timeout?: number;
  /** Attempts and backoff, carried out by BullMQ (a failed attempt goes back to Redis, any consumer may take the next). */
  retry?: JobRetryOptions;
  /**
   * Milliseconds before the job may start (BullMQ's `delay`; tessera's pool has none).
   * @default 0
   */
  delay?: number;
  /** Idempotency key: while a job of the same task with the same key is waiting, delayed or active, adding it again adds nothing (BullMQ deduplication). */
  key?: string;
  /**
   * `0`: share while waiting or running (BullMQ deduplication). `Infinity`: also keep the result for
   * as long as BullMQ keeps the completed job (a BullMQ `jobId`). Other values are refused.
   * @default 0
   */
  keyTtl?: number;
}

/** Options of `queue.run`: those of `add`, and how the caller waits. */
export interface RunJobOptions extends JobOptions {
  /** Aborting stops waiting and rejects with `AbortError`; a job not started yet is removed from Redis. */
  signal?: AbortSignal;
  /** Called with each value the task passes to `context.progress` (through `job.updateProgress` and QueueEvents). */
  onProgress?: (value: any) => unknown;
  /**
   * Milliseconds to wait for the job's completion event before reading its state from Redis
   * instead, again after each such wait: a missed event costs at most this long, never a hang.
   * @default 5_000
   */
  checkInterval?: number;
}

/** BullMQ's priority for tessera's `0`: BullMQ runs lower numbers first, from 1 to 2,097,151 (0 is "no priority", before every prioritised job). */
export const PRIORITY_ORIGIN = 1_048_576;

/** The option `tessera-pool/bullmq` adds to a job's BullMQ options for its `timeout` (BullMQ keeps options it does not know). */
export const TIMEOUT_OPTION = 'tesseraTimeout';

/** BullMQ options of a job, and what stays on the caller's side. */
export interface MappedJob {
  readonly opts: JobsOptions;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((value: unknown) => unknown) | undefined;
  readonly checkInterval: number;
}

const JOB_KEYS = ['priority', 'timeout', 'retry', 'delay', 'key', 'keyTtl'] as const;
const RUN_KEYS = [...JOB_KEYS, 'signal', 'onProgress', 'checkInterval'] as const;

/** Why each option that tessera or BullMQ users might pass is refused, and what to do instead. */
const REFUSED: Readonly<Record<string, string>> = {
  transfer: 'job data travels as JSON through Redis, so there is nothing to transfer. Leave it out.',
  attempts: 'give tessera\'s `retry: { attempts }` instead.',
  backoff: 'give tessera\'s `retry: { backoff, delay, jitter }` instead.',
  jobId: 'give `key` with `keyTtl: Infinity` instead (the job id is derived from the task name and key).',
  deduplication: 'give `key` instead.',
  repeat: 'use `queue.schedule` for recurring jobs.',
};

/** Why `queue.add` or `queue.run` refuses `key`. */
function refuseJobOption(key: string, method: string, allowed: readonly string[]): string {
  if (REFUSED[key] !== undefined) return REFUSED[key];
  if (key === 'signal' || key === 'onProgress' || key === 'checkInterval') {
    return `queue.${method} returns once the job is stored, so no caller waits on it; use \`queue.run\`.`;
  }
  return `it is not an option of queue.${method} (${allowed.map((name) => `\`${name}\``).join(', ')}).`;
}

/** Copies the own keys of an options object, each read once; a key not in `allowed` is refused. */
function snapshot(given: unknown, allowed: readonly string[], refuse: (key: string) => string, prefix = ''): Record<string, unknown> {
  if (given === undefined) return {};
  if (typeof given !== 'object' || given === null) throw new InvalidOptionTypeError(`Expected \`options\` to be an object, got \`${String(given)}\` (${given === null ? 'null' : typeof given})`);
  let keys: string[];
  try {
    keys = Object.keys(given);
  } catch (cause) {
    throw new InvalidOptionTypeError('Expected `options` to be readable, but reading it threw. Pass a plain options object.', { cause });
  }
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    if (!allowed.includes(key)) throw new UnsupportedOptionError(`${prefix}${key}`, refuse(key));
    copy[key] = readOption(given, key);
  }
  return copy;
}

/** The retry fields given, read once (checkRetry reads the copy, so a getter runs once). */
function retrySnapshot(given: unknown): Record<string, unknown> | unknown {
  if (typeof given !== 'object' || given === null) return given;
  const copy: Record<string, unknown> = {};
  for (const key of ['attempts', 'backoff', 'delay', 'maxDelay', 'jitter', 'retryOn', 'poisonAfter']) {
    const value = readOption(given, key, `retry.${key}`);
    if (value !== undefined) copy[key] = value;
  }
  if (typeof copy.backoff === 'function') throw new UnsupportedOptionError('retry.backoff', "a function cannot travel to Redis: use 'exponential' or 'fixed'.");
  if (copy.retryOn !== undefined) throw new UnsupportedOptionError('retry.retryOn', 'BullMQ retries every failure until `attempts` run out; a task throws `UnrecoverableError` (tessera-pool/worker) to fail at once.');
  if (copy.poisonAfter !== undefined) {
    throw new UnsupportedOptionError('retry.poisonAfter', "a thread that dies fails its attempt on the consumer (which survives), and BullMQ counts it in `attempts`; leave it out.");
  }
  return copy;
}

/** BullMQ's attempts and backoff for a tessera retry policy; refuses one whose `maxDelay` would cap a wait (BullMQ's backoffs have no cap). */
function mapRetry(given: unknown): Pick<JobsOptions, 'attempts' | 'backoff'> {
  const policy = checkRetry(retrySnapshot(given), 'retry');
  if (policy.attempts === 1) return { attempts: 1 };
  const backoff = policy.backoff as 'exponential' | 'fixed';
  const longest = backoff === 'exponential' ? policy.delay * 2 ** (policy.attempts - 2) : policy.delay;
  if (longest > policy.maxDelay) {
    throw new UnsupportedOptionError(
      'retry.maxDelay',
      `BullMQ's ${backoff} backoff has no cap, and this policy's last wait (${longest} ms) is over \`maxDelay\` (${policy.maxDelay} ms, the default unless given). Lower \`attempts\` or \`delay\`, or raise \`maxDelay\` to ${longest} or more.`,
    );
  }
  return { attempts: policy.attempts, backoff: { type: backoff, delay: policy.delay, jitter: policy.jitter } };
}

/** A BullMQ job id for a key kept forever: no `:` (BullMQ refuses it), never an integer. */
export function keyedJobId(name: string, key: string): string {
  return `tessera-${encodeURIComponent(name)}-${encodeURIComponent(key)}`;
}

/**
 * Checks the options of `queue.add` (`method: 'add'`) or `queue.run` and maps them to BullMQ's.
 * Throws at once: `InvalidOptionTypeError`/`InvalidOptionRangeError` for a bad value (the pool's
 * checks and messages), `UnsupportedOptionError` for an option BullMQ cannot honour.
 */
export function mapJobOptions(name: string, given: unknown, method: 'add' | 'run'): MappedJob {
  const allowed = method === 'add' ? JOB_KEYS : RUN_KEYS;
  const options = snapshot(given, allowed, (key) => refuseJobOption(key, method, allowed));
  const run = checkRunOptions(options);
  const opts: JobsOptions & { [TIMEOUT_OPTION]?: number } = {};
  if (!Number.isInteger(run.priority)) {
    throw new UnsupportedOptionError('priority', `BullMQ priorities are integers, got ${run.priority}. Round it.`);
  }
  opts.priority = PRIORITY_ORIGIN - run.priority;
  if (run.timeout !== undefined) opts[TIMEOUT_OPTION] = run.timeout;
  if (options.retry !== undefined) Object.assign(opts, mapRetry(options.retry));
  if (options.delay !== undefined) opts.delay = checkInteger('delay', options.delay, 0);
  if (run.key !== undefined) {
    if (run.keyTtl === Infinity) {
      opts.jobId = keyedJobId(name, run.key);
      // tessera never keeps a failure: a failed keyed job must not stop the key from running again.
      opts.removeOnFail = true;
    } else if (run.keyTtl === 0) {
      opts.deduplication = { id: `${name}:${run.key}` };
    } else {
      throw new UnsupportedOptionError(
        'keyTtl',
        "BullMQ's deduplication ttl counts from when a job is added, not from when it succeeds. Use `keyTtl: 0` (share while waiting or running) or `Infinity` (keep the result while BullMQ keeps the job).",
      );
    }
  }
  const checkInterval = options.checkInterval === undefined ? 5_000 : checkInteger('checkInterval', options.checkInterval, 1);
  return { opts, signal: run.signal, onProgress: run.onProgress, checkInterval };
}

/** The consumer's `rateLimits` as BullMQ's `limiter`: only the pool-wide `'*'` maps (BullMQ limits a whole queue, across its consumers). */
export function mapRateLimits(given: RateLimits | undefined): RateLimiterOptions | undefined {
  if (given === undefined) return undefined;
  const names = snapshot(given, [POOL_RATE_LIMIT], () => "BullMQ's limiter limits a whole queue, not a task name: give the task a queue (and consumers) of its own, limited with `'*'`.", 'rateLimits.');
  const limit = names[POOL_RATE_LIMIT];
  if (limit === undefined) return undefined;
  if (typeof limit !== 'object' || limit === null) throw new InvalidOptionTypeError("Expected `rateLimits['*']` to be an object { limit, interval }");
  const strict = readOption(limit, 'strict', "rateLimits['*'].strict");
  if (strict === true) {
    throw new UnsupportedOptionError("rateLimits['*'].strict", "BullMQ's limiter counts fixed windows; a sliding one has no equivalent. Leave `strict` out.");
  }
  return {
    max: checkInteger("rateLimits['*'].limit", readOption(limit, 'limit', "rateLimits['*'].limit"), 1),
    duration: checkInteger("rateLimits['*'].interval", readOption(limit, 'interval', "rateLimits['*'].interval"), 1),
  };
}
