import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

// The README points newcomers at examples/: run it so it cannot rot.
test('examples/quick-start.ts runs and shows a result, a map, a typed timeout and stats', async () => {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/quick-start.ts'], {
    cwd: root,
    timeout: 60_000,
  });
  expect(stdout).toMatch(/^hash: [0-9a-f]{16}$/m);
  expect(stdout).toMatch(/^map: [0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8}$/m);
  expect(stdout).toMatch(/^timeout: TESSERA_TASK_TIMEOUT$/m);
  expect(stdout).toMatch(/completed: 3/);
});
