// examples/tasks.ts: the task module. Every exported function is a task; it runs in worker threads only.
import { createHash } from 'node:crypto';
import type { TaskContext } from 'tessera-pool/worker'; // the worker-side entry: types and zero-copy helpers

/** CPU-heavy work that would stall the event loop: `rounds` of SHA-256 over `text`. */
export function hash(input: { text: string; rounds: number }): string {
  let digest = input.text;
  for (let i = 0; i < input.rounds; i++) digest = createHash('sha256').update(digest).digest('hex');
  return digest;
}

/** An async task that stops early when its signal aborts (the caller's abort, or its timeout). */
export async function slowEcho(input: { value: string; ms: number }, { signal }: TaskContext): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, input.ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
  return input.value;
}
