import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test.each(['video-flow.ts', 'video-tasks.ts'])('the README\'s "Flows" section shows examples/%s verbatim', (name) => {
  const file = readFileSync(new URL(`../examples/${name}`, import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
  const block = blocks.find((code) => code.startsWith(`// examples/${name}:`));
  expect(block, `README.md has no code block starting with \`// examples/${name}:\``).toBeDefined();
  expect(block).toBe(file);
});

test('examples/video-flow.ts runs: encode, then thumbnails and transcript, then resized; a failing node cancels resized', async () => {
  expect(existsSync(new URL('../dist/src/index.js', import.meta.url)), 'dist/ is missing: run `npm run build` first').toBe(true);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/video-flow.ts'], { cwd: root, timeout: 60_000 });
  expect(stdout).toMatch(/^finished: encoded, (thumbnails, transcript|transcript, thumbnails), resized$/m);
  expect(stdout).toMatch(/^resized: 15s@320w\.en\.jpg 45s@320w\.en\.jpg 75s@320w\.en\.jpg$/m);
  expect(stdout).toMatch(/^statuses: completed completed completed completed$/m);
  expect(stdout).toMatch(/^failed: transcript \(no audio track\), resized: cancelled$/m);
});
