/**
 * Delayed runs (the `delay` and `runAt` run options): accepted and counted at `run()`, then held here,
 * outside the queue, until they are due. A held run has no thread and no queue place; when it comes
 * due the pool admits it as if it had just been submitted (queue, `maxQueue`, ordering key, rate
 * limits). Every held run of a pool waits on the pool's one {@link DueTimers}.
 */
import type { Deadline, DueTimers } from './due-timers.ts';
import type { Task } from './task.ts';

export class DelayedRuns {
  readonly #timers: DueTimers;
  readonly #held = new Map<Task, Deadline>();
  readonly #due: (task: Task) => void;

  /** @param due called once for each held run when it comes due (never for one removed or drained before). */
  constructor(timers: DueTimers, due: (task: Task) => void) {
    this.#timers = timers;
    this.#due = due;
  }

  /** Runs held, not yet due. */
  get size(): number {
    return this.#held.size;
  }

  /** Holds `task` until the clock reaches `due` (epoch ms). */
  hold(task: Task, due: number): void {
    this.#held.set(
      task,
      this.#timers.add(due, () => {
        this.#held.delete(task);
        this.#due(task);
      }),
    );
  }

  /** Lets go of a held run (its signal aborted); false when it is not held here. */
  remove(task: Task): boolean {
    const deadline = this.#held.get(task);
    if (deadline === undefined) return false;
    this.#held.delete(task);
    this.#timers.cancel(deadline);
    return true;
  }

  /** Lets go of every held run and returns them (close and destroy reject them). */
  drain(): Task[] {
    const tasks = [...this.#held.keys()];
    for (const deadline of this.#held.values()) this.#timers.cancel(deadline);
    this.#held.clear();
    return tasks;
  }
}
