/** Shared pieces of the retry tests: attempt counters and backoff timers the test fires by hand. */
import { afterEach } from 'vitest';
import { setRetryTimersForTests, type RetryTimers } from '../src/retry.ts';

/** Attempt counters in shared memory, one cell per id (see test/fixtures/retry.ts). */
export class Attempts {
  readonly cells: Int32Array;
  constructor(ids = 8) {
    this.cells = new Int32Array(new SharedArrayBuffer(4 * ids));
  }
  of(index: number): number {
    return Atomics.load(this.cells, index);
  }
  /** The input of a fixture task for id `index`, failing its first `failures` attempts. */
  input(index: number, failures: number, log?: Int32Array): { cells: Int32Array; index: number; failures: number; log?: Int32Array } {
    return log === undefined ? { cells: this.cells, index, failures } : { cells: this.cells, index, failures, log };
  }
}

interface Held {
  readonly fire: () => void;
  readonly ms: number;
  cleared: boolean;
  fired: boolean;
}

/** Backoff timers that wait until the test fires them; installed until the test ends. */
export class HeldTimers implements RetryTimers {
  readonly held: Held[] = [];
  #waiters: Array<() => void> = [];

  set(fire: () => void, ms: number): unknown {
    const entry: Held = { fire, ms, cleared: false, fired: false };
    this.held.push(entry);
    for (const wake of this.#waiters.splice(0)) wake();
    return entry;
  }

  clear(handle: unknown): void {
    (handle as Held).cleared = true;
  }

  /** Timers set and neither fired nor cleared. */
  get pending(): Held[] {
    return this.held.filter((entry) => !entry.cleared && !entry.fired);
  }

  /** Resolves once `n` timers have been set in all. */
  async scheduled(n: number): Promise<void> {
    while (this.held.length < n) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Fires every pending timer. */
  fireAll(): void {
    for (const entry of this.pending) {
      entry.fired = true;
      entry.fire();
    }
  }
}

export function useHeldTimers(): HeldTimers {
  const timers = new HeldTimers();
  setRetryTimersForTests(timers);
  return timers;
}

afterEach(() => setRetryTimersForTests(undefined));
