// examples/schedules.ts: `node --import tsx examples/schedules.ts`. Ordering keys, a delayed run, a cron schedule.
import { createPool, taskModule } from 'tessera-pool';
import type * as tasks from './tasks.ts';

await using pool = createPool<typeof tasks>({ module: taskModule('./tasks.ts', import.meta.url), maxThreads: 2, minThreads: 2 });

// Ordering keys: the events of one account run one at a time, in order; other accounts in parallel.
const applied: string[] = [];
const events = ['alice:open', 'bob:open', 'alice:deposit', 'bob:deposit', 'alice:close'];
await Promise.all(
  events.map((event) =>
    pool.run('slowEcho', { value: event, ms: 20 }, { orderingKey: event.split(':')[0] }).then((value) => applied.push(value)),
  ),
);
console.log('alice:', applied.filter((event) => event.startsWith('alice')).join(', ')); // alice: alice:open, alice:deposit, alice:close

// A delayed run waits outside the queue (no thread, no queue place) until it is due.
const submitted = Date.now();
const reminder = await pool.run('slowEcho', { value: 'reminder', ms: 1 }, { delay: 200 });
console.log(`${reminder} after 200 ms or more: ${Date.now() - submitted >= 200}`); // reminder after 200 ms or more: true

// A cron schedule: every second, read in a time zone. Each fire is a pool.run; errors go to onError.
const digests: string[] = [];
await new Promise<void>((resolve) => {
  const schedule = pool.schedule('* * * * * *', 'hash', (fireDate) => ({ text: fireDate.toISOString(), rounds: 1_000 }), {
    timezone: 'Europe/Paris',
    overlap: 'skip', // a fire while the previous run is still in flight is dropped (the default)
    onResult: (digest) => {
      digests.push(digest);
      if (digests.length === 2) {
        schedule.stop();
        resolve();
      }
    },
    onError: (error) => console.error('a scheduled run failed:', error),
  });
});
console.log(`schedule: ${digests.length} runs, then stopped`); // schedule: 2 runs, then stopped
