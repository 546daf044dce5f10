import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const example = readFileSync(new URL('../examples/idempotency.ts', import.meta.url), 'utf8');

test('the README\'s "Idempotency keys" snippet is examples/idempotency.ts, verbatim', () => {
  const blocks = [...readme.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
  const block = blocks.find((code) => code.startsWith('// examples/idempotency.ts:'));
  expect(block, 'README.md has no code block starting with `// examples/idempotency.ts:`').toBeDefined();
  expect(block).toBe(example);
  // Every new option is in its table, with its default.
  expect(readme).toMatch(/^\| `key` \| none \|/m);
  expect(readme).toMatch(/^\| `keyTtl` \| `0` \|/m);
  expect(readme).toMatch(/^### Idempotency keys$/m);
});

test('examples/idempotency.ts runs: one execution for the key in flight and its kept result, another for another key', async () => {
  expect(existsSync(new URL('../dist/src/index.js', import.meta.url)), 'dist/ is missing: run `npm run build` first').toBe(true);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/idempotency.ts'], { cwd: root, timeout: 60_000 });
  expect(stdout).toBe('same result: true\nexecutions: 2, shared: 2\n');
});
