/** The second argument every task function receives. */
export interface TaskContext {
  /**
   * Aborts when the caller's signal aborts or the task's timeout passes. Async tasks can listen to
   * it and stop early; a task that has not settled `abortGrace` ms later loses its thread.
   */
  readonly signal: AbortSignal;
}
