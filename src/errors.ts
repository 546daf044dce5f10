/**
 * Every error tessera throws or rejects with. Match on `code`, never on the message:
 * codes are stable API, messages may be reworded.
 */
import type { FlowReport } from './flow.ts';

/** Stable error codes, one per error class. */
export const ErrorCodes = Object.freeze({
  QUEUE_FULL: 'TESSERA_QUEUE_FULL',
  POOL_CLOSED: 'TESSERA_POOL_CLOSED',
  POOL_DESTROYED: 'TESSERA_POOL_DESTROYED',
  ABORTED: 'TESSERA_ABORTED',
  TASK_TIMEOUT: 'TESSERA_TASK_TIMEOUT',
  WORKER_CRASH: 'TESSERA_WORKER_CRASH',
  UNKNOWN_TASK: 'TESSERA_UNKNOWN_TASK',
  TASK_INPUT: 'TESSERA_TASK_INPUT',
  TASK_RESULT: 'TESSERA_TASK_RESULT',
  MODULE_NOT_FOUND: 'TESSERA_MODULE_NOT_FOUND',
  MODULE_LOAD: 'TESSERA_MODULE_LOAD',
  INVALID_OPTION: 'TESSERA_INVALID_OPTION',
  MAP_ITEM: 'TESSERA_MAP_ITEM',
  PARTITION: 'TESSERA_PARTITION',
  IMAGE_CORRUPT: 'TESSERA_IMAGE_CORRUPT',
  IMAGE_FORMAT: 'TESSERA_IMAGE_FORMAT',
  IMAGE_SIZE: 'TESSERA_IMAGE_SIZE',
  IMAGE_TOO_LARGE: 'TESSERA_IMAGE_TOO_LARGE',
  IMAGE_OPTION: 'TESSERA_IMAGE_OPTION',
  UNRECOVERABLE: 'TESSERA_UNRECOVERABLE',
  POISON_TASK: 'TESSERA_POISON_TASK',
  RETRY_HOOK: 'TESSERA_RETRY_HOOK',
  SOURCE: 'TESSERA_SOURCE',
  PIPELINE_STAGE: 'TESSERA_PIPELINE_STAGE',
  FLOW_DEFINITION: 'TESSERA_FLOW_DEFINITION',
  FLOW_FAILED: 'TESSERA_FLOW_FAILED',
  FLOW_TIMEOUT: 'TESSERA_FLOW_TIMEOUT',
  FLOW_INPUT: 'TESSERA_FLOW_INPUT',
  CRON_PATTERN: 'TESSERA_CRON_PATTERN',
  UNSUPPORTED_OPTION: 'TESSERA_UNSUPPORTED_OPTION',
  JOB_DATA: 'TESSERA_JOB_DATA',
  JOB_FAILED: 'TESSERA_JOB_FAILED',
  PEER_DEPENDENCY: 'TESSERA_PEER_DEPENDENCY',
} as const);

/** One of the values of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** `: message` of a cause that is an Error, read without trusting it (a Proxy, a throwing getter). */
function detailOf(cause: unknown): string {
  try {
    return cause instanceof Error ? `: ${String(cause.message)}` : '';
  } catch {
    return '';
  }
}

