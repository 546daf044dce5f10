// Redis unreachable (its server SIGKILLed): nothing waits for it for ever. A run aborted or made on a
// closed queue rejects at once, `queue.close()` resolves, and `consumer.close({ timeout })` stops the
// running job and resolves soon after its deadline (it used to wait for Redis, for ever). Each test
// kills a server of its own.
import { once } from 'node:events';
import { afterEach, describe, expect, test } from 'vitest';
import { createQueue, startWorker, type Consumer, type DistributedQueue } from '../src/distributed/index.ts';
import { AbortError, PoolClosedError } from '../src/index.ts';
import { fixture } from './helpers.ts';
import { redisAvailable, RedisServer } from './redis-server.ts';
import { queueName } from './redis-harness.ts';
import type * as tasks from './fixtures/distributed-tasks.ts';

describe.skipIf(!redisAvailable())('Redis unreachable', () => {
  const servers: RedisServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  async function queueWithoutRedis(): Promise<DistributedQueue<typeof tasks>> {
    const server = await RedisServer.start();
    servers.push(server);
    const queue = createQueue<typeof tasks>({ name: queueName('gone'), connection: server.connection });
    // Its reconnect errors, expected here.
    queue.queue.on('error', () => {});
    await queue.queue.waitUntilReady();
    await server.kill();
    return queue;
  }

  test('an aborted run rejects with AbortError; close() resolves and the run it left rejects', async () => {
    const queue = await queueWithoutRedis();
    const controller = new AbortController();
    const aborted = queue.run('add', { a: 1, b: 1 }, { signal: controller.signal });
    const left = queue.run('add', { a: 2, b: 2 }).catch((e: unknown) => e);
    controller.abort('gave up');
    await expect(aborted).rejects.toBeInstanceOf(AbortError);
    await queue.close();
    expect(await left).toBeInstanceOf(PoolClosedError);
  });

  test('a run on a closed queue rejects with PoolClosedError at once', async () => {
    const queue = await queueWithoutRedis();
    await queue.close();
    await expect(queue.run('add', { a: 1, b: 1 })).rejects.toBeInstanceOf(PoolClosedError);
  });

  test('consumer.close({ timeout }) stops the running job and resolves', { timeout: 20_000 }, async () => {
    const server = await RedisServer.start();
    servers.push(server);
    const name = queueName('gone');
    const consumer: Consumer = startWorker({ queue: name, connection: server.connection, module: fixture('distributed-tasks.ts'), maxThreads: 1, onError: () => {} });
    const queue = createQueue<typeof tasks>({ name, connection: server.connection });
    queue.queue.on('error', () => {});
    const started = once(consumer.worker, 'active');
    await queue.add('pause', { ms: 60_000 });
    await started;
    await expect.poll(() => consumer.running).toBe(1);
    await server.kill();
    await consumer.close({ timeout: 100 });
    expect(consumer.running).toBe(0);
    expect(consumer.pool.stats().running).toBe(0);
    await queue.close();
  });
});
