/**
 * The service's own view of its requests, for the dashboard: latency percentiles and throughput over
 * a rolling window, and the last failures. Measured around the whole request (queueing on the pool
 * included), which is what a client sees; the pool's own counts come from `pool.stats()`.
 */

/** One finished /thumbnails request. */
interface Sample {
  /** When it finished (performance.now()). */
  at: number;
  /** Milliseconds from the handler's start to the reply. */
  ms: number;
}

/** A refused or failed request, as the dashboard lists it. */
export interface Failure {
  /** Wall-clock time (ms since the epoch). */
  at: number;
  status: number;
  code: string;
  message: string;
}

/** What `RequestWindow.snapshot()` reports. */
export interface WindowSnapshot {
  /** The window's length in milliseconds. */
  windowMs: number;
  /** Successful requests per second over the window. */
  throughput: number;
  /** Latency percentiles of the successful requests in the window, in ms (null with none). */
  latency: { p50: number | null; p90: number | null; p99: number | null; max: number | null; count: number };
  /** Requests in the handler now. */
  inFlight: number;
  /** Since start: requests answered 2xx, and requests answered with an error status. */
  ok: number;
  failed: number;
  /** The most recent failures, newest first. */
  failures: Failure[];
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

export class RequestWindow {
  readonly #windowMs: number;
  readonly #maxSamples: number;
  readonly #maxFailures: number;
  // Samples in finishing order, so expired ones are a prefix; #head skips them without shifting.
  #samples: Sample[] = [];
  #head = 0;
  #failures: Failure[] = [];
  #inFlight = 0;
  #ok = 0;
  #failed = 0;

  constructor({ windowMs = 10_000, maxSamples = 50_000, maxFailures = 20 } = {}) {
    this.#windowMs = windowMs;
    this.#maxSamples = maxSamples;
    this.#maxFailures = maxFailures;
  }

  /** Call when a request enters the handler; returns the function to call with its outcome. */
  start(): (outcome: { status: number; code?: string; message?: string }) => void {
    const began = performance.now();
    this.#inFlight++;
    let done = false;
    return ({ status, code, message }) => {
      if (done) return;
      done = true;
      this.#inFlight--;
      const now = performance.now();
      if (status < 400) {
        this.#ok++;
        this.#samples.push({ at: now, ms: now - began });
        this.#trim(now);
      } else {
        this.#failed++;
        this.#failures.unshift({ at: Date.now(), status, code: code ?? 'UNKNOWN', message: message ?? '' });
        this.#failures.length = Math.min(this.#failures.length, this.#maxFailures);
      }
    };
  }

  snapshot(): WindowSnapshot {
    const now = performance.now();
    this.#trim(now);
    const live = this.#samples.slice(this.#head);
    const sorted = live.map((s) => s.ms).sort((a, b) => a - b);
    // Throughput over the part of the window the service has lived through, so a fresh start is not diluted.
    const span = Math.min(this.#windowMs, now) / 1000;
    return {
      windowMs: this.#windowMs,
      throughput: span > 0 ? live.length / span : 0,
      latency: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.at(-1) ?? null, count: sorted.length },
      inFlight: this.#inFlight,
      ok: this.#ok,
      failed: this.#failed,
      failures: this.#failures.map((f) => ({ ...f })),
    };
  }

  #trim(now: number): void {
    while (this.#head < this.#samples.length && (now - this.#samples[this.#head]!.at > this.#windowMs || this.#samples.length - this.#head > this.#maxSamples)) this.#head++;
    // Compact once the dead prefix is half the array: amortised O(1) per sample.
    if (this.#head > 1024 && this.#head * 2 > this.#samples.length) {
      this.#samples = this.#samples.slice(this.#head);
      this.#head = 0;
    }
  }
}
