// Run with: node --import tsx examples/quick-start.ts
import { createPool, TaskTimeoutError } from '../src/index.ts';
import type * as tasks from './tasks.ts';

await using pool = createPool<typeof tasks>({ module: new URL('./tasks.ts', import.meta.url), maxThreads: 2 });

// Typed from the module: `digest` is a string; a wrong name or input does not compile.
const digest = await pool.run('hash', { text: 'tessera', rounds: 10_000 }, { priority: 10 });
console.log('hash:', digest.slice(0, 16));

// Many items, few messages, results in input order.
const digests = await pool.map('hash', ['a', 'b', 'c'].map((text) => ({ text, rounds: 1_000 })));
console.log('map:', digests.map((d) => d.slice(0, 8)).join(' '));

// A timeout counts from when the task starts on a thread; the error is typed, with a stable code.
try {
  await pool.run('slowEcho', { value: 'late', ms: 5_000 }, { timeout: 100 });
} catch (error) {
  if (error instanceof TaskTimeoutError) console.log('timeout:', error.code);
  else throw error;
}

console.log('stats:', pool.stats());
