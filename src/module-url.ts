/**
 * `taskModule(specifier, import.meta.url)`: the URL of a task module next to the caller, with the
 * extension that matches how the caller itself runs.
 *
 * `new URL('./tasks.ts', import.meta.url)` is still `.ts` after tsc compiles the caller to
 * `dist/server.js`, where only `dist/tasks.js` exists. `taskModule('./tasks.ts', import.meta.url)`
 * gives `tasks.ts` while the caller runs from TypeScript source (tsx, vitest) and `tasks.js` once it
 * is compiled, so one line works in development and in production. No file system access.
 */

/** TypeScript source extension → the extension tsc emits for it. */
const COMPILED: Readonly<Record<string, string>> = { '.ts': '.js', '.mts': '.mjs', '.cts': '.cjs' };
/** Emitted extension → its TypeScript source extension. */
const SOURCE: Readonly<Record<string, string>> = { '.js': '.ts', '.mjs': '.mts', '.cjs': '.cts' };

const EXTENSION = /\.[cm]?[jt]s$/;

function fail(name: string, expected: string, value: unknown): never {
  let shown: string;
  try {
    shown = typeof value === 'string' ? value : String(value);
  } catch {
    shown = Object.prototype.toString.call(value);
  }
  throw new TypeError(`Expected \`${name}\` to be ${expected}, got \`${shown}\` (${value === null ? 'null' : typeof value})`);
}

/**
 * Resolves `specifier` against `parentUrl` (pass `import.meta.url`), like `new URL(specifier, parentUrl)`,
 * then swaps a JavaScript or TypeScript extension for the caller's flavour: `.ts`/`.mts`/`.cts` when
 * the caller's own file is TypeScript, `.js`/`.mjs`/`.cjs` when it is JavaScript (compiled). A
 * specifier with no extension at all (`./tasks`) gets the caller's own; any other URL is left as
 * `new URL` resolves it.
 *
 * ```ts
 * import { createPool, taskModule } from 'tessera-pool';
 * const pool = createPool<typeof tasks>({ module: taskModule('./tasks.ts', import.meta.url) });
 * // src/server.ts under tsx → src/tasks.ts; dist/server.js under node → dist/tasks.js
 * ```
 *
 * The task module must be compiled next to the caller (same relative path), as tsc does with
 * `outDir` and `rootDir`. A bundler that inlines the caller breaks this; give `module` a path then.
 */
export function taskModule(specifier: string, parentUrl: string | URL): URL {
  if (typeof specifier !== 'string' || specifier.length === 0) fail('specifier', 'a relative path such as `./tasks.ts`', specifier);
  if (!(parentUrl instanceof URL) && (typeof parentUrl !== 'string' || parentUrl.length === 0)) {
    fail('parentUrl', 'a URL (`import.meta.url`)', parentUrl);
  }
  const parent = new URL(parentUrl);
  const parentExt = EXTENSION.exec(parent.pathname)?.[0];
  const target = new URL(specifier, parent);
  // Only the path changes: a query or hash in the specifier is kept as written.
  const ext = EXTENSION.exec(target.pathname)?.[0];
  if (parentExt === undefined) return target;
  const parentIsSource = parentExt in COMPILED;
  if (ext === undefined) {
    // `./tasks` gets the caller's extension; `./data.json` or `./dir/` stays as written.
    const base = target.pathname.slice(target.pathname.lastIndexOf('/') + 1);
    if (base.length > 0 && !base.includes('.')) target.pathname += parentExt;
    return target;
  }
  const swapped = parentIsSource ? (SOURCE[ext] ?? ext) : (COMPILED[ext] ?? ext);
  target.pathname = target.pathname.slice(0, -ext.length) + swapped;
  return target;
}
