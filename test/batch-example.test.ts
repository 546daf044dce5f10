import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const run = (name: string) => promisify(execFile)(process.execPath, ['--import', 'tsx', `examples/${name}`], { cwd: root, timeout: 60_000 });

test.each(['batch.ts', 'pipeline.ts'])('the README shows examples/%s verbatim', (name) => {
  const file = readFileSync(new URL(`../examples/${name}`, import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
  const block = blocks.find((code) => code.startsWith(`// examples/${name}:`));
  expect(block, `README.md has no code block starting with \`// examples/${name}:\``).toBeDefined();
  expect(block).toBe(file);
});

test('examples/batch.ts runs: three items fulfilled in order, the slow one timed out alone', async () => {
  expect(existsSync(new URL('../dist/src/index.js', import.meta.url)), 'dist/ is missing: run `npm run build` first').toBe(true);
  const { stdout } = await run('batch.ts');
  expect(stdout).toMatch(/^a b TESSERA_TASK_TIMEOUT c$/m);
  expect(stdout).toMatch(/^fulfilled: 3, rejected: 1, timed out: 1$/m);
});

test('examples/pipeline.ts runs: each line hashed then passed on, in input order', async () => {
  expect(existsSync(new URL('../dist/src/index.js', import.meta.url)), 'dist/ is missing: run `npm run build` first').toBe(true);
  const hash = (text: string): string => {
    let digest = text;
    for (let i = 0; i < 1_000; i++) digest = createHash('sha256').update(digest).digest('hex');
    return digest.slice(0, 8);
  };
  const { stdout } = await run('pipeline.ts');
  expect(stdout.trim().split('\n')).toEqual(['alpha', 'beta', 'gamma'].map((text) => `pipeline: ${hash(text)}`));
});
