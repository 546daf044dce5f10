/**
 * `pool.map`: items travel to threads in chunks (one message, many items), chunk sizes adapt to the
 * measured time per item, results come back in input order, and a stream is read with bounded
 * read-ahead.
 */
import { InvalidOptionTypeError } from './errors.ts';
import { checkInteger, checkRunOptions, type RunOptions } from './options.ts';
import type { TaskInput, TaskName, TaskResult } from './types.ts';
import type { ChunkValue } from './worker/protocol.ts';
import type { Task } from './task.ts';

/** Options of `pool.map`: those of `run` (`timeout` applies per chunk) and chunking. */
export interface MapOptions extends Omit<RunOptions, 'transfer'> {
  /**
   * Items per message. Fixed when given; by default it adapts so that each chunk holds about
   * {@link CHUNK_TARGET_MS} ms of work.
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

/** Work per chunk the adaptive size aims at, in milliseconds. */
export const CHUNK_TARGET_MS = 4;
/** Items in a chunk before the first one has been timed. */
const FIRST_CHUNK = 8;
/** Cap on adaptive chunk sizes, which also caps read-ahead memory. */
const MAX_CHUNK = 10_000;

/**
 * How a task's input splits into parts that run on several threads at once, and how the parts'
 * results merge. Both functions run on the main thread: keep them cheap (cut index ranges, share
 * buffers), and leave the work to the parts.
 */
export interface Partitioner<In = any, Out = any, PartIn = any, PartOut = any> {
  /** The task each part runs; by default the partitioned task itself. */
  task?: string;
  /** Cuts `input` into at most `parts` part inputs (`parts` is the number of free slots, at least 1). */
  split(input: In, parts: number): PartIn[];
  /** Builds the run's result from the parts' results, in split order; `parts` is what `split` returned. */
  merge(results: PartOut[], input: In, parts: PartIn[]): Out;
}

/** Partitioners by task name: `pool.run(name, …)` of such a task fans out over the free threads. */
export type Partitions<M> = { [K in TaskName<M>]?: Partitioner<TaskInput<M, K>, TaskResult<M, K>> };

/** Validates the `partitions` option once, at construction. */
export function checkPartitions(partitions: unknown): ReadonlyMap<string, Partitioner> | undefined {
  if (partitions === undefined) return undefined;
  if (typeof partitions !== 'object' || partitions === null) {
    throw new InvalidOptionTypeError(`Expected \`partitions\` to be an object of partitioners by task name, got \`${String(partitions)}\` (${typeof partitions})`);
  }
  const map = new Map<string, Partitioner>();
  for (const [name, value] of Object.entries(partitions)) {
    const p = value as Partitioner;
    if (typeof p?.split !== 'function' || typeof p.merge !== 'function' || (p.task !== undefined && typeof p.task !== 'string')) {
      throw new InvalidOptionTypeError(
        `Expected \`partitions.${name}\` to be { split(input, parts), merge(results, input), task? }, got \`${String(value)}\` (${typeof value})`,
      );
    }
    map.set(name, p);
  }
  return map.size > 0 ? map : undefined;
}

/** What the pool lends a map. */
export interface ChunkSubmitter {
  /** The pool's slots. */
  readonly capacity: number;
  /** Admits one chunk; returns its task or the error that stopped it. */
  submit(items: unknown[], offset: number): Task | Error;
  /** Drops a chunk that has not started. */
  cancel(task: Task): void;
}

export interface MapSettings {
  readonly priority: number;
  readonly chunkSize: number | undefined;
  readonly window: number | undefined;
  /** An option problem, reported through the map's result rather than thrown. */
  readonly error: Error | undefined;
}

export function checkMapOptions(options: MapOptions): MapSettings {
  try {
    checkRunOptions(options);
    const chunkSize = options.chunkSize === undefined || options.chunkSize === 'auto' ? undefined : checkInteger('chunkSize', options.chunkSize, 1);
    const window = options.window === undefined ? undefined : checkInteger('window', options.window, 1);
    return { priority: options.priority ?? 0, chunkSize, window, error: undefined };
  } catch (error) {
    return { priority: 0, chunkSize: undefined, window: undefined, error: error as Error };
  }
}

class ChunkSizer {
  #perItemMs = -1;
  constructor(private readonly fixed: number | undefined) {}

  record(count: number, ms: number): void {
    const sample = ms / count;
    this.#perItemMs = this.#perItemMs < 0 ? sample : (this.#perItemMs + sample) / 2;
  }

