import type { WireError } from './protocol.ts';

/**
 * Errors cross threads flattened to plain data and are rebuilt on the other side, so `name`,
 * `message`, `stack`, `code`, `cause` and own enumerable properties survive (structured clone keeps
 * only some of these, and piscina drops custom properties: piscina#1143).
 */

const MAX_CAUSE_DEPTH = 8;

/** A value is kept only if structured clone accepts it; otherwise its string form travels. */
function cloneable(value: unknown): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')) return value;
  try {
    return structuredClone(value);
  } catch {
    return String(value);
  }
}

/** Flattens anything thrown into data that structured clone accepts. */
export function toWire(error: unknown, depth = 0): WireError {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: String(error), stack: undefined, props: {}, thrown: { value: cloneable(error) } };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (key === 'cause' || key === 'stack' || key === 'message' || key === 'name') continue;
    props[key] = cloneable((error as unknown as Record<string, unknown>)[key]);
  }
  const wire: { -readonly [K in keyof WireError]: WireError[K] } = {
    name: error.name,
    message: error.message,
    stack: error.stack,
    props,
  };
  if ('cause' in error && error.cause !== undefined) {
    wire.cause =
      error.cause instanceof Error && depth < MAX_CAUSE_DEPTH ? toWire(error.cause, depth + 1) : { value: cloneable(error.cause) };
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

/** Rebuilds an error from its flattened form; built-in names come back as their own class. */
export function fromWire(wire: WireError): unknown {
  if (wire.thrown) return wire.thrown.value;
  const Ctor = builtins[wire.name] ?? Error;
  const error = new Ctor(wire.message) as Error & Record<string, unknown>;
  if (error.name !== wire.name) {
    Object.defineProperty(error, 'name', { value: wire.name, writable: true, configurable: true, enumerable: false });
  }
  Object.defineProperty(error, 'stack', { value: wire.stack, writable: true, configurable: true, enumerable: false });
  if (wire.cause) {
    const cause = 'value' in wire.cause ? wire.cause.value : fromWire(wire.cause);
    Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
  }
  Object.assign(error, wire.props);
  return error;
}
