/**
 * Partitioned runs: a run of a task that has a {@link Partitioner} is admitted as one unit (one queue
 * place, one priority), and when it reaches the front of the queue its input is split into one part
 * per free slot. The parts run as tasks with the run's priority, signal and timeout, ahead of anything
 * still queued, and their results merge into the run's result.
 *
 * `merge` receives what `split` produced, so a partitioner keeps no state between the two.
 */
import { isArray } from './contain.ts';
import { InvalidOptionTypeError, PartitionError } from './errors.ts';
import { TaskState, Task, type Ledger } from './task.ts';
import type { TaskInput, TaskName, TaskResult } from './types.ts';
import { describeValue } from './worker/wire-error.ts';

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
  const problem = (name: string, value: unknown): InvalidOptionTypeError =>
    new InvalidOptionTypeError(
      `Expected \`partitions.${name}\` to be { split(input, parts), merge(results, input, parts), task? }, got \`${describeValue(value)}\` (${typeof value})`,
    );
  if (typeof partitions !== 'object' || partitions === null) {
    throw new InvalidOptionTypeError(
      `Expected \`partitions\` to be an object of partitioners by task name, got \`${describeValue(partitions)}\` (${typeof partitions})`,
    );
  }
  const map = new Map<string, Partitioner>();
  let entries: Array<[string, unknown]>;
  try {
    entries = Object.entries(partitions);
  } catch (cause) {
    throw new InvalidOptionTypeError('Expected `partitions` to be a plain object, but reading it threw.', { cause });
  }
  for (const [name, value] of entries) {
    // Read once and kept: the pool calls what was checked, not what a getter answers later.
    let split: unknown, merge: unknown, task: unknown;
    try {
      ({ split, merge, task } = value as Partitioner);
    } catch {
      throw problem(name, value);
    }
    if (typeof split !== 'function' || typeof merge !== 'function' || (task !== undefined && typeof task !== 'string')) throw problem(name, value);
    const partitioner: Partitioner = {
      split: split.bind(value) as Partitioner['split'],
      merge: merge.bind(value) as Partitioner['merge'],
    };
    if (task !== undefined) partitioner.task = task as string;
    map.set(name, partitioner);
  }
  return map.size > 0 ? map : undefined;
}

/**
 * A copy of the part inputs `split` returned, read once through guarded reads. What `split` throws
 * reaches the caller as it is; what its answer does when the pool reads it (a revoked Proxy, a length
 * that is no count or more than asked, a getter that throws) is the partitioner's broken contract:
 * `PartitionError`.
 */
function readParts(name: string, split: unknown, asked: number): unknown[] {
  if (!isArray(split)) throw new PartitionError(name, `split returned ${describeValue(split)} instead of an array of part inputs`);
  const array = split as readonly unknown[];
  let length: unknown;
  try {
    length = array.length;
  } catch (cause) {
    throw new PartitionError(name, `split returned an array whose length cannot be read (${describeValue(cause)})`);
  }
  // Checked before anything is allocated or read: a Proxy may claim a billion parts.
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) {
    throw new PartitionError(name, `split returned an array whose length is not a count (${describeValue(length)})`);
  }
  if (length > asked) throw new PartitionError(name, `split returned ${length} parts when asked for at most ${asked}`);
  const inputs = new Array<unknown>(length);
  for (let i = 0; i < length; i++) {
    try {
      inputs[i] = array[i];
    } catch (cause) {
      throw new PartitionError(name, `split returned an array whose part ${i} cannot be read (${describeValue(cause)})`);
    }
  }
  return inputs;
}

/** What a fan-out asks of the pool. */
export interface FanOutHost {
  /** Stops a part that is on a thread (its run failed or was aborted). */
  cancel(part: Task, reason: unknown): void;
}

/** Splits partitioned runs into parts, holds the parts waiting for a slot, and merges their results. */
export class FanOut {
  readonly #partitioners: ReadonlyMap<string, Partitioner>;
  readonly #ledger: Ledger;
  readonly #host: FanOutHost;
  /** Parts waiting for a slot, oldest first; they go before anything queued. */
  readonly #backlog: Task[] = [];
  /** Partitioned runs whose parts are out, with their parts. */
  readonly #active = new Map<Task, readonly Task[]>();

  constructor(partitioners: ReadonlyMap<string, Partitioner>, ledger: Ledger, host: FanOutHost) {
    this.#partitioners = partitioners;
    this.#ledger = ledger;
    this.#host = host;
  }

  /** Is `name` a partitioned task? */
  has(name: string): boolean {
    return this.#partitioners.has(name);
  }

  /** Parts waiting for a slot. */
  get waiting(): number {
    return this.#backlog.length;
  }

  /** The next part to send, skipping parts whose run has settled. */
  take(): Task | undefined {
    for (;;) {
      const part = this.#backlog.shift();
      if (part === undefined || part.state === TaskState.Queued) return part;
    }
  }

  /** Puts back parts whose thread died before they started; they keep their place at the front. */
  restore(parts: Task[]): void {
    this.#backlog.unshift(...parts);
  }

  /** Fans `run` out into at most `free` parts (at least one). */
  expand(run: Task, free: number): void {
    const ledger = this.#ledger;
    const partitioner = this.#partitioners.get(run.name)!;
    const asked = Math.max(1, free);
    let inputs: unknown[];
    try {
      inputs = readParts(run.name, partitioner.split(run.input, asked), asked);
    } catch (error) {
      ledger.settle(run, false, error);
      return;
    }
    ledger.dispatch(run, undefined);
    const name = partitioner.task ?? run.name;
    const parts = inputs.map(
      (input) => new Task({ name, input, priority: run.priority, signal: run.signal, timeout: run.timeout, part: true }),
    );
    const results = new Array<unknown>(parts.length);
    let left = parts.length;
    const merge = (): void => {
      let value: unknown;
      try {
        value = partitioner.merge(results, run.input, inputs);
      } catch (error) {
        ledger.settle(run, false, error);
        return;
      }
      ledger.settle(run, true, value);
    };
    if (left === 0) return merge();
    this.#active.set(run, parts);
    // However the run settles (a part failed, its signal aborted, its timeout, destroy), its parts go.
    const drop = (): void => this.#drop(run);
    run.promise.then(drop, drop);
    parts.forEach((part, i) => {
      part.promise.then(
        (value) => {
          results[i] = value;
          if (--left === 0) merge();
        },
        (error: unknown) => ledger.settle(run, false, error),
      );
    });
    this.#backlog.push(...parts);
  }

  /** Settles the parts of a settled run: those waiting are dropped, those on threads are stopped. */
  #drop(run: Task): void {
    const parts = this.#active.get(run);
    if (parts === undefined) return;
    this.#active.delete(run);
    const reason = new PartitionError(run.name, 'had its run settle first (a part failed, or the run was aborted, timed out or destroyed)');
    for (const part of parts) {
      if (part.state === TaskState.Dispatched) this.#host.cancel(part, reason);
      // Parts are not counted in the stats and nobody awaits them but this file.
      this.#ledger.settle(part, false, reason);
    }
    if (this.#backlog.length > 0) this.#removeSettled();
  }

  #removeSettled(): void {
    let kept = 0;
    for (const part of this.#backlog) if (part.state === TaskState.Queued) this.#backlog[kept++] = part;
    this.#backlog.length = kept;
  }

  /** Runs whose parts are out and parts waiting: what destroy must settle. */
  *pending(): Iterable<Task> {
    yield* this.#active.keys();
    yield* this.#backlog;
  }
}
