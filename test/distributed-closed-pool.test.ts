// A consumer whose pool was closed under it (a `pool` given to `startWorker`, closed by its owner)
// runs nothing more: it closes itself and says why, and the job it took goes back to the queue with
// no attempt spent, for other consumers. It used to hand each job back and fetch it again at once,
// forever (hundreds of times a second).
import { once } from 'node:events';
import { afterEach, describe, expect, test } from 'vitest';
import { createQueue, startWorker, type Consumer, type DistributedQueue } from '../src/distributed/index.ts';
import { createPool, PoolClosedError } from '../src/index.ts';
import { fixture, track } from './helpers.ts';
import { queueName, redisAvailable, useRedis } from './redis-harness.ts';
import type * as tasks from './fixtures/distributed-tasks.ts';

describe.skipIf(!redisAvailable())('BullMQ consumer on a closed pool', () => {
  const redis = useRedis();
  const open: Array<Consumer | DistributedQueue<any>> = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((closable) => closable.close()));
  });

  test('the consumer closes itself, reports PoolClosedError, and the job goes back untouched', { timeout: 15_000 }, async () => {
    const name = queueName('closed-pool');
    const pool = track(createPool<typeof tasks>({ module: fixture('distributed-tasks.ts'), maxThreads: 1 }));
    const errors: Error[] = [];
    const consumer = startWorker({ queue: name, connection: redis.server.connection, pool, onError: (error) => errors.push(error) });
    const queue = createQueue<typeof tasks>({ name, connection: redis.server.connection });
    open.push(consumer, queue);
    let taken = 0;
    consumer.worker.on('active', () => taken++);
    await pool.close();
    const closed = once(consumer.worker, 'closed');
    const id = await queue.add('add', { a: 1, b: 1 });
    await closed;
    expect(errors).toEqual([expect.any(PoolClosedError)]);
    expect(taken).toBe(1);
    const job = (await queue.queue.getJob(id))!;
    expect(await job.getState()).toBe('prioritized');
    expect(job.attemptsMade).toBe(0);
    // Another consumer takes it.
    const other = startWorker({ queue: name, connection: redis.server.connection, module: fixture('distributed-tasks.ts'), maxThreads: 1 });
    open.push(other);
    await expect.poll(async () => (await queue.queue.getJob(id))!.getState(), { timeout: 10_000 }).toBe('completed');
    expect((await queue.queue.getJob(id))!.returnvalue).toBe(2);
  });
});
