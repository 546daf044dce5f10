// Builds workers/image/wasm/kernel.wasm from kernel.as.ts with AssemblyScript.
// Run from anywhere: node workers/image/build-wasm.mjs [outFile]. The .wasm is committed so
// installs need no compiler; rebuild after editing kernel.as.ts (tests check it
// matches the TS kernel byte for byte).
import { URL, fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const dir = fileURLToPath(new URL('./wasm/', import.meta.url));
const outFile = process.argv[2] ?? `${dir}kernel.wasm`;
const { error } = await asc.main(
  [
    `${dir}kernel.as.ts`,
    '--outFile', outFile,
    '--optimizeLevel', '3',
    '--shrinkLevel', '0',
    '--runtime', 'stub',
    '--noAssert',
    // No imports at all: the module needs no JS glue beyond instantiate().
    '--use', 'abort=',
    '--initialMemory', '2',
    '--enable', 'simd',
  ],
  { stderr: process.stderr, stdout: process.stdout },
);
if (error) {
  console.error(error.message);
  process.exit(1);
}
console.log(`wrote ${outFile}`);