/** Base class of every tessera error; `code` identifies the kind. */
export class TesseraError extends Error {
  /** Stable identifier of the error kind, e.g. `TESSERA_QUEUE_FULL`. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** `run` was called while `maxQueue` tasks were already waiting. */
export class QueueFullError extends TesseraError {
  /** The pool's `maxQueue`. */
  readonly maxQueue: number;
  constructor(maxQueue: number) {
    super(
      ErrorCodes.QUEUE_FULL,
      `The queue is full (${maxQueue} tasks waiting). Await pool.waitForCapacity() before submitting, or raise \`maxQueue\`.`,
    );
    this.maxQueue = maxQueue;
  }
}

/** `run` was called after `close()`. */
export class PoolClosedError extends TesseraError {
  constructor() {
    super(ErrorCodes.POOL_CLOSED, 'The pool is closed and admits no new tasks. Create a new pool to run more.');
  }
}

/** The pool was destroyed while the task was queued or running. */
export class PoolDestroyedError extends TesseraError {
  constructor() {
    super(ErrorCodes.POOL_DESTROYED, 'The pool was destroyed before the task finished.');
  }
}

/** The task's `signal` aborted; `reason` is the signal's reason. */
export class AbortError extends TesseraError {
  /** `signal.reason` of the signal that aborted the task. */
  readonly reason: unknown;
  constructor(reason: unknown) {
    super(ErrorCodes.ABORTED, 'The task was aborted by its signal.', { cause: reason });
    this.reason = reason;
  }
}

/** The task ran longer than its `timeout`; its thread was stopped. */
export class TaskTimeoutError extends TesseraError {
  /** The `timeout` in milliseconds that was exceeded. */
  readonly timeout: number;
  constructor(timeout: number) {
    super(
      ErrorCodes.TASK_TIMEOUT,
      `The task ran longer than its timeout of ${timeout} ms and was stopped. Raise \`timeout\` or make the task faster.`,
    );
    this.timeout = timeout;
  }
}

/** Why a worker thread died under a task. */
export type CrashReason = 'exit' | 'out-of-memory' | 'uncaught-error';

/** The thread running the task died (process.exit, out of memory, an uncaught error); it was replaced. */
export class WorkerCrashError extends TesseraError {
  /** The thread's exit code, where it exited with one. */
  readonly exitCode: number | undefined;
  /** What killed the thread. */
  readonly reason: CrashReason;
  constructor(reason: CrashReason, exitCode: number | undefined, cause?: unknown) {
    const what =
      reason === 'exit'
        ? `exited with code ${exitCode}`
        : reason === 'out-of-memory'
          ? 'ran out of memory (resourceLimits)'
          : 'died of an uncaught error outside the task';
    super(
      ErrorCodes.WORKER_CRASH,
      `The worker thread running the task ${what}. The thread was replaced.`,
      { cause },
    );
    this.reason = reason;
    this.exitCode = exitCode;
  }
}

/** The task name is not a function exported by the pool's module. */
export class UnknownTaskError extends TesseraError {
  /** The name that was asked for. */
  readonly taskName: string;
  /** The names the module exports as functions. */
  readonly available: readonly string[];
  constructor(taskName: string, available: readonly string[]) {
    super(
      ErrorCodes.UNKNOWN_TASK,
      `No task named \`${taskName}\`: the module exports ${available.length ? available.map((n) => `\`${n}\``).join(', ') : 'no functions'}.`,
    );
    this.taskName = taskName;
    this.available = available;
  }
}

/** The task input could not be sent to a thread (not structured-cloneable). */
export class TaskInputError extends TesseraError {
  /** What could not be cloned, e.g. `function`, `WeakMap`, `getter or Proxy trap that throws`. */
  readonly valueType: string;
  constructor(valueType: string, cause?: unknown) {
    super(
      ErrorCodes.TASK_INPUT,
      `The task input cannot be sent to a worker thread: structured clone refused it (found: ${valueType}). Send plain data, typed arrays or buffers; no functions, Proxies, getters that throw or nesting thousands deep.`,
      { cause },
    );
    this.valueType = valueType;
  }
}

/** The task's return value could not be sent back from the thread. */
export class TaskResultError extends TesseraError {
  constructor(cause?: unknown) {
    super(
      ErrorCodes.TASK_RESULT,
      'The task returned a value that cannot be sent back from the worker thread (not structured-cloneable). Return plain data, typed arrays or buffers.',
      { cause },
    );
  }
}

/** The pool's module path does not exist. */
export class ModuleNotFoundError extends TesseraError {
  /** The module path or URL that was given. */
  readonly modulePath: string;
  constructor(modulePath: string) {
    super(ErrorCodes.MODULE_NOT_FOUND, `The task module \`${modulePath}\` does not exist. Pass a file URL or absolute path to a module.`);
    this.modulePath = modulePath;
  }
}

