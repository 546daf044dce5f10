import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const root = new URL('../', import.meta.url);
const builtEntry = new URL('dist/src/index.js', root);
const script = fileURLToPath(new URL('./fixtures/built/main.mjs', import.meta.url));

test('the built package works under plain node, imported by its name', async () => {
  expect(
    existsSync(builtEntry),
    `${fileURLToPath(builtEntry)} is missing: run \`npm run build\` first (\`npm test\` builds before running vitest)`,
  ).toBe(true);
  // process.execPath with no --import: no tsx, no vitest transform.
  const { stdout } = await promisify(execFile)(process.execPath, [script], {
    cwd: fileURLToPath(root),
    env: { ...process.env, NODE_OPTIONS: '' },
    timeout: 60_000,
  });
  expect(JSON.parse(stdout.trim())).toEqual({
    names: ['add', 'fail'],
    result: { sum: 5, onWorker: true },
    failure: { message: 'built failure', code: 'E_BUILT' },
    unknown: true,
    closed: 'TESSERA_POOL_CLOSED',
  });
});
