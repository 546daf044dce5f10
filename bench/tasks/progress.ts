import type { TaskContext } from '../../src/worker/index.ts';

/** Reports 1..n in a synchronous tight loop: context.progress(i) n times. */
export function reporting(input: { n: number }, context: TaskContext): number {
  for (let i = 1; i <= input.n; i++) context.progress(i);
  return input.n;
}

/** The same loop, not reporting. */
export function silent(input: { n: number }): number {
  let last = 0;
  for (let i = 1; i <= input.n; i++) last = i;
  return last;
}

/** Reports 1..n, yielding to the event loop (setImmediate) after every 1,000 reports. */
export async function yielding(input: { n: number }, context: TaskContext): Promise<number> {
  for (let i = 1; i <= input.n; i++) {
    context.progress(i);
    if (i % 1_000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return input.n;
}
