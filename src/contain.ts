/**
 * Calling a user's callback (onProgress, onEvent, onResult, onError) from the pool's own code: what it
 * throws, or what a promise or thenable it returns rejects with, goes to `warn` and nowhere else, so a
 * callback can never kill the host or break the run, batch, flow or schedule that called it. Also
 * `isArray`, the guarded check of a user's value that several callers share.
 */
export function callContained<A extends unknown[]>(warn: (error: unknown) => void, callback: (...args: A) => unknown, ...args: A): void {
  let returned: unknown;
  try {
    returned = callback(...args);
  } catch (error) {
    warn(error);
    return;
  }
  // typeof runs no user code (instanceof would run a Proxy's trap); the promise machinery reads `then`
  // itself, and a throwing `then` getter becomes a rejection.
  if ((typeof returned === 'object' && returned !== null) || typeof returned === 'function') {
    Promise.resolve()
      .then(() => returned)
      .catch(warn);
  }
}

/** Whether `value` is an array; a revoked Proxy is not (Array.isArray throws on one). */
export function isArray(value: unknown): boolean {
  try {
    return Array.isArray(value);
  } catch {
    return false;
  }
}
