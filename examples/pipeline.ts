// examples/pipeline.ts: `node --import tsx examples/pipeline.ts`. Items through two stages with bounded buffers between them.
import { createPool, taskModule } from 'tessera-pool';
import type * as tasks from './tasks.ts';

await using pool = createPool<typeof tasks>({ module: taskModule('./tasks.ts', import.meta.url), maxThreads: 2 });

// Any iterable or async iterable: a file's lines, a socket, a queue. It is read only as fast as the stages take items.
async function* lines(): AsyncGenerator<string> {
  yield* ['alpha', 'beta', 'gamma'];
}

const stages = [
  { task: 'hash', input: (text: string) => ({ text, rounds: 1_000 }) }, // stage 1: hash each line
  { task: 'slowEcho', concurrency: 1, input: (digest: string) => ({ value: digest.slice(0, 8), ms: 5 }) }, // stage 2: one at a time
] as const;
for await (const short of pool.pipeline(lines(), stages)) console.log(`pipeline: ${short}`); // in input order
