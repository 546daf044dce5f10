/**
 * Rate limits: at most `limit` runs of a task name, or of the whole pool (the key `'*'`), leave the
 * queue for a thread per `interval` milliseconds.
 *
 * The pool's heap (`queue.ts`) stays the admission queue; this file answers one question on the
 * pump's one dispatch path: which task goes next. That is the heap's top, unless its name is over
 * its limit: such a task is parked here, in a heap of its name, keeping its key (its place in the
 * priority order), and competes with the heap's top again once its name's window has room. One
 * timer per limited name, armed only while tasks of that name are parked, wakes the pump then.
 * Tasks of other names pass a parked one. A parked task is still a queued task for everything else
 * (maxQueue, stats, abort, close, onIdle, destroy): the pool asks this file for them.
 *
 * The window counter is our own, not p-queue's: p-queue keeps its window state private and only
 * spends it by running functions from its own queue, so using it would make that queue a second
 * admission queue beside the heap; and it reads `Date.now()` and global timers, where the tests
 * here drive an injected clock. The README says more.
 */
import type { RateLimitSettings } from './options.ts';
import { POOL_RATE_LIMIT } from './options.ts';
import { PriorityQueue, type QueueEntry } from './queue.ts';
import type { Task } from './task.ts';

/** Where the limiter reads the time and sets its timers. */
export interface RateLimitClock {
  /** Milliseconds, never decreasing. */
  now(): number;
  /** Calls `callback` once, `ms` milliseconds from now; returns a handle for `clearTimer`. */
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
}

