/**
 * `pool.pipeline`: items flow from a source through stages, each a task with its own concurrency,
 * and come out as an async iterable, in input order or as they finish.
 *
 * Back-pressure, end to end: a stage holds at most `concurrency + buffer` items (running, or done and
 * waiting for the next stage, or for the consumer after the last stage) and starts no item while it
 * holds that many, so a slow stage, or a consumer that stops pulling, stops the stages before it and
 * then the reading of the source.
 *
 * In input order, the last stage's results wait for the oldest item; if every stage were full of
 * younger items, the oldest could never get in. So the oldest item not yet yielded (the head) may
 * always start where a thread slot of its stage is free, one over the stage's bound: the pipeline
 * always moves, and holds at most one item more per stage.
 *
 * A failure anywhere (a run, a stage's `input` function, the source, the signal, the pool closing)
 * stops it: the source is not read again, runs not started are dropped, and the iteration throws
 * once the runs on threads have settled. Leaving the `for await` early does the same, quietly.
 */
import { isAborted, offAbort, onAbort, reasonOf } from './abort.ts';
import { AbortError, InvalidOptionTypeError, PipelineStageError } from './errors.ts';
import { checkItemRunOptions, refuseOption, type RunSubmitter } from './batch.ts';
import { checkInteger, checkRunOptions, readOption, type RunOptions, type RunSettings } from './options.ts';
import { END, ItemSource } from './source.ts';
import type { Task } from './task.ts';
import type { AnyTaskModule, TaskInput, TaskName, TaskResult } from './types.ts';
import { describeValue } from './worker/wire-error.ts';

/** One stage of a pipeline for task `K`. `priority`, `timeout` and `retry` apply to each of its runs. */
export interface PipelineStageOf<M, K extends TaskName<M>> extends Omit<RunOptions, 'signal' | 'transfer' | 'key' | 'keyTtl' | 'onProgress'> {
  /** The task this stage runs, once per item. */
  task: K;
  /**
   * Runs of this stage admitted at once, at most.
   * @default 2 × the pool's slots (maxThreads × concurrentTasksPerWorker), as a batch's window
   */
  concurrency?: number;
  /**
   * Results of this stage that may wait for the next stage (or the consumer), beyond those running.
   * @default the stage's `concurrency`
   */
  buffer?: number;
  /**
   * Makes this stage's input from the previous stage's result (the source's item for the first
   * stage) and the item's index. What it throws fails the pipeline with `PipelineStageError`.
   * @default the previous result as it is
   */
  input?: (previous: any, index: number) => TaskInput<M, K>;
}

/** A stage of a pipeline over module `M`: any of its tasks. */
export type PipelineStage<M = AnyTaskModule> = { [K in TaskName<M>]: PipelineStageOf<M, K> }[TaskName<M>];

/** What a pipeline yields: the result of its last stage's task. */
export type PipelineResult<M, S extends readonly unknown[]> = S extends readonly [...unknown[], infer Last]
  ? Last extends { task: infer K extends TaskName<M> }
    ? TaskResult<M, K>
    : unknown
  : unknown;

/** Options of `pool.pipeline`. */
export interface PipelineOptions {
  /**
   * Yield results in input order; `false` yields them as the last stage finishes them.
   * @default true
   */
  ordered?: boolean;
  /** Aborting it stops the pipeline: its runs carry it, and the iteration throws `AbortError`. */
  signal?: AbortSignal;
}

interface Stage {
  readonly index: number;
  readonly task: string;
  readonly run: RunSettings;
  readonly concurrency: number;
  /** concurrency + buffer: items this stage may hold. */
  readonly limit: number;
  readonly input: ((previous: unknown, index: number) => unknown) | undefined;
  running: number;
}

interface Item {
  readonly index: number;
  /** The source's item, then each stage's result in turn. */
  value: unknown;
}

interface PipelineSettings {
  readonly stages: Stage[];
  readonly ordered: boolean;
  readonly signal: AbortSignal | undefined;
}

