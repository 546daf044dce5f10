// examples/batch.ts: `node --import tsx examples/batch.ts`. Many inputs, every outcome in input order; one item's failure touches no other.
import { createPool, taskModule } from 'tessera-pool';
import type * as tasks from './tasks.ts';

await using pool = createPool<typeof tasks>({ module: taskModule('./tasks.ts', import.meta.url), maxThreads: 2 });

// Each item is a run of its own: the 200 ms timeout stops the slow one alone.
const inputs = ['a', 'b', 'slow', 'c'].map((value) => ({ value, ms: value === 'slow' ? 10_000 : 10 }));
const batch = await pool.batch('slowEcho', inputs, { timeout: 200, concurrency: 2 });
console.log(batch.results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason.code)).join(' ')); // a b TESSERA_TASK_TIMEOUT c
console.log(`fulfilled: ${batch.fulfilled}, rejected: ${batch.rejected}, timed out: ${batch.timedOut}`); // fulfilled: 3, rejected: 1, timed out: 1
