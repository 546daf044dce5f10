/**
 * Bounded priority admission.
 *
 * A binary min-heap ordered by a virtual start time: `key = seq - priority * aging`, where `seq`
 * counts submissions. Higher priority means an earlier key, equal priorities keep submission order
 * (ties on key fall back to `seq`), and no task starves: a task of priority p is overtaken by at most
 * `(q - p) * aging` tasks of priority q submitted after it, because every later submission gets a
 * larger `seq`. Push and pop are O(log n); nothing is re-keyed but by `raise` (a keyed run joined by
 * a higher priority), which only ever moves an entry earlier.
 *
 * Removal (abort while queued) is lazy: the entry is marked dead and skipped when it reaches the top,
 * so `size` drops at once while the heap slot is reclaimed later. When dead entries outnumber live
 * ones the heap is rebuilt, which keeps memory proportional to what is really queued.
 */

/** What the queue needs from an entry. */
export interface QueueEntry {
  /** Virtual start time; smaller runs first. */
  key: number;
  /** Submission order; breaks ties on `key`. */
  seq: number;
  /** Priority as given (or as raised by {@link PriorityQueue.raise}), for stats. */
  priority: number;
  /** False once the entry left the queue (popped or removed). */
  queued: boolean;
}

export class PriorityQueue<T extends QueueEntry> {
  #heap: T[] = [];
  #size = 0;
  #seq = 0;
  readonly #aging: number;
  readonly #capacity: number;

  /** @param capacity most live entries; @param aging see `PoolOptions.priorityAging`. */
  constructor(capacity: number, aging: number) {
    this.#capacity = capacity;
    this.#aging = aging;
  }

  /** Live entries. */
  get size(): number {
    return this.#size;
  }

  get capacity(): number {
    return this.#capacity;
  }

  get isFull(): boolean {
    return this.#size >= this.#capacity;
  }

  /** Stamps `entry` with its key and adds it. The caller checks `isFull` first. */
  push(entry: T): void {
    const seq = this.#seq++;
    entry.seq = seq;
    // With aging = Infinity priority is strict (no aging) and seq alone breaks ties.
    entry.key = this.#aging === Infinity ? -entry.priority : seq - entry.priority * this.#aging;
    entry.queued = true;
    this.#size++;
    this.#heap.push(entry);
    this.#up(this.#heap.length - 1);
  }

  /** Puts back an entry that had been popped (its thread died before it started); keeps its place. */
  restore(entry: T): void {
    entry.queued = true;
    this.#size++;
    this.#heap.push(entry);
    this.#up(this.#heap.length - 1);
  }

  /** Removes and returns the live entry that runs next. */
  pop(): T | undefined {
    const heap = this.#heap;
    while (heap.length > 0) {
      const top = heap[0]!;
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        this.#down(0);
      }
      if (top.queued) {
        top.queued = false;
        this.#size--;
        return top;
      }
    }
    return undefined;
  }

  /** The live entry that runs next, left in place. */
  peek(): T | undefined {
    const heap = this.#heap;
    while (heap.length > 0 && !heap[0]!.queued) {
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        this.#down(0);
      }
    }
    return heap[0];
  }

  /**
   * Raises a queued entry's priority to `priority` (a keyed run that shares it asked for more). It
   * keeps its submission number, so it moves as if it had been submitted at that priority in the
   * first place. Returns false, changing nothing, when it is not queued or `priority` is not higher.
   * O(n) to find the entry (the heap keeps no positions): raises are rare, push and pop stay lean.
   */
  raise(entry: T, priority: number): boolean {
    if (!entry.queued || !(priority > entry.priority)) return false;
    const at = this.#heap.indexOf(entry);
    if (at < 0) return false;
    entry.priority = priority;
    entry.key = this.#aging === Infinity ? -priority : entry.seq - priority * this.#aging;
    this.#up(at);
    return true;
  }

  /** Removes a queued entry (lazily). Returns false if it was not queued. */
  remove(entry: T): boolean {
    if (!entry.queued) return false;
    entry.queued = false;
    this.#size--;
    if (this.#heap.length > 64 && this.#heap.length > 2 * this.#size) this.#rebuild();
    return true;
  }

  /** Removes and returns every live entry, in no particular order. */
  drain(): T[] {
    const live = this.#heap.filter((e) => e.queued);
    for (const e of live) e.queued = false;
    this.#heap = [];
    this.#size = 0;
    return live;
  }

  /** Live entries counted by priority. O(n): for stats, not the hot path. */
  countByPriority(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const e of this.#heap) if (e.queued) counts.set(e.priority, (counts.get(e.priority) ?? 0) + 1);
    return counts;
  }

  #rebuild(): void {
    this.#heap = this.#heap.filter((e) => e.queued);
    for (let i = (this.#heap.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  #less(a: T, b: T): boolean {
    return a.key < b.key || (a.key === b.key && a.seq < b.seq);
  }

  #up(i: number): void {
    const heap = this.#heap;
    const item = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!this.#less(item, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = item;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const item = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.#less(heap[right]!, heap[child]!)) child = right;
      if (!this.#less(heap[child]!, item)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = item;
  }
}
