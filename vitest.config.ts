import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Worker threads are the unit under test; forks keep each test file's threads apart.
    pool: 'forks',
    // One line when redis-server is missing (the BullMQ tests skip then); starts nothing.
    globalSetup: ['test/redis-global-setup.ts'],
  },
});
