/**
 * The producer: typed jobs onto a BullMQ queue, named and shaped by the task module (`add` and
 * `run` are typed from `typeof tasks` as `pool.run` is), with tessera's options mapped to BullMQ's
 * (options-mapping.ts). A job's name is the task's name and its data the task's input, so a
 * BullMQ dashboard shows what it runs, and jobs from any BullMQ producer reach a tessera consumer.
 */
import type { ConnectionOptions, Queue, QueueEvents } from 'bullmq';
import { AbortError, PoolClosedError, UnsupportedOptionError } from '../errors.ts';
import { checkFlow, startFlow, type Flow, type FlowArgs, type FlowReport, type FlowRunner } from '../flow.ts';
import type { AnyTaskModule, TaskInput, TaskName, TaskResult } from '../types.ts';
import { awaitOutcome, removeIfNotStarted, type PendingOutcome } from './job-outcome.ts';
import { checkJsonData } from './json-data.ts';
import { mapJobOptions, type JobOptions, type RunJobOptions } from './options-mapping.ts';
import { bullmq } from './peers.ts';

/** Options of {@link createQueue}. */
export interface CreateQueueOptions {
  /** The BullMQ queue's name (no `:`). */
  name: string;
  /** BullMQ's connection: `{ host, port, … }` (ioredis options) or an ioredis instance. */
  connection: ConnectionOptions;
  /** BullMQ's key prefix. @default 'bull' */
  prefix?: string;
}

/** When a scheduled job runs: a cron pattern (with an optional IANA time zone), or every `every` ms. */
export type Schedule = { cron: string; tz?: string } | { every: number };

/** A BullMQ queue of the tasks of module `M`. */
export class DistributedQueue<M extends object = AnyTaskModule> implements AsyncDisposable {
  /** The BullMQ Queue (counts, job lookups, pause, clean, …). */
  readonly queue: Queue;
  readonly #settings: CreateQueueOptions;
  #events: Promise<QueueEvents> | undefined;
  /** The QueueEvents itself, once made: `close()` closes it even while it is still connecting. */
  #eventsReader: QueueEvents | undefined;
  #eventsReady = false;
  /** How to stop each `run` in flight, from its first await to its outcome: `close()` stops them all. */
  readonly #runs = new Set<(error: Error) => void>();
  #closed = false;

