// examples/quick-start.ts: `node --import tsx examples/quick-start.ts`, or compile both files with tsc and run the .js.
import { createPool, taskModule, TaskTimeoutError } from 'tessera-pool';
import type * as tasks from './tasks.ts';

// taskModule gives ./tasks.ts while this file runs as TypeScript and ./tasks.js once tsc has compiled it.
await using pool = createPool<typeof tasks>({ module: taskModule('./tasks.ts', import.meta.url), maxThreads: 2 });

// Typed from the module: `digest` is a string; pool.run('hsah', …) or pool.run('hash', 42) does not compile.
const controller = new AbortController(); // controller.abort() would cancel the task, queued or running
const digest = await pool.run('hash', { text: 'tessera', rounds: 10_000 }, { priority: 10, timeout: 5_000, signal: controller.signal });
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
// `await using` closes the pool here; without it: await pool.close().