function checkStage(given: unknown, index: number, capacity: number, signal: AbortSignal | undefined): Stage {
  const label = `stages[${index}]`;
  if (typeof given !== 'object' || given === null) {
    throw new InvalidOptionTypeError(`Expected \`${label}\` to be an object with a \`task\`, got \`${describeValue(given)}\` (${given === null ? 'null' : typeof given})`);
  }
  const task = readOption(given, 'task', `${label}.task`);
  if (typeof task !== 'string') {
    throw new InvalidOptionTypeError(`Expected \`${label}.task\` to be a task name (a string), got \`${describeValue(task)}\` (${typeof task})`);
  }
  const concurrency = readOption(given, 'concurrency', `${label}.concurrency`);
  const buffer = readOption(given, 'buffer', `${label}.buffer`);
  const input = readOption(given, 'input', `${label}.input`);
  if (input !== undefined && typeof input !== 'function') {
    throw new InvalidOptionTypeError(`Expected \`${label}.input\` to be a function, got \`${describeValue(input)}\` (${typeof input})`);
  }
  const run = checkItemRunOptions(given, 'a pipeline stage');
  if (run.signal !== undefined) refuseOption(`${label}.signal`, "a stage's runs carry the pipeline's `signal`", run.signal);
  if (run.onProgress !== undefined) refuseOption(`${label}.onProgress`, 'a pipeline stage reports no progress', run.onProgress);
  const slots = concurrency === undefined ? 2 * capacity : checkInteger(`${label}.concurrency`, concurrency, 1);
  return {
    index,
    task,
    run: signal === undefined ? run : { ...run, signal },
    concurrency: slots,
    limit: slots + (buffer === undefined ? slots : checkInteger(`${label}.buffer`, buffer, 0)),
    input: input as Stage['input'],
    running: 0,
  };
}

function checkPipeline(stages: unknown, options: unknown, capacity: number): PipelineSettings {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionTypeError(`Expected \`options\` to be an object, got \`${describeValue(options)}\` (${options === null ? 'null' : typeof options})`);
  }
  const ordered = readOption(options, 'ordered');
  if (ordered !== undefined && typeof ordered !== 'boolean') {
    throw new InvalidOptionTypeError(`Expected \`ordered\` to be a boolean, got \`${describeValue(ordered)}\` (${typeof ordered})`);
  }
  // The run options' own check of a signal (a real AbortSignal, not a Proxy of one).
  const signal = checkRunOptions({ signal: readOption(options, 'signal') }).signal;
  let list: unknown[];
  try {
    list = Array.isArray(stages) ? Array.from(stages as unknown[]) : [];
  } catch (cause) {
    throw new InvalidOptionTypeError('Expected `stages` to be readable, but reading it threw. Pass a plain array of stages.', { cause });
  }
  if (list.length === 0) {
    throw new InvalidOptionTypeError(`Expected \`stages\` to be a non-empty array of stages, got \`${describeValue(stages)}\` (${typeof stages})`);
  }
  return { stages: list.map((stage, index) => checkStage(stage, index, capacity, signal)), ordered: ordered ?? true, signal };
}

/** Items waiting for a stage (or for the consumer), oldest first: a binary min-heap by index. */
class Waiting {
  readonly #heap: Item[] = [];

  get size(): number {
    return this.#heap.length;
  }

  peek(): Item | undefined {
    return this.#heap[0];
  }

  push(item: Item): void {
    const heap = this.#heap;
    let at = heap.push(item) - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (heap[parent]!.index <= item.index) break;
      heap[at] = heap[parent]!;
      at = parent;
    }
    heap[at] = item;
  }

  pop(): Item | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1]!.index < heap[child]!.index) child++;
      if (heap[child]!.index >= last.index) break;
      heap[at] = heap[child]!;
      at = child;
    }
    heap[at] = last;
    return top;
  }
}

/** `pool.pipeline`. Never throws: bad arguments throw from the first step of the iteration. */
export function runPipeline(submitter: RunSubmitter, source: unknown, stages: unknown, options: unknown): AsyncIterable<unknown> {
  let settings: PipelineSettings;
  let items: ItemSource;
  try {
    settings = checkPipeline(stages, options, submitter.capacity);
    items = new ItemSource(source, 'pool.pipeline');
  } catch (error) {
    return (async function* () {
      yield* [];
      throw error;
    })();
  }
  // Nothing starts (no read, no run, no listener) before the first step of the iteration.
  return (async function* () {
    yield* new Pipeline(submitter, items, settings).results();
  })();
}

/** One pipeline in progress. Event-driven: every settle, answered read or consumed result calls `#pump`. */
class Pipeline {
  readonly #submitter: RunSubmitter;
  readonly #source: ItemSource;
  readonly #stages: Stage[];
  readonly #ordered: boolean;
  /** `#waiting[s]`: items done with stage s - 1, waiting for stage s; the last one waits for the consumer. */
  readonly #waiting: Waiting[];
  /** Runs admitted and not settled. */
  readonly #tasks = new Set<Task>();
  /** Index of the next result to yield, in input order. */
  #head = 0;
  #failure: { error: unknown } | undefined;
  /** The consumer left: nothing more starts, nothing is reported. */
  #closed = false;
  /** Wakes the consumer's one wait. */
  #wake: (() => void) | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.#fail(new AbortError(reasonOf(this.#signal!)));
  #unenroll: () => void = () => {};

