/**
 * vitest globalSetup: says once per run, in one line, when the BullMQ tests will skip because
 * redis-server is missing. Starts nothing: each BullMQ test file starts its own server
 * (test/redis-server.ts), so the other test files pay nothing. In CI those files fail instead.
 */
import { INSTALL_HINT, redisServerBinary } from './redis-server.ts';

export default function setup(): void {
  if (redisServerBinary() === undefined && !process.env.CI) {
    console.warn(`redis-server not found: the BullMQ tests (test/distributed-*.test.ts) are skipped. Install it: ${INSTALL_HINT}`);
  }
}
