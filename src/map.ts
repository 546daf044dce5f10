/**
 * `pool.map`: items travel to threads in chunks (one message, many items), chunk sizes adapt to the
 * measured time per item, results come back in input order, and a stream is read with bounded
 * read-ahead. A map stops, and stops reading its source, the moment it fails, its signal aborts or
 * the pool closes, even while its source has not yielded.
 */
import { isAborted, offAbort, onAbort, reasonOf } from './abort.ts';
import { AbortError, InvalidOptionTypeError, TaskInputError } from './errors.ts';
import { checkInteger, checkNoProgress, checkRunOptions, checkUnkeyed, readOption, type RunOptions, type RunSettings } from './options.ts';
import { chunkSizing, Sizer } from './sizer.ts';
import type { Task } from './task.ts';
import type { ChunkValue } from './worker/protocol.ts';
import { describeValue } from './worker/wire-error.ts';

/** Options of `pool.map`: those of `run` (`timeout` applies per chunk) and chunking. */
export interface MapOptions extends Omit<RunOptions, 'transfer' | 'key' | 'keyTtl' | 'retry' | 'onProgress' | 'orderingKey' | 'delay' | 'runAt'> {
  /**
   * Items per message. Fixed when given; by default it adapts so that each chunk holds about 4 ms of work.
   * @default 'auto'
   */
  chunkSize?: number | 'auto';
  /**
   * Chunks submitted and not yet consumed, at most. With `chunkSize` it bounds the items held in
   * memory when reading a stream.
   * @default 2 × the pool's slots (maxThreads × concurrentTasksPerWorker)
   */
  window?: number;
}

/** What the pool lends a map. */
export interface ChunkSubmitter {
  /** The pool's slots. */
  readonly capacity: number;
  /** Most items a chunk may carry: the smallest rate limit on the task (a chunk counts its items), else Infinity. */
  readonly maxChunk: number;
  /**
   * Admits one chunk; returns its task or the error that stopped it. `finite`: a map of an array.
   * `failed` hears of the chunk's failure as it settles, before its slot goes to another task.
   */
  submit(items: unknown[], offset: number, run: RunSettings, finite: boolean, failed: (error: unknown) => void): Task | Error;
  /** Drops a chunk that has not started. */
  cancel(task: Task): void;
  /**
   * Registers a running map: destroying the pool stops it, and so does closing it unless the map is
   * `finite` (a map of an array was accepted whole, so close() lets it finish). Returns the function
   * that unregisters it.
   */
  enroll(stop: (error: Error) => void, finite: boolean): () => void;
}

export interface MapSettings {
  readonly run: RunSettings;
  readonly chunkSize: number | undefined;
  readonly window: number | undefined;
}

/** Checks a map's options; throws the option error. */
export function checkMapOptions(options: unknown): MapSettings {
  const run = checkNoProgress(checkUnkeyed(checkRunOptions(options), 'pool.map'), 'pool.map');
  const given = options as Record<string, unknown>;
  const chunkSize = readOption(given, 'chunkSize');
  const window = readOption(given, 'window');
  return {
    run,
    chunkSize: chunkSize === undefined || chunkSize === 'auto' ? undefined : checkInteger('chunkSize', chunkSize, 1),
    window: window === undefined ? undefined : checkInteger('window', window, 1),
  };
}

interface Pending {
  readonly task: Task;
  readonly count: number;
}

/**
 * The engine under both forms of map: keeps up to `window` chunks submitted, hands results out in
 * input order, and on the first failure cancels every chunk that has not started.
 */
class Mapper {
  readonly #submitter: ChunkSubmitter;
  readonly #settings: MapSettings;
  readonly #sizer: Sizer;
  readonly #window: number;
  readonly #pending: Pending[] = [];
  #offset = 0;
  readonly #finite: boolean;
  #failure: { error: unknown } | undefined;
  /** Wakes the one wait in progress (the map waits on one thing at a time). */
  #wake: (() => void) | undefined;
  readonly #unenroll: () => void;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.#fail(new AbortError(reasonOf(this.#signal!)));