  constructor(submitter: RunSubmitter, source: ItemSource, settings: PipelineSettings) {
    this.#submitter = submitter;
    this.#source = source;
    this.#stages = settings.stages;
    this.#ordered = settings.ordered;
    this.#waiting = settings.stages.map(() => new Waiting());
    this.#waiting.push(new Waiting());
    this.#signal = settings.signal;
    this.#unenroll = submitter.enroll((error) => this.#fail(error), false);
    if (this.#signal !== undefined) {
      if (isAborted(this.#signal)) this.#onAbort();
      else onAbort(this.#signal, this.#onAbort);
    }
  }

  async *results(): AsyncGenerator<unknown> {
    const output = this.#waiting[this.#stages.length]!;
    try {
      for (;;) {
        this.#pump();
        if (this.#failure !== undefined) throw this.#failure.error;
        const next = output.peek();
        if (next !== undefined && (!this.#ordered || next.index === this.#head)) {
          output.pop();
          this.#head++;
          // Room at the last stage: the pipeline moves on while the consumer handles this result.
          this.#pump();
          yield next.value;
          continue;
        }
        if (this.#finished()) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    } finally {
      await this.#close();
    }
  }

  #finished(): boolean {
    if (!this.#source.done || this.#source.reading || this.#tasks.size > 0) return false;
    for (const waiting of this.#waiting) if (waiting.size > 0) return false;
    return true;
  }

  /** Whether stage `s` may start the item `index` now. */
  #room(stage: Stage, index: number): boolean {
    if (stage.running >= stage.concurrency) return false;
    const held = stage.running + this.#waiting[stage.index + 1]!.size;
    return held < stage.limit || (this.#ordered && index === this.#head);
  }

  #pump(): void {
    const stages = this.#stages;
    // Downstream first: each start there makes room upstream.
    for (let s = stages.length - 1; s >= 1; s--) {
      const stage = stages[s]!;
      const waiting = this.#waiting[s]!;
      while (this.#failure === undefined && !this.#closed && waiting.size > 0 && this.#room(stage, waiting.peek()!.index)) {
        this.#start(stage, waiting.pop()!);
      }
    }
    const first = stages[0]!;
    const source = this.#source;
    while (this.#failure === undefined && !this.#closed && !source.done && !source.reading && this.#room(first, source.read)) {
      const index = source.read;
      let value: unknown;
      try {
        value = source.next();
      } catch (error) {
        return this.#fail(error);
      }
      if (source.reading) {
        (value as Promise<unknown>).then(
          (answer: unknown) => {
            if (this.#failure !== undefined || this.#closed) return;
            if (answer !== END) this.#start(first, { index, value: answer });
            this.#moved();
          },
          (error: unknown) => this.#fail(error),
        );
        return;
      }
      if (value === END) return;
      this.#start(first, { index, value });
    }
  }

  #start(stage: Stage, item: Item): void {
    let input = item.value;
    if (stage.input !== undefined) {
      try {
        input = stage.input(item.value, item.index);
      } catch (cause) {
        return this.#fail(new PipelineStageError(item.index, stage.index, stage.task, cause));
      }
    }
    const failed = (error: unknown): void => this.#fail(new PipelineStageError(item.index, stage.index, stage.task, error));
    const task = this.#submitter.submit(stage.task, input, stage.run, false, failed);
    if (task instanceof Error) return failed(task);
    stage.running++;
    this.#tasks.add(task);
    task.promise.then(
      (value) => {
        stage.running--;
        this.#tasks.delete(task);
        item.value = value;
        this.#waiting[stage.index + 1]!.push(item);
        this.#moved();
      },
      (error: unknown) => {
        stage.running--;
        this.#tasks.delete(task);
        // Heard already inside the settle (`failed`), unless it was dropped after the pipeline stopped.
        failed(error);
        this.#moved();
      },
    );
  }

  /** Something moved: more may start, and the consumer may have a result. */
  #moved(): void {
    if (this.#closed) return;
    this.#pump();
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #fail(error: unknown): void {
    if (this.#failure !== undefined || this.#closed) return;
    this.#failure = { error };
    this.#dropUnstarted();
    this.#wakeUp();
  }

  #dropUnstarted(): void {
    for (const task of [...this.#tasks]) this.#submitter.cancel(task);
  }

  /** The iteration ended (done, failed, or left): drop what has not started, wait for the rest. */
  async #close(): Promise<void> {
    this.#closed = true;
    this.#dropUnstarted();
    this.#unenroll();
    if (this.#signal !== undefined) offAbort(this.#signal, this.#onAbort);
    // Every run this pipeline started has settled before its iteration ends.
    await Promise.allSettled([...this.#tasks].map((task) => task.promise));
    await this.#source.close();
  }
}
