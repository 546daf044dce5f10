// `queue.run` settles however early it is stopped: an abort right after the call, an abort or
// `close()` while Redis is storing its job, a run after `close()` (at once, without opening a
// connection again). Redis holds the job's add with `CLIENT PAUSE … WRITE`, so "while Redis is
// storing it" is a window of known length, not a race.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, test } from 'vitest';
import { createQueue, type DistributedQueue } from '../src/distributed/index.ts';
import { AbortError, PoolClosedError } from '../src/index.ts';
import { queueName, redisAvailable, useRedis } from './redis-harness.ts';
import type * as tasks from './fixtures/distributed-tasks.ts';

describe.skipIf(!redisAvailable())('queue.run settles when stopped early', () => {
  const redis = useRedis();
  const open: Array<DistributedQueue<any> | Redis> = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((closable) => (closable instanceof Redis ? closable.quit() : closable.close())));
  });

  function setup(): { queue: DistributedQueue<typeof tasks>; admin: Redis } {
    // No consumer: a job added stays prioritized, so a job left behind shows in the counts.
    const queue = createQueue<typeof tasks>({ name: queueName('settles'), connection: redis.server.connection });
    const admin = new Redis(redis.server.connection);
    open.push(queue, admin);
    return { queue, admin };
  }

  test('aborting right after calling run rejects with AbortError and leaves no job', async () => {
    const { queue } = setup();
    await queue.events();
    const controller = new AbortController();
    const running = queue.run('add', { a: 1, b: 2 }, { signal: controller.signal });
    controller.abort('gave up');
    await expect(running).rejects.toMatchObject({ code: 'TESSERA_ABORTED', reason: 'gave up' });
    expect(await queue.queue.count()).toBe(0);
  });

  test('aborting while Redis stores the job rejects at once; the job is removed once stored', async () => {
    const { queue, admin } = setup();
    await queue.events();
    await admin.call('CLIENT', 'PAUSE', '300', 'WRITE');
    const controller = new AbortController();
    const running = queue.run('add', { a: 1, b: 2 }, { signal: controller.signal });
    // After the run's microtasks: its add is sent and held by the pause.
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort('gave up');
    await expect(running).rejects.toBeInstanceOf(AbortError);
    // The queue's connection answers in order: this count comes after the add, once the pause ends.
    await expect.poll(() => queue.queue.count()).toBe(0);
    expect(await queue.queue.getJobCountByTypes('prioritized', 'waiting', 'active', 'completed')).toBe(0);
  });

  test('close() while Redis stores the job: the run has rejected with PoolClosedError when close resolves', async () => {
    const { queue, admin } = setup();
    await queue.events();
    await admin.call('CLIENT', 'PAUSE', '300', 'WRITE');
    let outcome: unknown = 'pending';
    const running = queue.run('add', { a: 1, b: 2 }).then((value) => (outcome = value), (error: unknown) => (outcome = error));
    await new Promise((resolve) => setImmediate(resolve));
    await queue.close();
    expect(outcome).toBeInstanceOf(PoolClosedError);
    await running;
  });

  test('run after close() rejects with PoolClosedError without opening a connection', async () => {
    const { queue, admin } = setup();
    await queue.close();
    const clients = async (): Promise<number> => String(await admin.call('CLIENT', 'LIST')).trim().split('\n').length;
    const before = await clients();
    await expect(queue.run('add', { a: 1, b: 1 })).rejects.toBeInstanceOf(PoolClosedError);
    expect(await clients()).toBe(before);
    await expect(queue.events()).rejects.toBeInstanceOf(PoolClosedError);
    expect(await clients()).toBe(before);
  });
});