const systemClock: RateLimitClock = {
  now: () => performance.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

let clockForNewPools = systemClock;

/**
 * Test hook, not part of the package's API (`src/index.ts` does not export it): the clock of the
 * pools created from now on; `undefined` restores the system's (`performance.now`, `setTimeout`).
 */
export function setRateLimitClock(clock: RateLimitClock | undefined): void {
  clockForNewPools = clock ?? systemClock;
}

/**
 * Counts starts against one limit. Fixed windows: a window opens with the first start after the
 * last one ended and holds `limit` starts. Strict: a sliding window, at most `limit` starts in any
 * `interval` ms, kept as runs of equal start times (a batch is one run), oldest first.
 */
export class RateWindow {
  readonly limit: number;
  readonly interval: number;
  readonly strict: boolean;
  /** Fixed windows: when the current window opened, and the starts in it. */
  #opened = -Infinity;
  #count = 0;
  /** Strict: start times and how many starts each had, live from `#head`; `#active` sums them. */
  readonly #times: number[] = [];
  readonly #counts: number[] = [];
  #head = 0;
  #active = 0;

  constructor(settings: RateLimitSettings) {
    this.limit = settings.limit;
    this.interval = settings.interval;
    this.strict = settings.strict;
  }

  /** Milliseconds until `units` more starts fit: 0 when they fit now. More than `limit` counts as `limit`. */
  wait(now: number, units: number): number {
    const need = Math.min(units, this.limit);
    if (!this.strict) {
      const ends = this.#opened + this.interval;
      return now >= ends || this.#count + need <= this.limit ? 0 : ends - now;
    }
    this.#expire(now);
    let excess = this.#active + need - this.limit;
    if (excess <= 0) return 0;
    // The starts that must age out first; they sum to #active >= excess, so the loop ends.
    for (let i = this.#head; ; i++) {
      excess -= this.#counts[i]!;
      if (excess <= 0) return this.#times[i]! + this.interval - now;
    }
  }

  /** Records `units` starts at `now` (the caller asked `wait` first). */
  take(now: number, units: number): void {
    if (!this.strict) {
      if (now >= this.#opened + this.interval) {
        this.#opened = now;
        this.#count = 0;
      }
      this.#count += units;
      return;
    }
    this.#active += units;
    const last = this.#times.length - 1;
    if (last >= this.#head && this.#times[last] === now) this.#counts[last]! += units;
    else {
      this.#times.push(now);
      this.#counts.push(units);
    }
  }

  #expire(now: number): void {
    const times = this.#times;
    const counts = this.#counts;
    let head = this.#head;
    while (head < times.length && now - times[head]! >= this.interval) this.#active -= counts[head++]!;
    if (head === times.length) {
      times.length = 0;
      counts.length = 0;
      head = 0;
    } else if (head > 1024 && 2 * head > times.length) {
      times.splice(0, head);
      counts.splice(0, head);
      head = 0;
    }
    this.#head = head;
  }
}

/** A parked task in its name's heap: the task's own key and seq, so it keeps its place. */
interface Parked extends QueueEntry {
  readonly task: Task;
}

/** One limit: its window, and for a task name its parked tasks and the timer that wakes the pump. */
class Limit {
  readonly window: RateWindow;
  readonly parked = new PriorityQueue<Parked>(Infinity, 1);
  timer: unknown = undefined;
  /** When the timer fires. */
  due = Infinity;

  constructor(settings: RateLimitSettings) {
    this.window = new RateWindow(settings);
  }
}

/** Runs first in the heap's order. */
function precedes(a: QueueEntry, b: QueueEntry): boolean {
  return a.key < b.key || (a.key === b.key && a.seq < b.seq);
}

/** Starts a task counts for: a map chunk counts its items, anything else (a partitioned run too) one. */
export function unitsOf(task: Task): number {
  return task.offset === undefined ? 1 : (task.input as unknown[]).length;
}

/**
 * Picks the next task for the pump under the pool's rate limits, parks the tasks over their name's
 * limit, and wakes the pump when a window opens. Created only when limits are set.
 */
export class RateLimiter {
  readonly #clock: RateLimitClock;
  readonly #wake: () => void;
  readonly #byName = new Map<string, Limit>();
  readonly #pool: Limit | undefined;
  /** Every parked task, with its entry in its name's heap. */
  readonly #parked = new Map<Task, Parked>();
  /** Names with parked tasks. */
  readonly #waiting = new Set<Limit>();
  #disposed = false;

  /** @param wake runs the pump (a window opened). */
  constructor(limits: ReadonlyMap<string, RateLimitSettings>, wake: () => void) {
    this.#clock = clockForNewPools;
    this.#wake = wake;
    let pool: Limit | undefined;
    for (const [name, settings] of limits) {
      if (name === POOL_RATE_LIMIT) pool = new Limit(settings);
      else this.#byName.set(name, new Limit(settings));
    }
    this.#pool = pool;
  }

  /** The task names that have a limit of their own. */
  get names(): string[] {
    return [...this.#byName.keys()];
  }

  /** Tasks parked by their name's limit (queued tasks, outside the heap). */
  get parked(): number {
    return this.#parked.size;
  }

  /** Queued tasks a limit holds back: the parked ones, and while the pool-wide window is full every other one. */
  held(queued: number): number {
    return this.#parked.size + (this.#pool?.timer !== undefined ? queued : 0);
  }

  /** Most items a map chunk of `name` may carry: the smallest limit that applies to it. */
  maxUnits(name: string): number {
    return Math.min(this.#byName.get(name)?.window.limit ?? Infinity, this.#pool?.window.limit ?? Infinity);
  }

  /** Whether a task of `name` counting `units` would leave at once for a free thread. */
  fitsNow(name: string, units: number): boolean {
    const now = this.#clock.now();
    const limit = this.#byName.get(name);
    if (limit !== undefined && (limit.parked.size > 0 || limit.window.wait(now, units) > 0)) return false;
    return this.#pool === undefined || this.#pool.window.wait(now, units) === 0;
  }

  /**
   * The task that goes next, left where it is (`take` removes it): the heap's top or a parked task,
   * whichever comes first in priority order among those whose windows have room. Tops over their
   * name's limit are parked on the way. Undefined when nothing may go now; a timer is then armed.
   */
  peek(queue: PriorityQueue<Task>): Task | undefined {
    const now = this.#clock.now();
    for (;;) {
      let best: Parked | undefined;
      for (const limit of this.#waiting) {
        const head = limit.parked.peek()!;
        const wait = limit.window.wait(now, unitsOf(head.task));
        if (wait > 0) this.#arm(limit, now, wait);
        else if (best === undefined || precedes(head, best)) best = head;
      }
      const top = queue.peek();
      let next: Task | undefined;
      if (top !== undefined && (best === undefined || precedes(top, best))) {
        const limit = this.#byName.get(top.name);
        if (limit !== undefined) {
          // Behind a parked task of its name (whose window has no room, or it would be `best`).
          const head = limit.parked.peek();
          const behind = head !== undefined && precedes(head, top);
          const wait = behind ? 0 : limit.window.wait(now, unitsOf(top));
          if (behind || wait > 0) {
            this.#park(limit, queue.pop()!);
            if (wait > 0) this.#arm(limit, now, wait);
            continue;
          }
        }
        next = top;
      } else next = best?.task;
      if (next === undefined) return undefined;
      const pool = this.#pool;
      if (pool !== undefined) {
        const wait = pool.window.wait(now, unitsOf(next));
        if (wait > 0) {
          this.#arm(pool, now, wait);
          return undefined;
        }
      }
      return next;
    }
  }

  /** Removes the task `peek` just returned and counts it against its windows. */
  take(queue: PriorityQueue<Task>, task: Task): Task {
    const limit = this.#byName.get(task.name);
    // In the heap it is the top; otherwise it is parked.
    if (task.queued) queue.pop();
    else this.#unpark(limit!, task);
    const now = this.#clock.now();
    const units = unitsOf(task);
    limit?.window.take(now, units);
    this.#pool?.window.take(now, units);
    return task;
  }

  /** `peek`, then `take`. */
  pop(queue: PriorityQueue<Task>): Task | undefined {
    const task = this.peek(queue);
    return task === undefined ? undefined : this.take(queue, task);
  }

  /** Removes a parked task (aborted, cancelled). False if it was not parked. */
  remove(task: Task): boolean {
    if (!this.#parked.has(task)) return false;
    this.#unpark(this.#byName.get(task.name)!, task);
    return true;
  }

  /** Removes and returns every parked task. */
  drain(): Task[] {
    const tasks = [...this.#parked.keys()];
    for (const task of tasks) this.#unpark(this.#byName.get(task.name)!, task);
    return tasks;
  }

  /** Adds the parked tasks to `counts`, by priority. */
  countByPriority(counts: Map<number, number>): void {
    for (const task of this.#parked.keys()) counts.set(task.priority, (counts.get(task.priority) ?? 0) + 1);
  }

  /** Nothing is queued any more: the pool-wide timer has nobody to wake. */
  idle(): void {
    if (this.#pool !== undefined && this.#parked.size === 0) this.#disarm(this.#pool);
  }

  /** Clears every timer; arms none after. */
  dispose(): void {
    this.#disposed = true;
    for (const limit of this.#byName.values()) this.#disarm(limit);
    if (this.#pool !== undefined) this.#disarm(this.#pool);
  }

  #park(limit: Limit, task: Task): void {
    const entry: Parked = { key: task.key, seq: task.seq, priority: task.priority, queued: false, task };
    limit.parked.restore(entry);
    this.#parked.set(task, entry);
    this.#waiting.add(limit);
  }

  #unpark(limit: Limit, task: Task): void {
    limit.parked.remove(this.#parked.get(task)!);
    this.#parked.delete(task);
    if (limit.parked.size === 0) {
      this.#waiting.delete(limit);
      this.#disarm(limit);
    }
  }

  /** Wakes the pump `wait` ms from `now`, unless its timer already fires by then. */
  #arm(limit: Limit, now: number, wait: number): void {
    const due = now + wait;
    if (this.#disposed || (limit.timer !== undefined && limit.due <= due)) return;
    if (limit.timer !== undefined) this.#clock.clearTimer(limit.timer);
    limit.due = due;
    // Ref'd: it only exists while a task waits for it, whose caller awaits its result.
    limit.timer = this.#clock.setTimer(() => {
      limit.timer = undefined;
      limit.due = Infinity;
      this.#wake();
    }, Math.ceil(wait));
  }

  #disarm(limit: Limit): void {
    if (limit.timer === undefined) return;
    this.#clock.clearTimer(limit.timer);
    limit.timer = undefined;
    limit.due = Infinity;
  }
}
