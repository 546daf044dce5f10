/** Per-file Redis for the BullMQ test files (test/redis-server.ts has the server itself; bench/ uses it too). */
import { afterAll, beforeAll } from 'vitest';
import { RedisServer } from './redis-server.ts';

export { redisAvailable } from './redis-server.ts';

/**
 * A server for this test file: started before its first test, stopped after its last. The BullMQ
 * test files wrap their tests in `describe.skipIf(!redisAvailable())` and call this inside.
 */
export function useRedis(): { readonly server: RedisServer } {
  const handle = {} as { server: RedisServer };
  beforeAll(async () => {
    handle.server = await RedisServer.start();
  });
  afterAll(async () => {
    await handle.server?.stop();
  });
  return handle;
}

let queues = 0;
/** A queue name no other test in this process used. */
export function queueName(label: string): string {
  return `${label}-${process.pid}-${++queues}`;
}