/** The pool's module failed to load in the worker (syntax error, throws at import, missing tsx). */
export class ModuleLoadError extends TesseraError {
  /** The module path or URL that was given. */
  readonly modulePath: string;
  constructor(modulePath: string, cause?: unknown) {
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    super(ErrorCodes.MODULE_LOAD, `The task module \`${modulePath}\` failed to load in the worker${detail}`, { cause });
    this.modulePath = modulePath;
  }
}

/** An item of `pool.map` failed; `cause` is the task's own error. */
export class MapItemError extends TesseraError {
  /** Index of the failing item in the map's input. */
  readonly index: number;
  constructor(index: number, cause: unknown) {
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    super(ErrorCodes.MAP_ITEM, `Item ${index} of the map failed${detail}. The chunks that had not started were cancelled.`, { cause });
    this.index = index;
  }
}

/**
 * A partitioned task's `split` broke its contract: it returned something other than an array, or
 * more parts than it was asked for. Errors that `split` or `merge` throw themselves reach the caller
 * as they are.
 */
export class PartitionError extends TesseraError {
  /** The partitioned task. */
  readonly taskName: string;
  constructor(taskName: string, problem: string) {
    super(ErrorCodes.PARTITION, `The partitioner of task \`${taskName}\` ${problem}. Fix \`partitions.${taskName}\`.`);
    this.taskName = taskName;
  }
}

/** Codes of {@link ImageError}. */
export type ImageErrorCode =
  | typeof ErrorCodes.IMAGE_CORRUPT
  | typeof ErrorCodes.IMAGE_FORMAT
  | typeof ErrorCodes.IMAGE_SIZE
  | typeof ErrorCodes.IMAGE_TOO_LARGE
  | typeof ErrorCodes.IMAGE_OPTION;

/**
 * A failure of the image tasks (`tessera-pool/image`): corrupt bytes, an unsupported format, bad
 * dimensions, an image over `maxPixels`, or a bad option. Rebuilt as this class on the main thread.
 */
export class ImageError extends TesseraError {
  declare readonly code: ImageErrorCode;
  constructor(code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * Thrown by a task (`import { UnrecoverableError } from 'tessera-pool/worker'`) to say that trying
 * again cannot help: the run fails at once, whatever its `retry` policy and `retryOn` say. Rebuilt
 * as this class on the main thread (any error whose `code` is `TESSERA_UNRECOVERABLE` is).
 */
export class UnrecoverableError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.UNRECOVERABLE, message, options);
  }
}

/**
 * A run with a `retry` policy killed its thread (exit, out of memory) `poisonAfter` times: it fails
 * with this instead of killing more threads, even if attempts remain. `crashes` holds those crashes.
 */
export class PoisonTaskError extends TesseraError {
  /** The task's name. */
  readonly taskName: string;
  /** Attempts that ran. */
  readonly attempts: number;
  /** The `WorkerCrashError` of each attempt that killed its thread, oldest first. */
  readonly crashes: readonly Error[];
  /** Every attempt's error, oldest first (the crashes among them). */
  readonly errors: readonly unknown[];
  constructor(taskName: string, crashes: readonly Error[], errors: readonly unknown[]) {
    super(
      ErrorCodes.POISON_TASK,
      `Task \`${taskName}\` killed its worker thread ${crashes.length} times (poisonAfter) and was not tried again: its input is likely poison.`,
      { cause: crashes[crashes.length - 1] },
    );
    this.taskName = taskName;
    this.attempts = errors.length;
    this.crashes = crashes;
    this.errors = errors;
  }
}

/**
 * A run's `retry.backoff` or `retry.retryOn` function threw or returned something unusable; the run
 * fails with this (`cause`: what it threw). `errors` holds every attempt's error, oldest first.
 */
export class RetryHookError extends TesseraError {
  /** Which function: `'backoff'` or `'retryOn'`. */
  readonly hook: 'backoff' | 'retryOn';
  /** Attempts that ran. */
  readonly attempts: number;
  /** Every attempt's error, oldest first. */
  readonly errors: readonly unknown[];
  constructor(hook: 'backoff' | 'retryOn', problem: string, errors: readonly unknown[], cause?: unknown) {
    super(ErrorCodes.RETRY_HOOK, `The run's \`retry.${hook}\` ${problem}; the run failed after ${errors.length} attempt(s).`, { cause });
    this.hook = hook;
    this.attempts = errors.length;
    this.errors = errors;
  }
}

