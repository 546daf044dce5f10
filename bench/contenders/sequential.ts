// Everything on the main thread: each task runs synchronously when it is submitted.
import { cpu, tiny } from '../tasks/kernel.mjs';
import type { Contender, CpuInput } from './types.ts';

export function create(): Contender {
  return {
    async start() {},
    run: (kind: 'tiny' | 'cpu', input: number | CpuInput) =>
      Promise.resolve(kind === 'tiny' ? tiny(input as number) : cpu(input as CpuInput)),
    async close() {},
  } as Contender;
}