  constructor(submitter: ChunkSubmitter, settings: MapSettings, finite: boolean) {
    this.#submitter = submitter;
    this.#finite = finite;
    this.#settings = settings;
    this.#sizer = new Sizer(chunkSizing);
    this.#window = settings.window ?? 2 * submitter.capacity;
    this.#unenroll = submitter.enroll((error) => this.#fail(error), finite);
    // The map listens itself: while it waits on its source no chunk may be carrying the signal.
    this.#signal = settings.run.signal;
    if (this.#signal !== undefined) {
      if (isAborted(this.#signal)) this.#onAbort();
      else onAbort(this.#signal, this.#onAbort);
    }
  }

  get full(): boolean {
    return this.#pending.length >= this.#window;
  }

  get idle(): boolean {
    return this.#pending.length === 0;
  }

  get stopped(): boolean {
    return this.#failure !== undefined;
  }

  /**
   * Settles as `promise` does, or with undefined as soon as the map fails. One promise per wait, and
   * nothing left behind: racing every wait against one long-lived promise would pile a reaction onto
   * it per wait for the life of a stream, and Promise.race costs more per item of a stream.
   */
  unlessStopped<T>(promise: PromiseLike<T>): Promise<T | undefined> {
    if (this.#failure !== undefined) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve, reject) => {
      this.#wake = () => resolve(undefined);
      promise.then(resolve, reject);
    });
  }

  /** Throws the failure, if there was one. */
  check(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  chunkSize(remaining: number | undefined): number {
    return Math.min(this.#settings.chunkSize ?? this.#sizer.next(remaining, this.#submitter.capacity), this.#submitter.maxChunk);
  }

  submit(items: unknown[]): void {
    if (this.#failure !== undefined) return;
    const task = this.#submitter.submit(items, this.#offset, this.#settings.run, this.#finite, this.#failed);
    this.#offset += items.length;
    if (task instanceof Error) return this.#fail(task);
    this.#pending.push({ task, count: items.length });
    // #failed heard of it already; a chunk dropped after the failure is never awaited.
    task.promise.catch(() => {});
  }

  /** Waits for the oldest chunk; throws the first failure of any chunk. */
  async takeOldest(): Promise<unknown[]> {
    const head = this.#pending[0]!;
    if (this.#failure === undefined) await this.unlessStopped(head.task.promise.catch(() => {}));
    this.check();
    this.#pending.shift();
    const { results, ms } = (await head.task.promise) as ChunkValue;
    this.#sizer.record(head.count, ms);
    return results;
  }

  /** Cancels what has not started, stops listening; results of running chunks are dropped. */
  close(): void {
    for (const { task } of this.#pending) this.#submitter.cancel(task);
    this.#pending.length = 0;
    if (this.#signal !== undefined) offAbort(this.#signal, this.#onAbort);
    this.#unenroll();
  }

  readonly #failed = (error: unknown): void => this.#fail(error);

  #fail(error: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = { error };
    for (const { task } of this.#pending) this.#submitter.cancel(task);
    this.#wake?.();
  }
}

/** The largest length an array can have. */
const MAX_ARRAY_LENGTH = 2 ** 32 - 1;

/** Whether `length` is one an array can have: an integer from 0 to 2³² − 1. */
export function isArrayLength(length: unknown): length is number {
  return typeof length === 'number' && Number.isInteger(length) && length >= 0 && length <= MAX_ARRAY_LENGTH;
}

/** Reads items `from`..`to` of an array that may be hostile (a Proxy, throwing getters). */
function slice(items: readonly unknown[], from: number, to: number): unknown[] {
  try {
    return items.slice(from, to);
  } catch (cause) {
    throw new TaskInputError('getter or Proxy trap that throws', cause);
  }
}

/** `pool.map` over an array. */
export async function mapArray(submitter: ChunkSubmitter, items: readonly unknown[], settings: MapSettings): Promise<unknown[]> {
  const mapper = new Mapper(submitter, settings, true);
  try {
    let length: unknown;
    try {
      length = items.length;
    } catch (cause) {
      throw new TaskInputError('getter or Proxy trap that throws', cause);
    }
    // A Proxy of an array may answer anything: what no array's length can be would size `out` wrong or throw.
    if (!isArrayLength(length)) throw new TaskInputError(`array whose length is not a count (${describeValue(length)})`);
    const out = new Array<unknown>(length);
    let read = 0;
    let written = 0;
    while (written < length) {
      while (read < length && !mapper.full && !mapper.stopped) {
        const size = mapper.chunkSize(length - read);
        mapper.submit(slice(items, read, read + size));
        read += size;
      }
      mapper.check();
      for (const result of await mapper.takeOldest()) out[written++] = result;
    }
    return out;
  } finally {
    mapper.close();
  }
}

/** `pool.map` over any iterable or async iterable, as an async iterable of results. */
export async function* mapStream(
  submitter: ChunkSubmitter,
  source: Iterable<unknown> | AsyncIterable<unknown>,
  settings: MapSettings,
): AsyncGenerator<unknown> {
  const iterator = iterate(source);
  const mapper = new Mapper(submitter, settings, false);
  let exhausted = false;
  /** A read of the source that has not answered: the map does not wait on it once stopped. */
  let stuck = false;
  try {
    for (;;) {
      while (!exhausted && !mapper.full && !mapper.stopped) {
        const size = mapper.chunkSize(undefined);
        const items: unknown[] = [];
        while (items.length < size) {
          const next = iterator.next();
          let step: IteratorResult<unknown> | undefined;
          if (typeof (next as Partial<PromiseLike<unknown>>).then === 'function') {
            stuck = true;
            step = await mapper.unlessStopped(next as PromiseLike<IteratorResult<unknown>>);
            if (step === undefined) break;
            stuck = false;
          } else step = next as IteratorResult<unknown>;
          if (step.done) {
            exhausted = true;
            break;
          }
          items.push(step.value);
        }
        mapper.check();
        if (items.length > 0) mapper.submit(items);
      }
      mapper.check();
      if (mapper.idle) return;
      yield* await mapper.takeOldest();
    }
  } finally {
    mapper.close();
    if (!exhausted) {
      // An async generator suspended in a read that never answers would hold return() forever too.
      const done = Promise.resolve()
        .then(() => iterator.return?.())
        .catch(() => {});
      if (!stuck) await done;
    }
  }
}

/** The iterator of `source`, sync or async; an option error when it is neither. */
export function iterate(source: unknown): Iterator<unknown> | AsyncIterator<unknown> {
  try {
    const iterable = source as Partial<Iterable<unknown> & AsyncIterable<unknown>> | null | undefined;
    const asyncIterator = iterable?.[Symbol.asyncIterator];
    if (typeof asyncIterator === 'function') return asyncIterator.call(iterable);
    const syncIterator = iterable?.[Symbol.iterator];
    if (typeof syncIterator === 'function') return syncIterator.call(iterable);
  } catch (cause) {
    throw new InvalidOptionTypeError('Expected `items` to be an array, an iterable or an async iterable, but reading it threw.', { cause });
  }
  throw new InvalidOptionTypeError(`Expected \`items\` to be an array, an iterable or an async iterable, got \`${describeValue(source)}\` (${typeof source})`);
}
