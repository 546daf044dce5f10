// examples/rate-limits.ts: `node --import tsx examples/rate-limits.ts`. Rate limits per task name and pool-wide.
import { createPool, taskModule } from 'tessera-pool';
import type * as tasks from './tasks.ts';

await using pool = createPool<typeof tasks>({
  module: taskModule('./tasks.ts', import.meta.url),
  maxThreads: 2,
  minThreads: 2,
  rateLimits: {
    hash: { limit: 2, interval: 100 }, // at most 2 `hash` runs start per 100 ms window
    '*': { limit: 50, interval: 1_000, strict: true }, // the whole pool: at most 50 starts in any second
  },
});

await pool.ready(); // threads up and the module loaded, so the first window is not spent waiting for them

// Six hashes take three windows: the four over the limit wait in the queue (they never fail) and
// keep their priority; an `echo` submitted after them is not held back.
const done: string[] = [];
const hashes = Array.from({ length: 6 }, (_, i) =>
  pool.run('hash', { text: `photo ${i}`, rounds: 100 }, { priority: i }).then(() => done.push(`hash ${i}`)),
);
const echo = pool.run('slowEcho', { value: 'echo', ms: 1 }).then((value) => done.push(value));
await Promise.all([...hashes, echo]);
console.log('finished:', done.join(', ')); // e.g. hash 0, echo, hash 1, hash 5, hash 4, hash 3, hash 2
const { completed, failed, rateLimited } = pool.stats();
console.log('stats:', JSON.stringify({ completed, failed, rateLimited }));
