/**
 * Thread side of callbacks (`proxy(fn)` in a run's input): each proxied field becomes an async
 * function that calls the caller's function on the main thread through comlink, over the port that
 * came with the request.
 */
import type { MessagePort } from 'node:worker_threads';
import { wrap, type Remote } from 'comlink';
import { MAX_DEPTH, nestsDeeperThan, tooDeepError } from './clone.ts';
import type { CallbackInput } from './protocol.ts';

type Callable = (...args: unknown[]) => Promise<unknown>;

/**
 * The task's input with its callbacks in place, and a function that closes their port (when the
 * task has settled). A call pending when `signal` aborts rejects with the signal's reason, so a
 * cooperative task can end within its abort grace even if the main thread never answers.
 */
export function openCallbacks(carried: CallbackInput, signal: AbortSignal): { input: Record<string, unknown>; close: () => void } {
  const [input, port, names] = carried;
  const remote = wrap(port) as Remote<Record<string, Callable>>;
  for (const name of names) {
    const call = (...args: unknown[]): Promise<unknown> => {
      if (signal.aborted) return Promise.reject(signal.reason);
      try {
        // Sent, they could not be read back on the main thread: the call would never be answered.
        if (nestsDeeperThan(args, MAX_DEPTH)) throw new DOMException(tooDeepError(`The arguments of callback \`${name}\``).message, 'DataCloneError');
      } catch (error) {
        return Promise.reject(error);
      }
      const pending = (remote[name] as unknown as Callable)(...args);
      if (signal === NEVER) return pending;
      return new Promise((resolve, reject) => {
        const abort = (): void => reject(signal.reason);
        signal.addEventListener('abort', abort, { once: true });
        pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
      });
    };
    // defineProperty: a field named `__proto__` stays a field.
    Object.defineProperty(input, name, { value: call, enumerable: true, writable: true, configurable: true });
  }
  return { input, close: () => closePort(port) };
}

/** The signal of an untracked task: it never aborts. */
export const NEVER: AbortSignal = new AbortController().signal;

function closePort(port: MessagePort): void {
  port.close();
}
