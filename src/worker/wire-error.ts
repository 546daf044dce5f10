import { MAX_DEPTH, nestsDeeperThan } from './clone.ts';
import type { WireError } from './protocol.ts';

/**
 * Errors cross threads flattened to plain data and are rebuilt on the other side, so `name`,
 * `message`, `stack`, `code`, `cause` and own enumerable properties survive (structured clone keeps
 * only some of these, and piscina drops custom properties: piscina#1143).
 *
 * A thrown value is a user's value: it may be a Proxy whose traps throw, have throwing getters or no
 * prototype. `toWire` never throws, and what it returns always clones.
 */

const MAX_CAUSE_DEPTH = 8;

/** Runs `read`; a throw gives `fallback`. */
function attempt<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** A printable form of any value, even one whose `toString` throws or that has no prototype. */
export function describeValue(value: unknown): string {
  return attempt(
    () => String(value),
    attempt(() => Object.prototype.toString.call(value), '[unprintable value]'),
  );
}

/**
 * A value is kept if structured clone accepts it and the receiving thread can read it back (a few
 * levels are left for the error around it); otherwise its string form travels.
 */
function cloneable(value: unknown): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')) return value;
  return attempt<unknown>(() => {
    const copy = structuredClone(value);
    return nestsDeeperThan(copy, MAX_DEPTH - 50) ? describeValue(value) : copy;
  }, describeValue(value));
}

function isError(value: unknown): value is Error {
  return attempt(() => value instanceof Error, false);
}

function text(read: () => unknown): string | undefined {
  return attempt(() => {
    const value = read();
    return value === undefined ? undefined : typeof value === 'string' ? value : describeValue(value);
  }, undefined);
}

/** Flattens anything thrown into data that structured clone accepts. Never throws. */
export function toWire(error: unknown, depth = 0): WireError {
  if (!isError(error)) {
    return { name: 'Error', message: describeValue(error), stack: undefined, props: {}, thrown: { value: cloneable(error) } };
  }
  const props: Record<string, unknown> = {};
  for (const key of attempt(() => Object.keys(error), [] as string[])) {
    if (key === 'cause' || key === 'stack' || key === 'message' || key === 'name') continue;
    const value = cloneable(attempt(() => (error as unknown as Record<string, unknown>)[key], '[throwing getter]'));
    // defineProperty, not assignment: a key such as `__proto__` stays data, and the object stays plain
    // (so the error can ride in piscina's reply).
    Object.defineProperty(props, key, { value, enumerable: true, writable: true, configurable: true });
  }
  const wire: { -readonly [K in keyof WireError]: WireError[K] } = {
    name: text(() => error.name) ?? 'Error',
    message: text(() => error.message) ?? '',
    stack: text(() => error.stack),
    props,
  };
  const cause = attempt(() => ('cause' in error ? (error.cause as unknown) : undefined), '[throwing cause getter]');
  if (cause !== undefined) {
    wire.cause = isError(cause) && depth < MAX_CAUSE_DEPTH ? toWire(cause, depth + 1) : { value: cloneable(cause) };
  }
  return wire;
}

const builtins: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** An error class the main thread rebuilds by name, given the flattened `code` and `message`. */
export type Rebuilder = (wire: WireError) => Error | undefined;

/**
 * Rebuilds an error from its flattened form: built-in names come back as their own class, and
 * `rebuild` may supply another class (the main thread's error catalogue).
 */
export function fromWire(wire: WireError, rebuild?: Rebuilder): unknown {
  if (wire.thrown) return wire.thrown.value;
  const error = (rebuild?.(wire) ?? new (builtins[wire.name] ?? Error)(wire.message)) as Error & Record<string, unknown>;
  if (error.name !== wire.name) {
    Object.defineProperty(error, 'name', { value: wire.name, writable: true, configurable: true, enumerable: false });
  }
  Object.defineProperty(error, 'stack', { value: wire.stack, writable: true, configurable: true, enumerable: false });
  if (wire.cause) {
    const cause = 'value' in wire.cause ? wire.cause.value : fromWire(wire.cause, rebuild);
    Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
  }
  // defineProperty, not assignment: a key such as `__proto__` stays an own property.
  for (const key of Object.keys(wire.props)) {
    Object.defineProperty(error, key, { value: wire.props[key], writable: true, configurable: true, enumerable: true });
  }
  return error;
}
