// examples/retries.ts: `node --import tsx examples/retries.ts`. Retries with backoff, and what is never retried.
import { createPool, taskModule, UnrecoverableError } from 'tessera-pool';
import type * as tasks from './flaky-tasks.ts';

await using pool = createPool<typeof tasks>({
  module: taskModule('./flaky-tasks.ts', import.meta.url),
  maxThreads: 1,
  // Every fetchQuote run: up to 4 attempts, exponential backoff from 50 ms (50, 100, 200) with full jitter.
  retries: { fetchQuote: { attempts: 4, delay: 50 } },
});
const counter = () => new Int32Array(new SharedArrayBuffer(4)); // attempts, counted by the threads

// Two failures, then an answer: the caller sees only the answer.
const calls = counter();
const quote = await pool.run('fetchQuote', { symbol: 'ACME', calls, failFirst: 2 });
console.log(`quote: ${quote} after ${Atomics.load(calls, 0)} attempts`); // quote: ACME 42 after 3 attempts

// The attempts run out: the last error rejects, carrying `attempts` and the earlier `errors`.
try {
  await pool.run('fetchQuote', { symbol: 'DOWN', calls: counter(), failFirst: 10 });
} catch (error) {
  const { message, attempts, errors } = error as Error & { attempts: number; errors: Error[] };
  console.log(`failed: ${message}, attempts: ${attempts}, earlier errors: ${errors.length}`); // failed: upstream 503, attempts: 4, earlier errors: 3
}

// A run's own `retry` replaces its name's policy; UnrecoverableError is never retried.
try {
  await pool.run('fetchQuote', { symbol: '', calls: counter(), failFirst: 0 }, { retry: { attempts: 10, backoff: 'fixed', delay: 10 } });
} catch (error) {
  console.log(`unrecoverable: ${error instanceof UnrecoverableError}`); // unrecoverable: true
}

const { retries, completed, failed } = pool.stats();
console.log('stats:', JSON.stringify({ retries, completed, failed })); // stats: {"retries":5,"completed":1,"failed":2}
