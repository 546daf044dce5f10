/**
 * `pool.batch`: many inputs, each an ordinary run (its own timeout, retries and typed error), at most
 * `concurrency` admitted and unsettled at a time; every item's outcome in input order, in the shape
 * of `Promise.allSettled`, with counts by outcome. Unlike a map, whose chunk stops at its first
 * failing item, a batch collects failures: one item's error touches no other item.
 *
 * Items are ordinary runs rather than chunks because a chunk has no per-item outcome: the thread
 * stops a chunk at its first failing item and its earlier results are lost. Runs still travel
 * several to a message when the queue is deep (the pool batches queued runs without a signal or
 * timeout), which is what a larger `concurrency` buys for tiny items (see bench/pipeline.ts).
 */
import { isAborted, offAbort, onAbort, reasonOf } from './abort.ts';
import { callContained } from './contain.ts';
import { AbortError, InvalidOptionTypeError, SourceError, TaskTimeoutError } from './errors.ts';
import { isArrayLength } from './map.ts';
import { checkInteger, checkRunOptions, readOption, type RunOptions, type RunSettings } from './options.ts';
import { END, ItemSource } from './source.ts';
import type { Task } from './task.ts';
import { describeValue } from './worker/wire-error.ts';

/** What the pool lends a batch or a pipeline: single runs, admitted inside the caller's own window. */
export interface RunSubmitter {
  /** The pool's slots. */
  readonly capacity: number;
  /**
   * Admits one run of `name` (no `maxQueue` check: the caller bounds what it has in flight); returns
   * its task or the error that refused it. `finite`: part of a batch of an array, admitted while the
   * pool closes. `failed` hears of the run's failure inside its settle.
   */
  submit(name: unknown, input: unknown, run: RunSettings, finite: boolean, failed?: (error: unknown) => void): Task | Error;
  /** Drops a run that has not started; one on a thread runs on. */
  cancel(task: Task): void;
  /** As `ChunkSubmitter.enroll`: destroy stops the caller, and so does close unless `finite`. */
  enroll(stop: (error: Error) => void, finite: boolean): () => void;
}

/** Counts passed to a batch's `onProgress`. */
export interface BatchProgress {
  /** Items settled. */
  readonly done: number;
  /** Items in the batch: the array's length; undefined for an iterable. */
  readonly total: number | undefined;
  readonly fulfilled: number;
  readonly rejected: number;
}

/** Options of `pool.batch`: those of `run` (each applies per item), the window and progress. */
export interface BatchOptions extends Omit<RunOptions, 'transfer' | 'key' | 'keyTtl' | 'onProgress'> {
  /**
   * Items admitted and not yet settled, at most; also bounds what is read ahead of an iterable.
   * @default 2 × the pool's slots (maxThreads × concurrentTasksPerWorker)
   */
  concurrency?: number;
  /**
   * Called on the main thread with the batch's counts as items settle: at most once per 16 ms, and
   * once more with the final counts before the batch settles. What it throws is ignored (one
   * `TesseraWarning` per batch).
   */
  onProgress?: (progress: BatchProgress) => unknown;
}

/** What `pool.batch` resolves with. */
export interface BatchResult<R> {
  /** One outcome per item read, in input order, as `Promise.allSettled` gives them. */
  readonly results: PromiseSettledResult<R>[];
  readonly fulfilled: number;
  /** Every rejected item, the aborted and timed-out ones included. */
  readonly rejected: number;
  /** Of `rejected`: `AbortError` (the signal aborted it while queued or running, or before it started). */
  readonly aborted: number;
  /** Of `rejected`: `TaskTimeoutError`. */
  readonly timedOut: number;
}

interface BatchSettings {
  readonly run: RunSettings;
  readonly concurrency: number | undefined;
  readonly onProgress: ((progress: BatchProgress) => unknown) | undefined;
}

/** Refuses an option a method does not take, in the one message format of `options.ts`. */
export function refuseOption(name: string, why: string, value: unknown): never {
  throw new InvalidOptionTypeError(`Expected \`${name}\` to be left out: ${why}, got \`${describeValue(value)}\` (${value === null ? 'null' : typeof value})`);
}

