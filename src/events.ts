/**
 * What the pool tells listeners about its tasks and threads: a typed `EventEmitter` (`pool.events`)
 * and `node:diagnostics_channel` channels that tracers (OpenTelemetry and the like) subscribe to
 * without tessera depending on them.
 *
 * Nothing here costs anything while nobody listens: the pool asks {@link PoolEvents.watching} (a
 * field kept up to date as listeners come and go) and `hasSubscribers` before building any event.
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

const TASK_EVENTS: ReadonlySet<string | symbol> = new Set(['taskDispatch', 'taskSettle', 'taskRetry']);

/**
 * The pool's typed emitter. A listener that throws does not reach the pool's run or its neighbours:
 * the pool reports it as a `TesseraWarning` and goes on.
 */
export class PoolEvents extends EventEmitter<PoolEventMap> {
  /** Some listener of a task event is attached: the ledger builds task events only then. */
  watching = false;

  constructor() {
    super();
    // 'removeListener' fires after the removal, 'newListener' before the addition: count then.
    const recount = (event: string | symbol, added: number): void => {
      if (!TASK_EVENTS.has(event)) return;
      this.watching = this.listenerCount('taskDispatch') + this.listenerCount('taskSettle') + this.listenerCount('taskRetry') + added > 0;
    };
    this.on('newListener' as keyof PoolEventMap, ((event: string | symbol) => recount(event, 1)) as never);
    this.on('removeListener' as keyof PoolEventMap, ((event: string | symbol) => recount(event, 0)) as never);
  }

  /** Emits without letting a listener's throw escape into the pool. */
  tell<K extends keyof PoolEventMap>(event: K, ...args: PoolEventMap[K]): void {
    try {
      (this.emit as (event: K, ...args: PoolEventMap[K]) => boolean)(event, ...args);
    } catch (error) {
      let shown: string;
      try {
        shown = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      } catch {
        shown = 'a value that cannot be shown';
      }
      process.emitWarning(`A \`${event}\` listener of pool.events threw (${shown}); the pool went on.`, 'TesseraWarning');
    }
  }
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
