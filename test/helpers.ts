/**
 * Shared test helpers: fixture URLs, pools that are always destroyed after each test, and
 * SharedArrayBuffer gates/logs that let a test wait on what a worker thread did (no sleeps).
 */
import { afterEach } from 'vitest';
import { createPool, type Pool, type PoolOptions } from '../src/index.ts';

/** file: URL of a module in test/fixtures/. */
export function fixture(name: string): URL {
  return new URL(`./fixtures/${name}`, import.meta.url);
}

const pools = new Set<Pool<any>>();
const gates = new Set<Gate>();

/** Registers a pool so that the afterEach below destroys it. */
export function track<P extends Pool<any>>(pool: P): P {
  pools.add(pool);
  return pool;
}

/**
 * A pool over `test/fixtures/<name>`, destroyed after the test. Small by default (one thread, started
 * at once) because the machine is small; `options` override that.
 */
export function makePool<M extends object = any>(name: string, options: Omit<PoolOptions, 'module'> = {}): Pool<M> {
  return track(createPool<M>({ module: fixture(name), maxThreads: 1, minThreads: 1, ...options }));
}

afterEach(async (context) => {
  // Release every blocked thread first so nothing is left waiting on a gate, then destroy.
  for (const gate of gates) gate.open();
  gates.clear();
  const all = [...pools];
  pools.clear();
  for (const pool of all) {
    const { queued, running } = pool.stats();
    // A test should settle what it submitted; say which one did not (its tasks reject with
    // PoolDestroyedError below, which vitest then reports as an unhandled rejection).
    if (queued + running > 0) console.warn(`[helpers] "${context.task.name}" left ${queued} queued and ${running} running tasks`);
  }
  await Promise.all(all.map((pool) => pool.destroy()));
});

type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Resolves once `cells[index]` satisfies `done`, woken by the worker's Atomics.notify (no polling). */
export async function waitForCell(cells: Int32Array, index: number, done: (value: number) => boolean): Promise<number> {
  for (;;) {
    const value = Atomics.load(cells, index);
    if (done(value)) return value;
    const result = waitAsync(cells, index, value);
    if (result.async) await result.value;
  }
}

/**
 * A gate for the blocker fixture: `cells[0]` counts tasks that started, `cells[1]` is 0 while shut.
 * A task blocked on it keeps its thread provably busy until the test calls `open()`.
 */
export class Gate {
  readonly cells = new Int32Array(new SharedArrayBuffer(8));

  constructor() {
    gates.add(this);
  }

  /** Resolves once `n` tasks have started waiting on this gate. */
  async started(n = 1): Promise<void> {
    await waitForCell(this.cells, 0, (v) => v >= n);
  }

  get startedCount(): number {
    return Atomics.load(this.cells, 0);
  }

  open(): void {
    Atomics.store(this.cells, 1, 1);
    Atomics.notify(this.cells, 1);
  }
}

/** An append-only log in shared memory: `cells[0]` is the length, then the ids appended by tasks. */
export class SharedLog {
  readonly cells: Int32Array;

  constructor(capacity = 256) {
    this.cells = new Int32Array(new SharedArrayBuffer(4 * (capacity + 1)));
  }

  entries(): number[] {
    const length = Atomics.load(this.cells, 0);
    return Array.from(this.cells.subarray(1, 1 + length));
  }

  /** How many times each id was appended. */
  counts(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const id of this.entries()) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  }

  /** Resolves once `n` entries have been appended. */
  async length(n: number): Promise<void> {
    await waitForCell(this.cells, 0, (v) => v >= n);
  }
}

/** Lets pending I/O callbacks and microtasks run (one turn of the event loop; not a timer). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