  /** Next chunk size, never so large that fewer chunks than slots remain (when the total is known). */
  next(remaining: number | undefined, slots: number): number {
    if (this.fixed !== undefined) return this.fixed;
    let size = this.#perItemMs < 0 ? FIRST_CHUNK : this.#perItemMs === 0 ? MAX_CHUNK : Math.round(CHUNK_TARGET_MS / this.#perItemMs);
    if (remaining !== undefined) size = Math.min(size, Math.ceil(remaining / slots));
    return Math.max(1, Math.min(MAX_CHUNK, size));
  }
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
  readonly #sizer: ChunkSizer;
  readonly #window: number;
  readonly #pending: Pending[] = [];
  #offset = 0;
  #failure: { error: unknown } | undefined;
  #wake: (() => void) | undefined;

  constructor(submitter: ChunkSubmitter, settings: MapSettings) {
    this.#submitter = submitter;
    this.#sizer = new ChunkSizer(settings.chunkSize);
    this.#window = settings.window ?? 2 * submitter.capacity;
  }

  get full(): boolean {
    return this.#pending.length >= this.#window;
  }

  get idle(): boolean {
    return this.#pending.length === 0;
  }

  chunkSize(remaining: number | undefined): number {
    return this.#sizer.next(remaining, this.#submitter.capacity);
  }

  submit(items: unknown[]): void {
    const task = this.#submitter.submit(items, this.#offset);
    this.#offset += items.length;
    if (!(task instanceof Error)) {
      this.#pending.push({ task, count: items.length });
      task.promise.catch((error: unknown) => this.#fail(error));
    } else {
      this.#fail(task);
    }
  }

  /** Waits for the oldest chunk; throws the first failure of any chunk. */
  async takeOldest(): Promise<unknown[]> {
    const head = this.#pending[0]!;
    if (this.#failure === undefined) {
      const failed = new Promise<void>((resolve) => (this.#wake = resolve));
      await Promise.race([head.task.promise.catch(() => {}), failed]);
    }
    if (this.#failure !== undefined) throw this.#failure.error;
    this.#pending.shift();
    const { results, ms } = (await head.task.promise) as ChunkValue;
    this.#sizer.record(head.count, ms);
    return results;
  }

  /** Cancels what has not started; results of running chunks are dropped. */
  cancelAll(): void {
    for (const { task } of this.#pending) this.#submitter.cancel(task);
    this.#pending.length = 0;
  }

  #fail(error: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = { error };
    this.cancelAll();
    this.#wake?.();
  }
}

/** `pool.map` over an array. */
export async function mapArray(submitter: ChunkSubmitter, items: readonly unknown[], settings: MapSettings): Promise<unknown[]> {
  const mapper = new Mapper(submitter, settings);
  const out = new Array<unknown>(items.length);
  let read = 0;
  let written = 0;
  try {
    while (written < items.length) {
      while (read < items.length && !mapper.full) {
        const size = mapper.chunkSize(items.length - read);
        mapper.submit(items.slice(read, read + size));
        read += size;
      }
      for (const result of await mapper.takeOldest()) out[written++] = result;
    }
    return out;
  } finally {
    mapper.cancelAll();
  }
}

/** `pool.map` over any iterable or async iterable, as an async iterable of results. */
export async function* mapStream(
  submitter: ChunkSubmitter,
  source: Iterable<unknown> | AsyncIterable<unknown>,
  settings: MapSettings,
): AsyncGenerator<unknown> {
  if (settings.error) throw settings.error;
  const iterable = source as Partial<Iterable<unknown> & AsyncIterable<unknown>> | null | undefined;
  if (typeof iterable?.[Symbol.asyncIterator] !== 'function' && typeof iterable?.[Symbol.iterator] !== 'function') {
    throw new InvalidOptionTypeError(`Expected \`items\` to be an array, an iterable or an async iterable, got \`${String(source)}\` (${typeof source})`);
  }
  const iterator =
    Symbol.asyncIterator in source ? (source as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (source as Iterable<unknown>)[Symbol.iterator]();
  const mapper = new Mapper(submitter, settings);
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && !mapper.full) {
        const size = mapper.chunkSize(undefined);
        const items: unknown[] = [];
        while (items.length < size) {
          const step = await iterator.next();
          if (step.done) {
            exhausted = true;
            break;
          }
          items.push(step.value);
        }
        if (items.length > 0) mapper.submit(items);
      }
      if (mapper.idle) return;
      yield* await mapper.takeOldest();
    }
  } finally {
    mapper.cancelAll();
    if (!exhausted) await iterator.return?.();
  }
}