/** Checks a run's options where each of many items is a run of its own (no key, nothing transferred). */
export function checkItemRunOptions(options: unknown, method: string): RunSettings {
  const run = checkRunOptions(options);
  if (run.key !== undefined) refuseOption('key', `${method} takes no idempotency key`, run.key);
  if (run.transfer !== undefined) refuseOption('transfer', `${method} sends each item on its own; one list cannot move with many`, run.transfer);
  return run;
}

function checkBatchOptions(options: unknown): BatchSettings {
  const run = checkItemRunOptions(options, 'pool.batch');
  const concurrency = readOption(options as object, 'concurrency');
  return {
    // The batch's onProgress reports the batch; its runs report none.
    run: run.onProgress === undefined ? run : { ...run, onProgress: undefined },
    concurrency: concurrency === undefined ? undefined : checkInteger('concurrency', concurrency, 1),
    onProgress: run.onProgress as BatchSettings['onProgress'],
  };
}

/** `pool.batch`. Never throws: bad arguments reject at once. */
export function runBatch(submitter: RunSubmitter, name: unknown, items: unknown, options: unknown): Promise<BatchResult<unknown>> {
  let settings: BatchSettings;
  let source: ItemSource;
  try {
    settings = checkBatchOptions(options);
    source = new ItemSource(items, 'pool.batch');
    // The results array is as long as the items: a Proxy may claim more than any array holds (2³² − 1).
    if (source.total !== undefined && !isArrayLength(source.total)) {
      throw new SourceError('pool.batch', 0, new RangeError(`the array's length ${source.total} is more than an array can hold`));
    }
  } catch (error) {
    return Promise.reject(error);
  }
  return new Batch(submitter, name, source, settings).promise;
}

/** Calls a batch's `onProgress` at most once per 16 ms, containing whatever it does. */
class ProgressReporter {
  static readonly INTERVAL = 16;
  readonly #callback: (progress: BatchProgress) => unknown;
  readonly #read: () => BatchProgress;
  readonly #name: string;
  #timer: NodeJS.Timeout | undefined;
  #reported = -1;
  #warned = false;

  constructor(callback: (progress: BatchProgress) => unknown, read: () => BatchProgress, name: string) {
    this.#callback = callback;
    this.#read = read;
    this.#name = name;
  }

  /** Something settled: report within 16 ms. */
  changed(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#report();
    }, ProgressReporter.INTERVAL);
  }

  /** The last report, before the batch settles. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#report();
  }

  #report(): void {
    const progress = this.#read();
    if (progress.done === this.#reported) return;
    this.#reported = progress.done;
    callContained(this.#warnOnce, this.#callback, progress);
  }

  readonly #warnOnce = (error: unknown): void => this.#warn(error);

  #warn(error: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    process.emitWarning(`onProgress of a batch of \`${this.#name}\` threw; ignored, the batch goes on. ${describeValue(error)}`, 'TesseraWarning');
  }
}

/**
 * One batch. Event-driven: every settle, answered read, abort or stop calls `#pump`, which admits
 * items while the window has room and settles the batch once nothing is left in flight.
 */
class Batch {
  readonly promise: Promise<BatchResult<unknown>>;
  #resolve!: (result: BatchResult<unknown>) => void;
  #reject!: (error: unknown) => void;
  readonly #submitter: RunSubmitter;
  readonly #name: unknown;
  readonly #source: ItemSource;
  readonly #run: RunSettings;
  readonly #window: number;
  readonly #finite: boolean;
  readonly #results: PromiseSettledResult<unknown>[];
  #fulfilled = 0;
  #rejected = 0;
  #aborted = 0;
  #timedOut = 0;
  #inFlight = 0;
  /** Runs admitted and not settled. */
  readonly #tasks = new Set<Task>();
  /** Why the batch rejects: its source threw, or the pool closed (a batch of an iterable) or was destroyed. */
  #stop: { error: unknown } | undefined;
  /** The signal aborted: nothing more is admitted. */
  #cancelled = false;
  #ended = false;
  readonly #progress: ProgressReporter | undefined;
  #unenroll: () => void = () => {};
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.#abort();

