// examples/idempotency.ts: `node --import tsx examples/idempotency.ts`. Runs with one key share one execution.
import { createPool, taskModule } from 'tessera-pool';
import type * as tasks from './tasks.ts';

await using pool = createPool<typeof tasks>({ module: taskModule('./tasks.ts', import.meta.url), maxThreads: 2 });
const input = { text: 'order-42', rounds: 10_000 };

// A client retries while the first request is still running: one execution, both get its result.
const first = pool.run('hash', input, { key: 'order-42', keyTtl: 60_000 });
const retry = pool.run('hash', input, { key: 'order-42', priority: 5 }); // joins it (and raises it to 5 while queued)
console.log('same result:', (await first) === (await retry));

// For keyTtl ms after it succeeded, its result answers a run with the key at once, without a thread.
await pool.run('hash', input, { key: 'order-42' });

// Another key (or another task name) is another execution.
await pool.run('hash', input, { key: 'order-43' });
const { accepted, shared } = pool.stats();
console.log(`executions: ${accepted}, shared: ${shared}`); // executions: 2, shared: 2
