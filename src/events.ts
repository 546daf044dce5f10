/**
 * What the pool tells listeners about its tasks and threads: a typed `EventEmitter` (`pool.events`)
 * and `node:diagnostics_channel` channels that tracers (OpenTelemetry and the like) subscribe to
 * without tessera depending on them.
 *
 * Nothing here costs anything while nobody listens: the pool asks {@link PoolEvents.watching} and
 * `hasSubscribers` before building any event.
 */
import diagnostics from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';

/** How a task ended, as counted per task name. */
export type TaskOutcome = 'completed' | 'failed' | 'aborted' | 'timedOut';

/**
 * Why a thread exited: `idle` (reaped after `idleTimeout`), `retire` (recycled by `maxTasksPerThread`
 * or `maxHeapPerThreadMb`), `crash` (it died: an uncaught error, out of memory, `process.exit`),
 * `cancel` (terminated because the task it ran was aborted or timed out), `close` (the pool stopped).
 */
export type ThreadExitReason = 'idle' | 'retire' | 'crash' | 'cancel' | 'close';

/** A task left for a thread. */
export interface TaskDispatchEvent {
  /** Task name. */
  readonly name: string;
  /** Milliseconds it waited since it was admitted (or, for a retry, since its backoff ended). */
  readonly waitMs: number;
  /** The run's attempt, from 1 (only runs with a retry policy have more). */
  readonly attempt: number;
}

/** A task settled: it will not run again. */
export interface TaskSettleEvent {
  readonly name: string;
  readonly outcome: TaskOutcome;
  /** Milliseconds from admission to the dispatch of its last attempt; undefined if it never left the queue. */
  readonly waitMs: number | undefined;
  /** Milliseconds from the dispatch of its last attempt to its settle; undefined if it settled off a thread. */
  readonly runMs: number | undefined;
  /** What the caller's promise rejected with (undefined when it resolved). */
  readonly error: unknown;
}

/** An attempt failed and the run waits `delayMs` to run again. */
export interface TaskRetryEvent {
  readonly name: string;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}

/** A thread started and loaded its bootstrap. */
export interface ThreadStartEvent {
  readonly threadId: number;
}

/** A thread exited. */
export interface ThreadExitEvent {
  readonly threadId: number;
  readonly reason: ThreadExitReason;
  /** From the Worker's own `exit` event. */
  readonly exitCode: number;
}

/** A thread reached `maxTasksPerThread` or `maxHeapPerThreadMb` and retires; its `threadExit` (reason `retire`) follows. */
export interface ThreadRecycleEvent {
  readonly threadId: number;
}

/** `pool.events`' events and what their listeners get. */
export interface PoolEventMap {
  taskDispatch: [TaskDispatchEvent];
  taskSettle: [TaskSettleEvent];
  taskRetry: [TaskRetryEvent];
  threadStart: [ThreadStartEvent];
  threadExit: [ThreadExitEvent];
  threadRecycle: [ThreadRecycleEvent];
}

/**
 * The pool's typed emitter. A listener that throws, or an async one that rejects, does not reach the
 * pool's run or its neighbours: the pool reports it as a `TesseraWarning` and goes on.
 */
export class PoolEvents extends EventEmitter<PoolEventMap> {
  constructor() {
    // A rejection of an async listener's promise comes to [nodejs.rejection] below, not to the host.
    super({ captureRejections: true });
  }

  /**
   * Some listener of a task event is attached: the ledger builds task events only then. Asked of the
   * emitter each time, not kept from 'newListener'/'removeListener' events: `removeAllListeners()`
   * would remove the listeners that keep it, and the pool would stop telling listeners added later.
   */
  get watching(): boolean {
    return this.listenerCount('taskSettle') + this.listenerCount('taskDispatch') + this.listenerCount('taskRetry') > 0;
  }

  /** Emits without letting a listener's throw escape into the pool. */
  tell<K extends keyof PoolEventMap>(event: K, ...args: PoolEventMap[K]): void {
    try {
      (this.emit as (event: K, ...args: PoolEventMap[K]) => boolean)(event, ...args);
    } catch (error) {
      warnListener(event, error, 'threw');
    }
  }

  /** Where `captureRejections` sends an async listener's rejection (else an 'error' event, unheard: a crash). */
  [Symbol.for('nodejs.rejection')](error: unknown, event: string | symbol): void {
    warnListener(event, error, 'rejected');
  }
}

function warnListener(event: string | symbol, error: unknown, how: string): void {
  let shown: string;
  try {
    shown = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } catch {
    shown = 'a value that cannot be shown';
  }
  process.emitWarning(`A \`${String(event)}\` listener of pool.events ${how} (${shown}); the pool went on.`, 'TesseraWarning');
}

/**
 * The channels, by name. `run` is a TracingChannel: `tracing:tessera-pool:run:start`, `:end`,
 * `:asyncStart`, `:asyncEnd` and `:error`, all with the same context object per run.
 */
export const channelNames = Object.freeze({
  run: 'tessera-pool:run',
  dispatch: 'tessera-pool:run:dispatch',
  threadStart: 'tessera-pool:thread:start',
  threadExit: 'tessera-pool:thread:exit',
  threadRecycle: 'tessera-pool:thread:recycle',
});

/**
 * The context a run's tracing channel publishes: one object from `start` to `asyncEnd`, so a
 * tracer can hang its span on it. Counted tasks only: a run, a keyed execution, a map's chunk.
 */
export interface RunTraceContext {
  /** The pool (tell several apart by identity). */
  readonly pool: object;
  readonly name: string;
  readonly priority: number;
  /** The task is a chunk of `pool.map` (its input is an array of items). */
  readonly chunk: boolean;
  /** Set on `:error`: what the caller's promise rejected with. */
  error?: unknown;
  /** Set before `:asyncStart` when it resolved. */
  result?: unknown;
  /** Set on `tessera-pool:run:dispatch`: ms it waited in the queue for this attempt. */
  waitMs?: number;
}

export const runChannel = diagnostics.tracingChannel<unknown, RunTraceContext>(channelNames.run);
export const dispatchChannel = diagnostics.channel(channelNames.dispatch);
export const threadStartChannel = diagnostics.channel(channelNames.threadStart);
export const threadExitChannel = diagnostics.channel(channelNames.threadExit);
export const threadRecycleChannel = diagnostics.channel(channelNames.threadRecycle);

/**
 * A tracer listens on the run's channel: it subscribes `start` (where a span begins) or `asyncEnd`
 * (where it ends). Two getters per admission; `TracingChannel#hasSubscribers` is missing before Node 20.13.
 */
export function tracingRuns(): boolean {
  return runChannel.start.hasSubscribers || runChannel.asyncEnd.hasSubscribers;
}
