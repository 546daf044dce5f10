/**
 * Callbacks across the thread boundary: `proxy(fn)` in a run's input. Main-thread side.
 *
 * `proxy(fn)` returns a marker. `pool.run` looks for markers among the top-level fields of a
 * plain-object input (only once `proxy` has ever been called: a process that never uses callbacks
 * pays one boolean check per run), takes them out of the input, and the task then travels alone
 * with `Flag.Callbacks`. Each time it is sent, {@link openLink} makes a MessageChannel, serves the
 * functions on one port with comlink's `expose`, and the other port goes to the thread in the
 * request's transfer list; there each field becomes an async function (comlink's `wrap`, see
 * `worker/callbacks.ts`). The ledger closes the link when the task settles or goes back to the
 * queue, so no port outlives its run.
 *
 * Contained, as every user value: a callback that throws or rejects (with anything, hostile values
 * included) rejects the awaited call inside the task; comlink turns a value it cannot send back into
 * a `TypeError` there too. A callback still pending when its run settles answers a closed port,
 * which drops the answer.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { expose } from 'comlink';
import { InvalidOptionTypeError, TaskInputError } from './errors.ts';

/** Markers made by {@link proxy}: a WeakSet, so checking a Proxy runs none of its traps. */
const markers = new WeakSet<object>();
let used = false;

/** The caller's functions of one run, by field name. */
export interface Callbacks {
  readonly names: string[];
  readonly fns: Array<(...args: unknown[]) => unknown>;
}

/** A run's open channel: the port to send, and how to close ours. */
export interface Link {
  readonly port: MessagePort;
  close(): void;
}

/**
 * Marks `fn` to be passed to a task as a top-level field of its input: the task receives an async
 * function that calls `fn` on the main thread and resolves with what it returns (or rejects with
 * what it throws). Arguments and results travel by structured clone.
 */
export function proxy<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => Promise<Awaited<R>> {
  if (typeof fn !== 'function') {
    let shown: string;
    try {
      shown = fn === null ? 'null' : typeof fn;
    } catch {
      shown = 'unknown';
    }
    throw new InvalidOptionTypeError(`Expected the argument of \`proxy\` to be a function, got ${shown}`);
  }
  // `fn` is an own enumerable field: a marker nested where pool.run does not look fails to clone
  // (TaskInputError, "function") instead of arriving as an empty object.
  const marker = Object.freeze({ fn });
  markers.add(marker);
  used = true;
  return marker as unknown as (...args: A) => Promise<Awaited<R>>;
}

/** True once `proxy` has been called in this process: until then runs skip the input scan. */
export function callbacksInUse(): boolean {
  return used;
}

/**
 * The input without its proxied top-level fields, and those fields' functions; undefined when it has
 * none (the input is then sent as it is). Reads each field once; a getter or Proxy trap that throws
 * makes a `TaskInputError`, as structured clone's failure would.
 */
export function takeCallbacks(input: unknown): { input: Record<string, unknown>; callbacks: Callbacks } | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  try {
    if (Array.isArray(input)) return undefined;
    const keys = Object.keys(input);
    const values = new Array<unknown>(keys.length);
    let found = false;
    for (let i = 0; i < keys.length; i++) {
      const value = (input as Record<string, unknown>)[keys[i]!];
      values[i] = value;
      if (typeof value === 'object' && value !== null && markers.has(value)) found = true;
    }
    if (!found) return undefined;
    const rest = Object.create(null) as Record<string, unknown>;
    const names: string[] = [];
    const fns: Callbacks['fns'] = [];
    for (let i = 0; i < keys.length; i++) {
      const value = values[i];
      if (typeof value === 'object' && value !== null && markers.has(value)) {
        names.push(keys[i]!);
        fns.push((value as { fn: Callbacks['fns'][number] }).fn);
      } else rest[keys[i]!] = value;
    }
    return { input: rest, callbacks: { names, fns } };
  } catch (cause) {
    throw new TaskInputError('getter or Proxy trap that throws', cause);
  }
}

/** Serves a run's callbacks on a new channel; the returned port goes to the thread. */
export function openLink(callbacks: Callbacks): Link {
  const { port1, port2 } = new MessageChannel();
  // Null prototype: the thread's calls name a field, and nothing else is there to reach.
  const target = Object.create(null) as Record<string, unknown>;
  for (let i = 0; i < callbacks.names.length; i++) target[callbacks.names[i]!] = callbacks.fns[i];
  expose(target, port1);
  // The ledger holds the process open while the run is on a thread; the port never does.
  port1.unref();
  return { port: port2, close: () => port1.close() };
}
