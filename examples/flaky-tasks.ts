// examples/flaky-tasks.ts: the task module of examples/retries.ts, a call to an upstream that fails now and then.
import { UnrecoverableError } from 'tessera-pool/worker';

/** Fails with `upstream 503` on its first `failFirst` attempts (counted in `calls`, shared memory), then answers. */
export function fetchQuote(input: { symbol: string; calls: Int32Array; failFirst: number }): string {
  // Trying again cannot fix a bad request: say so, and the run fails at once.
  if (input.symbol === '') throw new UnrecoverableError('no symbol given');
  const attempt = Atomics.add(input.calls, 0, 1) + 1;
  if (attempt <= input.failFirst) throw new Error('upstream 503');
  return `${input.symbol} 42`;
}