  /** @internal Use {@link createQueue}. */
  constructor(options: CreateQueueOptions) {
    this.#settings = { name: options.name, connection: options.connection, ...(options.prefix !== undefined && { prefix: options.prefix }) };
    this.queue = new bullmq.Queue(this.#settings.name, { connection: this.#settings.connection, ...(this.#settings.prefix !== undefined && { prefix: this.#settings.prefix }) });
  }

  /**
   * Adds a job running task `name` with `input`; resolves with its job id once Redis has it. With
   * `key`, a job already waiting or running under that key is not added again: its id comes back.
   */
  async add<K extends TaskName<M>>(name: K, input: TaskInput<M, K>, options?: JobOptions): Promise<string> {
    const { opts } = mapJobOptions(name, options, 'add');
    return this.#add(name, input, opts);
  }

  async #add(name: string, input: unknown, opts: ReturnType<typeof mapJobOptions>['opts']): Promise<string> {
    if (this.#closed) throw new PoolClosedError();
    checkJsonData('input', input);
    const job = await this.queue.add(name, input, opts);
    return job.id!;
  }

  /**
   * Adds a job and waits for its outcome: resolves with the task's result, or rejects with
   * `JobFailedError` once its attempts are spent, `AbortError` when `signal` aborts.
   */
  async run<K extends TaskName<M>>(name: K, input: TaskInput<M, K>, options?: RunJobOptions): Promise<TaskResult<M, K>> {
    const mapped = mapJobOptions(name, options, 'run');
    // A closed queue answers at once, without opening (or waiting for) a connection again.
    if (this.#closed) throw new PoolClosedError();
    checkJsonData('input', input);
    const { signal } = mapped;
    if (signal?.aborted) throw new AbortError(signal.reason);
    // Every await below races `stopped`: an abort or `close()` settles the run whichever it is in
    // (connecting, adding, waiting), even while Redis does not answer.
    let stop!: (error: Error) => void;
    const stopped = new Promise<never>((_, reject) => (stop = reject));
    let jobId: string | undefined;
    const onAbort = (): void => {
      stop(new AbortError(signal!.reason));
      if (jobId !== undefined) void removeIfNotStarted(this.queue, jobId);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#runs.add(stop);
    let wait: PendingOutcome | undefined;
    try {
      // Listening before the job exists: its events cannot come before the reader.
      const events = await Promise.race([this.events(), stopped]);
      // Stopped while `events()` settled too (a ready reader wins the race): add nothing.
      if (signal?.aborted) throw new AbortError(signal.reason);
      if (this.#closed) throw new PoolClosedError();
      const adding = this.queue.add(name, input, mapped.opts).then((job) => job.id!);
      // Aborted while Redis stored the job: it is removed once it has an id. (After `close()` it goes on, as jobs already added do.)
      adding.then((id) => {
        jobId = id;
        if (signal?.aborted) void removeIfNotStarted(this.queue, id);
      }, () => undefined);
      const id = await Promise.race([adding, stopped]);
      wait = awaitOutcome({ queue: this.queue, events, jobId: id, onProgress: mapped.onProgress, checkInterval: mapped.checkInterval, checkNow: mapped.opts.jobId !== undefined });
      return (await Promise.race([wait.promise, stopped])) as TaskResult<M, K>;
    } finally {
      wait?.end();
      signal?.removeEventListener('abort', onAbort);
      this.#runs.delete(stop);
    }
  }

  /**
   * Runs `flow` (the same `defineFlow` flow as `pool.flow`) with each node a job: a node's job is
   * added once its parents' jobs completed (their return values stored in Redis and read back),
   * through `run`, so with its node options mapped as `run` maps them. Every node's options are
   * mapped before any job is added: one BullMQ cannot honour rejects the flow with
   * `UnsupportedOptionError` and nothing reaches Redis. The orchestration lives in this process:
   * if it dies mid-flow, completed jobs stay completed and the rest is never added (README,
   * "Flows across machines"). `signal` and `timeout` stop adding jobs; a node's job no consumer took
   * yet is removed, one already running goes on.
   */
  flow<I, R extends object, O extends string>(flow: Flow<M, I, R, O>, ...args: FlowArgs<I>): Promise<FlowReport<R, O>> {
    return this.#flow(flow, args[0], args[1]) as Promise<FlowReport<R, O>>;
  }

  async #flow(flow: unknown, input: unknown, options: unknown): Promise<FlowReport> {
    const { nodes, settings } = checkFlow(flow, options, 'queue.flow');
    for (const def of nodes.values()) mapJobOptions(def.task, def.run, 'run');
    if (this.#closed) throw new PoolClosedError();
    const runner: FlowRunner = {
      // The module is on the consumers: a task name no consumer knows fails its node's job.
      ready: async () => undefined,
      // Mapped above already: a function backoff (the cast's difference) was refused there.
      run: (task, nodeInput, runOptions) => this.run(task as TaskName<M>, nodeInput as TaskInput<M, TaskName<M>>, runOptions as RunJobOptions | undefined),
    };
    return startFlow(runner, nodes, input, settings);
  }

  /** Adds (or replaces) a job scheduler `id`: task `name` with `input`, on `when` (BullMQ job schedulers). */
  async schedule<K extends TaskName<M>>(id: string, when: Schedule, name: K, input: TaskInput<M, K>, options?: JobOptions): Promise<void> {
    const { opts } = mapJobOptions(name, options, 'add');
    if (opts.jobId !== undefined || opts.deduplication !== undefined) {
      throw new UnsupportedOptionError('key', 'a scheduler makes one job per run, with an id of its own; leave `key` out.');
    }
    if (opts.delay !== undefined) {
      throw new UnsupportedOptionError('delay', 'a scheduler starts each job when `when` says; leave `delay` out.');
    }
    checkJsonData('input', input);
    const repeat = 'cron' in when ? { pattern: when.cron, ...(when.tz !== undefined && { tz: when.tz }) } : { every: when.every };
    await this.queue.upsertJobScheduler(id, repeat, { name, data: input, opts });
  }

  /** Removes job scheduler `id`; resolves with whether there was one. */
  unschedule(id: string): Promise<boolean> {
    return this.queue.removeJobScheduler(id);
  }

  /** The QueueEvents that `run` listens on, created on first use and ready (listening) when it resolves. */
  events(): Promise<QueueEvents> {
    // A closed queue opens no connection again: it would never be closed.
    if (this.#closed) return Promise.reject(new PoolClosedError());
    this.#events ??= (async () => {
      const events = new bullmq.QueueEvents(this.#settings.name, { connection: this.#settings.connection, ...(this.#settings.prefix !== undefined && { prefix: this.#settings.prefix }) });
      this.#eventsReader = events;
      // Errors here are connection errors; each wait reads the job's state until Redis answers again.
      events.on('error', () => {});
      await events.waitUntilReady();
      this.#eventsReady = true;
      return events;
    })();
    return this.#events;
  }

  /**
   * Closes the connections. Runs still waiting reject with `PoolClosedError` (their jobs go on in
   * Redis); later `add` and `run` reject with it too.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const stop of this.#runs) stop(new PoolClosedError());
    // The reader itself, not `#events`: that never resolves while Redis is unreachable (and may reject once its reader is closed).
    this.#events?.catch(() => undefined);
    const reader = this.#eventsReader;
    // A reader that never connected: QueueEvents' close first awaits its connection, for ever while
    // Redis is unreachable; dropping the connection is all there is to close.
    const closing = this.#eventsReady ? reader?.close() : reader?.backend.close(true);
    await Promise.all([this.queue.close(), closing]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A typed producer of jobs on BullMQ queue `name`: `createQueue<typeof tasks>({ name, connection })`. */
export function createQueue<M extends object = AnyTaskModule>(options: CreateQueueOptions): DistributedQueue<M> {
  return new DistributedQueue<M>(options);
}
