import type * as Tessera from '../../src/index.ts';
import type { Contender } from './types.ts';
import { tesseraContender } from './tessera-pool.ts';

/**
 * tessera from another checkout, built: the "today's figures" row of a before/after comparison in one
 * run (`--baseline DIR`). run.ts compiles DIR the way it compiles this checkout and passes the folder in
 * TESSERA_BENCH_BASELINE (a folder holding src/index.js). Its createPool must take the options below.
 */
const build = process.env.TESSERA_BENCH_BASELINE;
if (!build) throw new Error('tessera-baseline needs TESSERA_BENCH_BASELINE (run.ts sets it from --baseline DIR)');
const { createPool } = (await import(new URL(`file://${build}/src/index.js`).href)) as typeof Tessera;

export function create(threads: number): Contender {
  return tesseraContender(createPool, threads);
}
