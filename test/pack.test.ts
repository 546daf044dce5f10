// What `npm pack` ships, and whether an app can use it: the tarball is extracted into a temporary
// app's node_modules, next to links to its dependencies only (no tsx), and examples/ is compiled
// there with tsc and run under plain node, then run from source under tsx.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  license: string;
  repository: { url: string };
  homepage: string;
  bugs: { url: string };
  keywords: string[];
  scripts: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  dependencies: Record<string, string>;
};
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const REPO = 'https://github.com/tessera-pool/tessera-pool';

let tmp: string;
let files: string[];
/** The temporary app: node_modules/tessera-pool is the extracted tarball. */
let app: string;
let installed: string;

beforeAll(async () => {
  expect(existsSync(join(root, 'dist/src/index.js')), 'dist/ is missing: run `npm run build` first (`npm test` builds)').toBe(true);
  tmp = mkdtempSync(join(tmpdir(), 'tessera-pack-'));
  // --ignore-scripts: prepack would rebuild dist/ under the other test files; `npm test` has just built it.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], {
    cwd: root,
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [report] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = report!.files.map((file) => file.path).sort();

  app = join(tmp, 'app');
  installed = join(app, 'node_modules', pkg.name);
  mkdirSync(installed, { recursive: true });
  await run('tar', ['-xzf', join(tmp, report!.filename), '-C', installed, '--strip-components', '1']);
  // The package's dependencies, and the types tsc needs; tsx is deliberately absent.
  for (const dep of [...Object.keys(pkg.dependencies), '@types/node']) {
    mkdirSync(join(app, 'node_modules', dep, '..'), { recursive: true });
    symlinkSync(join(root, 'node_modules', dep), join(app, 'node_modules', dep), 'dir');
  }
}, 180_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Every file an `exports` entry points at, without the leading `./`. */
function exportTargets(): string[] {
  const targets: string[] = [];
  for (const value of Object.values(pkg.exports)) {
    for (const target of typeof value === 'string' ? [value] : Object.values(value)) targets.push(target.replace(/^\.\//, ''));
  }
  return targets;
}

describe('npm pack', () => {
  test('ships every export (JavaScript and types), the wasm kernel, LICENSE and README', () => {
    const expected = [...exportTargets(), 'dist/workers/image/wasm/kernel.wasm', 'LICENSE', 'README.md', 'package.json'];
    expect(expected.filter((file) => !files.includes(file))).toEqual([]);
    for (const subpath of ['.', './worker', './image', './image/partition', './bullmq']) {
      expect(pkg.exports[subpath], `exports has no ${subpath}`).toMatchObject({ types: expect.stringMatching(/\.d\.ts$/), import: expect.stringMatching(/\.js$/) });
    }
    // The thread entry the executor starts (a file no export names).
    expect(files).toContain('dist/src/worker/bootstrap.js');
  });

  test('ships no tests, benchmarks, examples or TypeScript sources', () => {
    const stray = files.filter(
      (file) => /^(test|bench|examples|src|workers|node_modules|\.ci)\//.test(file) || (/\.[cm]?ts$/.test(file) && !/\.d\.[cm]?ts$/.test(file)),
    );
    expect(stray).toEqual([]);
    expect(files.every((file) => file.startsWith('dist/') || ['LICENSE', 'README.md', 'package.json'].includes(file))).toBe(true);
  });

  test('source maps carry their sources (the .ts files they name are not shipped)', () => {
    const maps = files.filter((file) => file.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const file of maps) {
      const map = JSON.parse(readFileSync(join(installed, file), 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
      expect(map.sourcesContent?.length, `${file} has no sourcesContent`).toBe(map.sources.length);
      expect(map.sourcesContent!.every((content) => typeof content === 'string' && content.length > 0), file).toBe(true);
    }
    // Every compiled file's map comes along.
    const js = files.filter((file) => file.endsWith('.js'));
    expect(js.filter((file) => !files.includes(`${file}.map`))).toEqual([]);
  });

  test('package.json: the name, licence, links, and a prepack that builds dist/', () => {
    expect(pkg.name).toBe('tessera-pool');
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the tessera authors\n/);
    expect(pkg.repository.url).toBe(`git+${REPO}.git`);
    expect(pkg.homepage.startsWith(REPO)).toBe(true);
    expect(pkg.bugs.url).toBe(`${REPO}/issues`);
    expect(pkg.keywords.length).toBeGreaterThan(0);
    expect(pkg.scripts.prepack).toMatch(/\bnpm run build\b/);
    expect(pkg.scripts.build).toMatch(/kernel\.wasm/);
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { name: string; packages: Record<string, { name?: string }> };
    expect([lock.name, lock.packages['']?.name]).toEqual([pkg.name, pkg.name]);
  });
});

describe('README on the registry', () => {
  test('every link and image is absolute (relative ones dangle outside the repository)', () => {
    const targets = [...readme.matchAll(/!?\[[^\]]*\]\(([^)\s]+)[^)]*\)/g), ...readme.matchAll(/<img[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1]!);
    expect(targets.length).toBeGreaterThan(0);
    expect(targets.filter((target) => !/^(https?:\/\/|#)/.test(target))).toEqual([]);
    expect(readme).toContain(`${REPO}/blob/main/bench/readme/run.json`);
    expect(readme).toContain(`${REPO}/tree/main/examples`);
  });

  test('imports the package by its published name', () => {
    expect(readme).not.toMatch(/from 'tessera['/]/);
    expect(readme).toMatch(/from 'tessera-pool'/);
    expect(readme).toMatch(/from 'tessera-pool\/worker'/);
    expect(readme).toMatch(/from 'tessera-pool\/image'/);
    expect(readme).toMatch(/from 'tessera-pool\/image\/partition'/);
  });

  test('the first screen has the commands a fresh clone needs', () => {
    const firstScreen = readme.split('\n').slice(0, 25).join('\n');
    const install = firstScreen.indexOf('npm install');
    const npmTest = firstScreen.indexOf('npm test');
    expect(install).toBeGreaterThanOrEqual(0);
    expect(npmTest).toBeGreaterThan(install);
    expect(firstScreen).toContain('npm run bench');
  });
});

describe('an app using the packed package', () => {
  const quickStartOutput = (stdout: string): void => {
    expect(stdout).toMatch(/^hash: [0-9a-f]{16}$/m);
    expect(stdout).toMatch(/^map: [0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8}$/m);
    expect(stdout).toMatch(/^timeout: TESSERA_TASK_TIMEOUT$/m);
  };

  test('examples/ compiled with tsc run under plain node, with no tsx installed anywhere', async () => {
    mkdirSync(join(app, 'src'));
    for (const name of ['tasks.ts', 'quick-start.ts']) cpSync(join(root, 'examples', name), join(app, 'src', name));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // An ordinary app tsconfig: no allowImportingTsExtensions, no paths into the library.
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023', 'esnext.disposable'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: true,
          types: ['node'],
          rootDir: 'src',
          outDir: 'dist',
        },
        include: ['src'],
      }),
    );
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app, timeout: 120_000 });
    expect(readdirSync(join(app, 'dist')).sort()).toEqual(['quick-start.js', 'tasks.js']);
    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false);

    const { stdout } = await run(process.execPath, ['dist/quick-start.js'], {
      cwd: app,
      env: { ...process.env, NODE_OPTIONS: '' },
      timeout: 60_000,
    });
    quickStartOutput(stdout);

    // The helper, from the installed package: .js beside a compiled caller, .ts beside a source one.
    const probe = `import { taskModule } from 'tessera-pool';
console.log(taskModule('./tasks.ts', new URL('./dist/quick-start.js', import.meta.url)).pathname);
console.log(taskModule('./tasks.ts', new URL('./src/quick-start.ts', import.meta.url)).pathname);`;
    const probed = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: app, env: { ...process.env, NODE_OPTIONS: '' } });
    expect(probed.stdout).toMatch(/\/dist\/tasks\.js\n.*\/src\/tasks\.ts\n$/);
  }, 180_000);

  test('the same sources run under tsx (tsx installed next to the app)', async () => {
    expect(existsSync(join(app, 'src', 'quick-start.ts')), 'runs after the compile test').toBe(true);
    symlinkSync(join(root, 'node_modules', 'tsx'), join(app, 'node_modules', 'tsx'), 'dir');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/quick-start.ts'], { cwd: app, timeout: 60_000 });
    quickStartOutput(stdout);
  }, 120_000);

  test('tessera-pool/bullmq: without bullmq and ioredis only its import fails, saying what to install; with them it loads', async () => {
    const probe = `await import('tessera-pool');
try {
  const { startWorker, createQueue } = await import('tessera-pool/bullmq');
  console.log('loaded', typeof startWorker, typeof createQueue);
} catch (error) {
  console.log(error.code, error.message);
}`;
    const env = { ...process.env, NODE_OPTIONS: '' };
    const without = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: app, env });
    expect(without.stdout).toMatch(/^TESSERA_PEER_DEPENDENCY .*`bullmq`.*npm install bullmq ioredis\n$/);
    for (const peer of ['bullmq', 'ioredis']) symlinkSync(join(root, 'node_modules', peer), join(app, 'node_modules', peer), 'dir');
    const withPeers = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: app, env });
    expect(withPeers.stdout).toBe('loaded function function\n');
  }, 60_000);
});
