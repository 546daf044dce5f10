import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { createPool, ModuleLoadError, ModuleNotFoundError, TesseraError } from '../src/index.ts';
import { fixture, makePool, nextTurn, track, within } from './helpers.ts';

// A module with a syntax error cannot live in test/fixtures/ (tsc and eslint check that folder), so it
// is written to a temporary folder.
const dir = mkdtempSync(join(tmpdir(), 'tessera-module-errors-'));
const syntaxError = join(dir, 'syntax-error.mjs');
writeFileSync(syntaxError, 'export function broken( {\n  return 1;\n}\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a module that does not exist: createPool throws ModuleNotFoundError synchronously', () => {
  const missing = fixture('does-not-exist.ts');
  let error: unknown;
  try {
    track(createPool({ module: missing }));
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ModuleNotFoundError);
  expect(error).toBeInstanceOf(TesseraError);
  expect(error).toMatchObject({ code: 'TESSERA_MODULE_NOT_FOUND', name: 'ModuleNotFoundError' });
  expect((error as ModuleNotFoundError).modulePath).toContain('does-not-exist.ts');
  expect((error as Error).message).toContain('does-not-exist.ts');
});

test('the same for an absolute path given as a string', () => {
  expect(() => track(createPool({ module: join(dir, 'nope.mjs') }))).toThrow(ModuleNotFoundError);
});

test.each([
  { label: 'throws at import', module: () => fixture('throws-at-import.ts'), path: 'throws-at-import.ts', detail: 'boom at import' },
  { label: 'has a syntax error', module: () => pathToFileURL(syntaxError), path: 'syntax-error.mjs', detail: '' },
])('a module that $label: ready() and run reject with ModuleLoadError naming the path', async ({ module, path, detail }) => {
  const pool = track(createPool({ module: module(), maxThreads: 1, minThreads: 1 }));
  // A run submitted before the load failed is known...
  const early = pool.run('never').catch((e: unknown) => e);
  const error = await pool.ready().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ModuleLoadError);
  expect(error).toBeInstanceOf(TesseraError);
  expect(error).toMatchObject({ code: 'TESSERA_MODULE_LOAD', name: 'ModuleLoadError' });
  expect((error as Error).message).toContain(path);
  expect((error as Error).message).toContain(detail);
  expect((error as ModuleLoadError).modulePath).toContain(path);
  expect((error as Error).cause).toBeInstanceOf(Error);
  if (detail) expect(((error as Error).cause as Error).message).toContain(detail);
  else expect(((error as Error).cause as Error).name).toBe('SyntaxError');
  const earlyError = await early;
  expect(earlyError).toBeInstanceOf(ModuleLoadError);
  expect((earlyError as Error).message).toContain(path);
  // ...and one submitted after rejects the same way, at once.
  const late = await pool.run('never').catch((e: unknown) => e);
  expect(late).toBeInstanceOf(ModuleLoadError);
  expect((late as Error).message).toContain(path);
  // Closing such a pool still works.
  await pool.close();
});

test('close() resolves after a load failure that raced runs in flight (100 rounds): no slot is left held', async () => {
  // A run's reply can come before its result notice; the load failure then drops the notice with
  // the pool's threads. The slot that waited for it must be freed, or close() waits for ever (2 in
  // 150 rounds hung before the fix).
  for (let round = 0; round < 100; round++) {
    const pool = track(createPool({ module: pathToFileURL(syntaxError), maxThreads: 1, minThreads: 1 }));
    const early = Array.from({ length: 3 }, () => pool.run('never').catch((e: unknown) => e));
    await pool.ready().catch(() => {});
    for (const error of await Promise.all(early)) expect(error).toBeInstanceOf(ModuleLoadError);
    await within(pool.close(), 5_000, `round ${round}'s close()`);
  }
}, 120_000);

test('a module that loads: ready() resolves with its task names', async () => {
  const pool = makePool('echo.ts');
  expect([...(await pool.ready())].sort()).toEqual(['add', 'echo', 'threadId']);
});

test('a module that ends its thread at import: ready() rejects, runs in flight reject, and no thread is restarted for it', async () => {
  const pool = makePool('hostile-exit-at-import.ts', { maxThreads: 2, minThreads: 2 });
  // Handled at once: it may reject while ready() is awaited.
  const inFlight = pool.run('never', 1).then(
    () => 'resolved',
    (e: unknown) => e,
  );
  const error = await pool.ready().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ModuleLoadError);
  expect((error as ModuleLoadError).cause).toMatchObject({ code: 'TESSERA_WORKER_CRASH', reason: 'exit', exitCode: 3 });
  expect(await inFlight).toBeInstanceOf(ModuleLoadError);
  // piscina would otherwise replace each dying thread for ever, each one dying at import again.
  for (let turn = 0; pool.stats().threads > 0 && turn < 10_000; turn++) await nextTurn();
  expect(pool.stats().threads).toBe(0);
  await expect(pool.run('never', 2)).rejects.toBeInstanceOf(ModuleLoadError);
  await pool.onIdle();
  expect(pool.stats()).toMatchObject({ queued: 0, running: 0 });
});
