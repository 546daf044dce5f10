import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const run = promisify(execFile);
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const examples = readdirSync(new URL('../examples/', import.meta.url)).filter((name) => name.endsWith('.ts'));

/** The README's fenced code blocks, as written. */
function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
}

describe('examples/', () => {
  // The examples import the package by its name, as an app would (self-reference through `exports`,
  // so dist/ must be built: `npm test` builds first).
  test.each(examples)('%s imports tessera-pool by name, never ../src', (name) => {
    const text = readFileSync(new URL(`../examples/${name}`, import.meta.url), 'utf8');
    expect(text).not.toMatch(/from '\.\.\/(src|workers)\//);
    expect(text).not.toMatch(/from 'tessera['/]/);
  });

  // The README points newcomers at examples/: run it so it cannot rot.
  test('examples/quick-start.ts runs and shows a result, a map, a typed timeout and stats', async () => {
    expect(existsSync(new URL('../dist/src/index.js', import.meta.url)), 'dist/ is missing: run `npm run build` first').toBe(true);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/quick-start.ts'], { cwd: root, timeout: 60_000 });
    expect(stdout).toMatch(/^hash: [0-9a-f]{16}$/m);
    expect(stdout).toMatch(/^map: [0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8}$/m);
    expect(stdout).toMatch(/^timeout: TESSERA_TASK_TIMEOUT$/m);
    expect(stdout).toMatch(/completed: 3/);
  });

  test('examples/rate-limits.ts runs: every run finishes, none fails', async () => {
    expect(existsSync(new URL('../dist/src/index.js', import.meta.url)), 'dist/ is missing: run `npm run build` first').toBe(true);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/rate-limits.ts'], { cwd: root, timeout: 60_000 });
    const finished = /^finished: (.*)$/m.exec(stdout)?.[1]?.split(', ');
    expect(finished?.sort()).toEqual(['echo', 'hash 0', 'hash 1', 'hash 2', 'hash 3', 'hash 4', 'hash 5']);
    expect(stdout).toMatch(/^stats: \{"completed":7,"failed":0,"rateLimited":0\}$/m);
  });

  // The measurement the README quotes for niceIncrement; here only briefly, to show it still runs.
  test('examples/nice-under-load.ts runs and prints both ratios', async () => {
    const args = ['--import', 'tsx', 'examples/nice-under-load.ts', '--seconds', '0.2', '--threads', '1', '--hogs', '1'];
    const { stdout } = await run(process.execPath, args, { cwd: root, timeout: 60_000 });
    expect(stdout).toMatch(/^niceIncrement 19 \/ 0, no other load: \d+\.\d\dx$/m);
    expect(stdout).toMatch(/^niceIncrement 19 \/ 0, with CPU hogs: \d+\.\d\dx$/m);
  });
});

describe('README examples', () => {
  // Copy-paste runnable: the quick start and the rate limits snippet are the example files, verbatim, so the tests above run them.
  test.each(['tasks.ts', 'quick-start.ts', 'rate-limits.ts'])('shows examples/%s verbatim', (name) => {
    const file = readFileSync(new URL(`../examples/${name}`, import.meta.url), 'utf8');
    const block = codeBlocks(readme).find((code) => code.startsWith(`// examples/${name}:`));
    expect(block, `README.md has no code block starting with \`// examples/${name}:\``).toBeDefined();
    expect(block).toBe(file);
  });
});