/**
 * A flow's definition is wrong: an unknown parent, a cycle (`cycle` names it, first node repeated
 * last), a duplicate or bad node name, a bad node field, or (checked against the pool's module
 * before any node runs) a task the module does not export. `node` names the node at fault.
 */
export class FlowDefinitionError extends TesseraError {
  /** The node at fault, where one is. */
  readonly node: string | undefined;
  /** The cycle found, e.g. `['a', 'b', 'a']`; undefined for other problems. */
  readonly cycle: readonly string[] | undefined;
  constructor(problem: string, details: { node?: string; cycle?: readonly string[]; cause?: unknown } = {}) {
    super(ErrorCodes.FLOW_DEFINITION, `The flow's definition is wrong: ${problem}. Fix the definition; no node ran.`, { cause: details.cause });
    this.node = details.node;
    this.cycle = details.cycle;
  }
}

/**
 * A node of a flow failed with `onFailure: 'fail'` (the default): the nodes not started were
 * cancelled, the running ones finished. `node` is the first that failed, `cause` its error, `report`
 * every node's status, result or error, and timing.
 */
export class FlowFailedError extends TesseraError {
  /** The first node that failed. */
  readonly node: string;
  /** Every node's outcome. */
  readonly report: FlowReport;
  constructor(node: string, cause: unknown, report: FlowReport) {
    const detail = detailOf(cause);
    super(ErrorCodes.FLOW_FAILED, `Node \`${node}\` of the flow failed${detail}. The nodes that had not started were cancelled; see \`report\`.`, { cause });
    this.node = node;
    this.report = report;
  }
}

/** The flow ran longer than its `timeout` (counted from `pool.flow`): running nodes were aborted, the rest cancelled. */
export class FlowTimeoutError extends TesseraError {
  /** The flow's `timeout` in milliseconds. */
  readonly timeout: number;
  /** Every node's outcome; undefined while the flow is being stopped. */
  report: FlowReport | undefined;
  constructor(timeout: number) {
    super(ErrorCodes.FLOW_TIMEOUT, `The flow ran longer than its timeout of ${timeout} ms and was stopped. Raise \`timeout\` or make its nodes faster.`);
    this.timeout = timeout;
    this.report = undefined;
  }
}

/** A flow node's `input` builder threw; `cause` is what it threw. The node fails with this. */
export class FlowInputError extends TesseraError {
  /** The node whose builder threw. */
  readonly node: string;
  constructor(node: string, cause: unknown) {
    super(ErrorCodes.FLOW_INPUT, `The input builder of flow node \`${node}\` threw; the node failed without running. Fix its \`input\` function.`, { cause });
    this.node = node;
  }
}

/**
 * Reading the items of a `pool.batch` or the source of a `pool.pipeline` threw (a throwing iterator,
 * a rejecting async generator, a getter of an array that throws); `cause` is what it threw.
 */
export class SourceError extends TesseraError {
  /** Items read before the read that threw (the index the failed read would have had). */
  readonly index: number;
  constructor(method: 'pool.batch' | 'pool.pipeline', index: number, cause: unknown) {
    const detail = detailOf(cause);
    super(
      ErrorCodes.SOURCE,
      `Reading item ${index} of the items of ${method} threw${detail}. The runs already started settled first; fix the iterable.`,
      { cause },
    );
    this.index = index;
  }
}

/** An item failed in a stage of `pool.pipeline`; `cause` is the task's own error (or what the stage's `input` threw). */
export class PipelineStageError extends TesseraError {
  /** Index of the item in the pipeline's source. */
  readonly index: number;
  /** Index of the stage in the pipeline's stages. */
  readonly stage: number;
  /** The stage's task. */
  readonly taskName: string;
  constructor(index: number, stage: number, taskName: string, cause: unknown) {
    const detail = detailOf(cause);
    super(
      ErrorCodes.PIPELINE_STAGE,
      `Item ${index} failed in stage ${stage} (\`${taskName}\`) of the pipeline${detail}. The pipeline stopped: runs not started were dropped.`,
      { cause },
    );
    this.index = index;
    this.stage = stage;
    this.taskName = taskName;
  }
}

