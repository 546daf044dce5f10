// The task code every contender runs: the same two functions, imported by the pool workers, the raw
// workers and the main-thread contender alike. Plain JavaScript so that every library can load it.

/** The tiny task of the dispatch-overhead scenario: next integer. */
export function tiny(x) {
  return x + 1;
}

/**
 * The CPU-bound task: a deterministic 32-bit hash chain (xorshift + multiply), `iterations` steps from
 * `seed`. The state is the 32-bit value alone, so cpu({ seed, a + b }) === cpu({ seed: cpu({ seed, a }), b }),
 * which lets the two-stage pipeline split one task in two halves with the same result.
 */
export function cpu(input) {
  let h = input.seed | 0;
  const n = input.iterations;
  for (let i = 0; i < n; i++) {
    h ^= h << 13;
    h ^= h >>> 17;
    h ^= h << 5;
    h = (Math.imul(h, 0x9e3779b1) + 0x7f4a7c15) | 0;
  }
  return h >>> 0;
}
