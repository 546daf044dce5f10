import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test.each(['retries.ts', 'flaky-tasks.ts'])('the README\'s "Retries" section shows examples/%s verbatim', (name) => {
  const file = readFileSync(new URL(`../examples/${name}`, import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
  const block = blocks.find((code) => code.startsWith(`// examples/${name}:`));
  expect(block, `README.md has no code block starting with \`// examples/${name}:\``).toBeDefined();
  expect(block).toBe(file);
});

test('examples/retries.ts runs: a transient failure retried, attempts exhausted, an unrecoverable error', async () => {
  expect(existsSync(new URL('../dist/src/index.js', import.meta.url)), 'dist/ is missing: run `npm run build` first').toBe(true);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/retries.ts'], { cwd: root, timeout: 60_000 });
  expect(stdout).toMatch(/^quote: ACME 42 after 3 attempts$/m);
  expect(stdout).toMatch(/^failed: upstream 503, attempts: 4, earlier errors: 3$/m);
  expect(stdout).toMatch(/^unrecoverable: true$/m);
  expect(stdout).toMatch(/^stats: \{"retries":5,"completed":1,"failed":2\}$/m);
});
