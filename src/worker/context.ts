/** The second argument every task function receives. */
export interface TaskContext {
  /**
   * Aborts when the caller's signal aborts or the task's timeout passes. Async tasks can listen to
   * it and stop early; a task that has not settled `abortGrace` ms later loses its thread.
   */
  readonly signal: AbortSignal;
  /**
   * Reports progress to the caller's `onProgress` (a no-op when the caller passed none). Coalesced:
   * the latest value wins, at most one is posted per 16 ms, and the last one always reaches the
   * caller before the result. The value is copied (structured clone) at the call: one structured
   * clone refuses (a function, a Proxy, a getter that throws) makes this call throw, in the task.
   */
  progress(value: unknown): void;
}