  constructor(submitter: RunSubmitter, name: unknown, source: ItemSource, settings: BatchSettings) {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#submitter = submitter;
    this.#name = name;
    this.#source = source;
    this.#run = settings.run;
    this.#window = settings.concurrency ?? 2 * submitter.capacity;
    this.#finite = source.total !== undefined;
    this.#results = this.#finite ? new Array<PromiseSettledResult<unknown>>(source.total!) : [];
    this.#progress =
      settings.onProgress && new ProgressReporter(settings.onProgress, () => this.#counts(), typeof name === 'string' ? name : describeValue(name));
    this.#signal = settings.run.signal;
    // A batch of an array was accepted whole: close() lets it finish, as it lets a map of an array.
    // (A pool that is not open stops the batch inside enroll(): it ends before listening to anything.)
    this.#unenroll = submitter.enroll((error) => {
      this.#halt(error);
      this.#pump();
    }, this.#finite);
    if (this.#ended) return;
    if (this.#signal !== undefined) {
      if (isAborted(this.#signal)) this.#abort();
      else onAbort(this.#signal, this.#onAbort);
    }
    this.#pump();
  }

  #counts(): BatchProgress {
    return { done: this.#fulfilled + this.#rejected, total: this.#source.total, fulfilled: this.#fulfilled, rejected: this.#rejected };
  }

  #pump(): void {
    const source = this.#source;
    while (this.#stop === undefined && !this.#cancelled && !source.done && !source.reading && this.#inFlight < this.#window) {
      let item: unknown;
      try {
        item = source.next();
      } catch (error) {
        this.#halt(error);
        break;
      }
      // An async read (never an item that happens to be a promise: an array's items are read at once).
      if (source.reading) {
        (item as Promise<unknown>).then(
          (answer: unknown) => {
            if (this.#ended) return;
            if (answer !== END && this.#stop === undefined && !this.#cancelled) this.#submit(source.read - 1, answer);
            this.#pump();
          },
          (error: unknown) => {
            if (this.#ended) return;
            this.#halt(error);
            this.#pump();
          },
        );
        break;
      }
      if (item === END) break;
      this.#submit(source.read - 1, item);
    }
    // A read still waiting does not hold the batch once it stopped: it may never answer.
    if (this.#inFlight === 0 && (this.#stop !== undefined || this.#cancelled || (source.done && !source.reading))) void this.#end();
  }

  #submit(index: number, input: unknown): void {
    if (!this.#finite) this.#results.push(undefined!);
    const task = this.#submitter.submit(this.#name, input, this.#run, this.#finite);
    if (task instanceof Error) return this.#record(index, false, task);
    this.#inFlight++;
    this.#tasks.add(task);
    task.promise.then(
      (value) => this.#settled(task, index, true, value),
      (error: unknown) => this.#settled(task, index, false, error),
    );
  }

  #settled(task: Task, index: number, ok: boolean, value: unknown): void {
    this.#inFlight--;
    this.#tasks.delete(task);
    this.#record(index, ok, value);
    this.#pump();
  }

  #record(index: number, ok: boolean, value: unknown): void {
    if (ok) {
      this.#results[index] = { status: 'fulfilled', value };
      this.#fulfilled++;
    } else {
      this.#results[index] = { status: 'rejected', reason: value };
      this.#rejected++;
      if (value instanceof AbortError) this.#aborted++;
      else if (value instanceof TaskTimeoutError) this.#timedOut++;
    }
    this.#progress?.changed();
  }

  /** The signal aborted: runs in flight carry it and reject themselves; items of an array not yet admitted are marked. */
  #abort(): void {
    if (this.#cancelled || this.#ended || this.#stop !== undefined) return;
    this.#cancelled = true;
    const total = this.#source.total;
    if (total !== undefined) {
      // One error for all of them: a million never-started items need no million stacks.
      const error = new AbortError(reasonOf(this.#signal!));
      for (let index = this.#source.read; index < total; index++) this.#record(index, false, error);
    }
    this.#pump();
  }

  /** The batch will reject: its runs not started are dropped (their outcomes would be thrown away), those on threads finish. */
  #halt(error: unknown): void {
    if (this.#stop !== undefined || this.#ended) return;
    this.#stop = { error };
    for (const task of [...this.#tasks]) this.#submitter.cancel(task);
  }

  async #end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    this.#unenroll();
    if (this.#signal !== undefined) offAbort(this.#signal, this.#onAbort);
    await this.#source.close();
    this.#progress?.flush();
    if (this.#stop !== undefined) {
      this.#reject(this.#stop.error);
      return;
    }
    this.#resolve({
      results: this.#results,
      fulfilled: this.#fulfilled,
      rejected: this.#rejected,
      aborted: this.#aborted,
      timedOut: this.#timedOut,
    });
  }
}
