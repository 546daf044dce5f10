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

test('taskModule from the built package: the caller’s flavour of the task module', async () => {
  const { taskModule } = (await import(builtEntry.href)) as typeof import('../src/index.ts');
  const cases: Array<[string, string, string]> = [
    ['./tasks.ts', 'file:///app/src/server.ts', 'file:///app/src/tasks.ts'],
    ['./tasks.ts', 'file:///app/dist/server.js', 'file:///app/dist/tasks.js'],
    ['./tasks.js', 'file:///app/src/server.ts', 'file:///app/src/tasks.ts'],
    ['./tasks.js', 'file:///app/dist/server.js', 'file:///app/dist/tasks.js'],
    ['./tasks', 'file:///app/src/server.mts', 'file:///app/src/tasks.mts'],
    ['./tasks', 'file:///app/dist/server.mjs', 'file:///app/dist/tasks.mjs'],
    ['./tasks.mts', 'file:///app/dist/server.mjs', 'file:///app/dist/tasks.mjs'],
    ['./tasks.cjs', 'file:///app/src/server.ts', 'file:///app/src/tasks.cts'],
    ['../jobs/tasks.ts', 'file:///app/dist/http/server.js', 'file:///app/dist/jobs/tasks.js'],
    // tsx may add a query to import.meta.url; the extension is read from the path.
    ['./tasks.ts', 'file:///app/src/server.ts?tsx-namespace=1', 'file:///app/src/tasks.ts'],
    ['./tasks.ts?v=2', 'file:///app/dist/server.js', 'file:///app/dist/tasks.js?v=2'],
    // Not JavaScript or TypeScript: resolved as `new URL` would.
    ['./data.json', 'file:///app/dist/server.js', 'file:///app/dist/data.json'],
  ];
  for (const [specifier, parent, expected] of cases) {
    expect(taskModule(specifier, parent).href, `${specifier} from ${parent}`).toBe(expected);
    expect(taskModule(specifier, new URL(parent)).href).toBe(expected);
  }
  expect(() => taskModule('', 'file:///app/server.js')).toThrow(TypeError);
  expect(() => taskModule('./tasks.ts', undefined as unknown as string)).toThrow(/Expected `parentUrl` to be a URL/);
});