/**
 * `pool.schedule` was given a pattern croner cannot read (or a date, not a recurring pattern);
 * `cause` is croner's own error, which says which field is wrong.
 */
export class CronPatternError extends TesseraError {
  /** The pattern as given (its string form). */
  readonly pattern: string;
  constructor(pattern: string, problem: string, cause?: unknown) {
    super(
      ErrorCodes.CRON_PATTERN,
      `The cron pattern \`${pattern}\` ${problem}. Pass 5 to 7 fields (\`[seconds] minutes hours day-of-month month day-of-week [year]\`), e.g. \`*/5 * * * *\`; for one run at a set time use the \`runAt\` run option.`,
      { cause },
    );
    this.pattern = pattern;
  }
}

// ---------------------------------------------------------------------------------------------
// BullMQ (`tessera-pool/bullmq`).

/** A tessera option that BullMQ has no equivalent for (`tessera-pool/bullmq`): refused, never dropped. */
export class UnsupportedOptionError extends TesseraError {
  /** The option, e.g. `retry.retryOn`. */
  readonly option: string;
  constructor(option: string, advice: string) {
    super(ErrorCodes.UNSUPPORTED_OPTION, `\`${option}\` has no BullMQ equivalent: ${advice}`);
    this.option = option;
  }
}

/** A job's input or result cannot travel through Redis as JSON (`tessera-pool/bullmq`); `path` says where. */
export class JobDataError extends TesseraError {
  /** `'input'` or `'result'`. */
  readonly what: 'input' | 'result';
  /** Where the offending value sits, e.g. `input.when` (a Date). */
  readonly path: string;
  constructor(what: 'input' | 'result', path: string, found: string) {
    super(
      ErrorCodes.JOB_DATA,
      `The job's ${what} cannot travel through Redis: BullMQ stores it as JSON, and \`${path}\` is ${found}. Use plain objects, arrays, strings, finite numbers, booleans and null.`,
    );
    this.what = what;
    this.path = path;
  }
}

/** A job awaited with `queue.run` failed on a consumer (`tessera-pool/bullmq`); `failedReason` is BullMQ's. */
export class JobFailedError extends TesseraError {
  /** The BullMQ job id. */
  readonly jobId: string;
  /** The message of the job's last error, as BullMQ stored it. */
  readonly failedReason: string;
  /** The `code` of the job's last error (`TESSERA_TASK_TIMEOUT`, or the task's own), which a tessera consumer puts first in `failedReason`. */
  readonly errorCode: string | undefined;
  constructor(jobId: string, failedReason: string) {
    super(ErrorCodes.JOB_FAILED, `Job ${jobId} failed: ${failedReason}`);
    this.jobId = jobId;
    this.failedReason = failedReason;
    this.errorCode = /^([A-Z][A-Z0-9_]*): /.exec(failedReason)?.[1];
  }
}

/** `tessera-pool/bullmq` was imported where `bullmq` or `ioredis` is not installed. */
export class PeerDependencyError extends TesseraError {
  /** The missing package. */
  readonly packageName: string;
  constructor(packageName: string, cause?: unknown) {
    super(
      ErrorCodes.PEER_DEPENDENCY,
      `tessera-pool/bullmq needs the optional peer dependency \`${packageName}\`, which cannot be loaded: npm install bullmq ioredis`,
      { cause },
    );
    this.packageName = packageName;
  }
}

/** An option has the wrong type (`TypeError`) or is out of range (`RangeError`); see `code`. */
export class InvalidOptionTypeError extends TypeError {
  readonly code = ErrorCodes.INVALID_OPTION;
  override name = 'TypeError';
}

/** An option is of the right type but out of range. */
export class InvalidOptionRangeError extends RangeError {
  readonly code = ErrorCodes.INVALID_OPTION;
  override name = 'RangeError';
}
