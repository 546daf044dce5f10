/**
 * A bounded log-bucket histogram of durations in milliseconds (an HDR-style sketch): a fixed array of
 * counts however many values it records, so recording is one `Math.log2` and an increment, and
 * quantiles are read from the buckets with a bounded relative error.
 *
 * Bucket 0 holds values up to 2^MIN_EXP ms; bucket i > 0 holds values in
 * (2^(MIN_EXP + (i - 1) / SUB), 2^(MIN_EXP + i / SUB)] ms; the last one also holds everything above.
 * Upper bounds are inclusive, as Prometheus's `le`, and every power of two is a bucket bound: the
 * Prometheus export reads exact cumulative counts at those bounds ({@link Histogram.countAtOrBelow}).
 */

/** Sub-buckets per power of two: a quantile is at most 2^(1/8) - 1 ≈ 9% above the true value. */
const SUB = 8;
/** 2^-10 ms ≈ 1 µs: anything faster is "about nothing" for a task that crossed threads. */
export const MIN_EXP = -10;
/** 2^26 ms ≈ 18.6 hours: above it values share the last bucket (`max` stays exact). */
export const MAX_EXP = 26;
const BUCKETS = (MAX_EXP - MIN_EXP) * SUB + 1;
const LOWEST = 2 ** MIN_EXP;

/** A summary of a histogram, in milliseconds: what `stats()` shows. All 0 while nothing was recorded. */
export interface DurationSummary {
  /** Values recorded. */
  count: number;
  /** Smallest value, exact. */
  min: number;
  /** Arithmetic mean, exact. */
  mean: number;
  /** Median, within 9% above the true value (the upper bound of its bucket, capped by `max`). */
  p50: number;
  /** 90th percentile, within 9%. */
  p90: number;
  /** 99th percentile, within 9%. */
  p99: number;
  /** Largest value, exact. */
  max: number;
}

function indexOf(ms: number): number {
  // NaN and negatives (never from a monotonic clock, but cheap to keep out) land in bucket 0.
  if (!(ms > LOWEST)) return 0;
  const index = Math.ceil((Math.log2(ms) - MIN_EXP) * SUB);
  return index < BUCKETS ? index : BUCKETS - 1;
}

/** The inclusive upper bound of bucket `index`, in ms. */
function upperBound(index: number): number {
  return 2 ** (MIN_EXP + index / SUB);
}

export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  /** Records one duration in ms. */
  record(ms: number): void {
    this.#counts[indexOf(ms)]!++;
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /** Adds `other`'s values to this one. */
  add(other: Histogram): void {
    if (other.count === 0) return;
    const counts = this.#counts;
    const theirs = other.#counts;
    for (let i = 0; i < BUCKETS; i++) counts[i]! += theirs[i]!;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /** The value at quantile `q` (0 to 1): the upper bound of the bucket holding it, within [min, max]. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    const counts = this.#counts;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += counts[i]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, upperBound(i)));
    }
    return this.max;
  }

  /** Values recorded at or below 2^`exponent` ms, exactly (every power of two from MIN_EXP to MAX_EXP is a bucket bound). */
  countAtOrBelow(exponent: number): number {
    if (exponent >= MAX_EXP) return this.count;
    const last = (exponent - MIN_EXP) * SUB;
    const counts = this.#counts;
    let seen = 0;
    for (let i = 0; i <= last; i++) seen += counts[i]!;
    return seen;
  }

  summary(): DurationSummary {
    if (this.count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    return {
      count: this.count,
      min: this.min,
      mean: this.sum / this.count,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      max: this.max,
    };
  }
}
