/**
 * Ordering keys (the `orderingKey` run option): runs with one key run one at a time, in the order they
 * were accepted; runs with different keys run in parallel.
 *
 * Each key has a line: its head is an ordinary task on the pool's one path (queue, rate limits,
 * dispatch, retries); the runs behind it wait here, in FIFO order, with no place in the heap. The
 * next one goes to the queue only once the head has *settled*: its last attempt is over (a head
 * waiting to retry is still the head), or it was aborted, timed out or rejected. That is what "one at
 * a time" means across retries. Priority orders a key's head among other runs in the queue, never the
 * runs of one key among themselves.
 *
 * A run waiting in a line is accepted and queued work: it keeps a queue place (`maxQueue`), counts in
 * `stats().queued`, aborts at once, and close() waits for it; destroy() rejects it.
 *
 * The head's settle is heard in {@link OrderedTask.finish}, which the ledger calls exactly once, inside
 * its settle; the next run goes on a microtask later, outside whatever settled the head (the executor's
 * reply handling, destroy()'s loops), and counts as held until then, so the pool is never idle between.
 * A head stopped on its thread (aborted, timed out) is rejected at once, but its code may run on for up
 * to `abortGrace` ms: the next run of its key waits until the thread has let go of it (its batch's slot
 * is free, {@link OrderingLines.recheck}), so two runs of one key never run at once even then.
 */
import { Task, type TaskSpec } from './task.ts';

/** A run with an ordering key: settling it (through the ledger, as any task) lets the next of its key go. */
export class OrderedTask extends Task {
  readonly orderingKey: string;
  readonly #lines: OrderingLines;

  constructor(spec: TaskSpec, orderingKey: string, lines: OrderingLines) {
    super(spec);
    this.orderingKey = orderingKey;
    this.#lines = lines;
  }

  override finish(ok: boolean, value: unknown): void {
    super.finish(ok, value);
    this.#lines.settled(this);
  }
}

/** One key's line: the run that goes (queued, running or waiting to retry), then the runs behind it. */
interface Line {
  head: OrderedTask;
  /** In acceptance order (a Set keeps insertion order and removes an aborted run in O(1)). */
  readonly waiting: Set<OrderedTask>;
}

/** A run whose turn came, and the run of its key before it. */
interface Turn {
  readonly task: OrderedTask;
  readonly after: OrderedTask;
}

export class OrderingLines {
  readonly #lines = new Map<string, Line>();
  /** Runs whose turn came, on their way to the queue at the next microtask. */
  #going: Turn[] = [];
  /** Runs whose turn came while the run before them, stopped, may still run on its thread. */
  #stopping: Turn[] = [];
  /** Runs held here: waiting behind their key's head, or whose turn came and that are not queued yet. */
  held = 0;
  readonly #release: (task: Task) => void;

  /** @param release sends a run whose turn came to the queue (it holds its queue place already). */
  constructor(release: (task: Task) => void) {
    this.#release = release;
  }

  /** Makes a task for `spec` in the line of `orderingKey`. */
  task(spec: TaskSpec, orderingKey: string): OrderedTask {
    return new OrderedTask(spec, orderingKey, this);
  }

  /** Whether a run of `orderingKey` accepted now would wait behind another. */
  busy(orderingKey: string): boolean {
    return this.#lines.has(orderingKey);
  }

  /** Takes an accepted run's turn: true when it waits behind its key's head (held here), false when it goes now. */
  hold(task: OrderedTask): boolean {
    const line = this.#lines.get(task.orderingKey);
    if (line === undefined) {
      this.#lines.set(task.orderingKey, { head: task, waiting: new Set() });
      return false;
    }
    line.waiting.add(task);
    this.held++;
    return true;
  }

  /** Lets go of a held run (its signal aborted); false when it is not held here (it is its key's head). */
  remove(task: Task): boolean {
    if (!(task instanceof OrderedTask)) return false;
    const line = this.#lines.get(task.orderingKey);
    if (line !== undefined && line.waiting.delete(task)) {
      this.held--;
      return true;
    }
    // Its turn came (it is its key's head: its settle lets the next one go).
    for (const turns of [this.#going, this.#stopping]) {
      const index = turns.findIndex((turn) => turn.task === task);
      if (index < 0) continue;
      turns.splice(index, 1);
      this.held--;
      return true;
    }
    return false;
  }

  /** For {@link OrderedTask} alone, from the ledger's settle: the head's turn is over, the next one goes. */
  settled(task: OrderedTask): void {
    const line = this.#lines.get(task.orderingKey);
    if (line === undefined || line.head !== task) return;
    const next = line.waiting.values().next();
    if (next.done === true) {
      this.#lines.delete(task.orderingKey);
      return;
    }
    line.waiting.delete(next.value);
    line.head = next.value;
    if (this.#going.push({ task: next.value, after: task }) === 1) queueMicrotask(() => this.#go());
  }

  #go(): void {
    const going = this.#going;
    this.#going = [];
    for (const turn of going) {
      // By now the pool has cancelled a stopped run's batch (it settles the run first, then cancels).
      if (stillRunning(turn.after)) this.#stopping.push(turn);
      else this.#send(turn.task);
    }
  }

  /** A thread's slot came free: the runs that waited for their stopped predecessor's thread go on. */
  recheck(): void {
    if (this.#stopping.length === 0) return;
    const stopping = this.#stopping;
    this.#stopping = [];
    for (const turn of stopping) {
      if (stillRunning(turn.after)) this.#stopping.push(turn);
      else this.#send(turn.task);
    }
  }

  #send(task: OrderedTask): void {
    this.held--;
    this.#release(task);
  }

  /** Lets go of every held run and returns them (destroy, or a module that failed to load, rejects them). */
  drain(): Task[] {
    const tasks: Task[] = [...this.#going, ...this.#stopping].map((turn) => turn.task);
    this.#going = [];
    this.#stopping = [];
    for (const line of this.#lines.values()) {
      for (const task of line.waiting) tasks.push(task);
      line.waiting.clear();
    }
    this.held = 0;
    return tasks;
  }

  /** Adds the held runs to counts by priority (`stats().queuedByPriority`). */
  countByPriority(counts: Map<number, number>): void {
    const add = (task: Task): void => {
      counts.set(task.priority, (counts.get(task.priority) ?? 0) + 1);
    };
    for (const turn of [...this.#going, ...this.#stopping]) add(turn.task);
    for (const line of this.#lines.values()) for (const task of line.waiting) add(task);
  }
}

/** Whether a settled run was stopped on its thread and its code may still run there (within `abortGrace`). */
function stillRunning(task: Task): boolean {
  const batch = task.batch;
  return batch !== undefined && batch.cancelled && !batch.released;
}
