import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { proxy } from '../src/index.ts';
import type * as tasks from './fixtures/progress.ts';
import { makePool } from './helpers.ts';

test('ports are closed when runs settle: onIdle and close resolve', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  const fetch = proxy((x: number) => x);
  await Promise.all(Array.from({ length: 10 }, (_, x) => pool.run('callback', { fetch, x })));
  await pool.onIdle();
  await pool.close();
});

test('a process that used callbacks exits by itself after close()', async () => {
  const script = fileURLToPath(new URL('./fixtures/callbacks-exit.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { timeout: 30_000 });
  expect(JSON.parse(stdout.trim())).toEqual({
    answered: { got: 8, kept: 4, type: 'function' },
    caught: { caught: true, message: 'no' },
    timedOut: true,
  });
});
