import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test('the README shows examples/schedules.ts verbatim', () => {
  const file = readFileSync(new URL('../examples/schedules.ts', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
  const block = blocks.find((code) => code.startsWith('// examples/schedules.ts:'));
  expect(block, 'README.md has no code block starting with `// examples/schedules.ts:`').toBeDefined();
  expect(block).toBe(file);
});

// It waits for two fires of a per-second schedule: about two seconds of real time.
test('examples/schedules.ts runs: one account in order, a delayed run, two scheduled runs', async () => {
  expect(existsSync(new URL('../dist/src/index.js', import.meta.url)), 'dist/ is missing: run `npm run build` first').toBe(true);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/schedules.ts'], { cwd: root, timeout: 60_000 });
  expect(stdout).toMatch(/^alice: alice:open, alice:deposit, alice:close$/m);
  expect(stdout).toMatch(/^reminder after 200 ms or more: true$/m);
  expect(stdout).toMatch(/^schedule: 2 runs, then stopped$/m);
});
