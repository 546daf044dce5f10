import type * as Tessera from '../../src/index.ts';
import type { Contender } from './types.ts';
import { tesseraContender } from './tessera-pool.ts';

/**
 * run.ts compiles src/ to plain JavaScript first (what npm users run) and passes the folder in
 * TESSERA_BENCH_BUILD; without it (runner.ts started by hand) tessera runs from source through tsx,
 * whose loader then also runs in each of its threads (slower start, more memory).
 */
const build = process.env.TESSERA_BENCH_BUILD;
const { createPool } = (await import(
  build ? new URL(`file://${build}/src/index.js`).href : '../../src/index.ts'
)) as typeof Tessera;

export function create(threads: number): Contender {
  return tesseraContender(createPool, threads);
}
