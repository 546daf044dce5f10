/**
 * What may travel through Redis. BullMQ stores a job's data and its return value with
 * `JSON.stringify`, which does not fail on what it cannot represent: it drops functions and
 * `undefined` fields, turns a Map into `{}`, a Date into a string, NaN into null, and throws on a
 * BigInt or a cycle. A run distributed must give what the same run in process gives, so anything
 * JSON would change is refused instead (`JobDataError`), naming where it sits.
 */
import { JobDataError } from '../errors.ts';
import { describeValue } from '../worker/wire-error.ts';

/** Deeper than this is refused: JSON.parse on the other side would be a stack overflow waiting to happen. */
const MAX_DEPTH = 256;

/**
 * Throws `JobDataError` unless `value` survives a JSON round trip unchanged. `undefined` is accepted
 * at the top only (a task that returns nothing; it arrives as `null`, see the README).
 */
export function checkJsonData(what: 'input' | 'result', value: unknown): void {
  if (value === undefined) return;
  const seen = new Set<object>();
  const visit = (current: unknown, path: string, depth: number): void => {
    // typeof runs no user code, Proxies included.
    switch (typeof current) {
      case 'string':
      case 'boolean':
        return;
      case 'number':
        if (!Number.isFinite(current)) throw new JobDataError(what, path, `${current} (JSON has no such number)`);
        // JSON.stringify writes -0 as 0; structured clone (pool.run) keeps it.
        if (Object.is(current, -0)) throw new JobDataError(what, path, '-0 (JSON writes it as 0)');
        return;
      case 'object':
        break;
      default:
        throw new JobDataError(what, path, current === undefined ? 'undefined (JSON drops it)' : `a ${typeof current}`);
    }
    if (current === null) return;
    if (depth > MAX_DEPTH) throw new JobDataError(what, path, `nested deeper than ${MAX_DEPTH} levels`);
    if (seen.has(current)) throw new JobDataError(what, path, 'a reference back to itself (a cycle)');
    let entries: Array<[string, unknown]>;
    try {
      if (Array.isArray(current)) {
        // JSON writes an array's indices only; a named property (`Object.assign([1], { id })`) is dropped.
        // As many keys as indices means none is named (a hole, one key fewer, is refused below as undefined).
        const keys = Object.keys(current);
        const named = keys.length === current.length ? undefined : keys.find((key) => !/^(?:0|[1-9]\d*)$/.test(key) || Number(key) >= current.length);
        if (named !== undefined) throw new JobDataError(what, `${path}.${named}`, 'a named property of an array (JSON drops it)');
        entries = Array.from(current, (item, index): [string, unknown] => [`${path}[${index}]`, item]);
      } else {
        const proto = Object.getPrototypeOf(current);
        if (proto !== Object.prototype && proto !== null) {
          throw new JobDataError(what, path, `a ${describeValue(proto?.constructor?.name ?? 'class instance')} (not a plain object)`);
        }
        entries = Object.keys(current).map((key): [string, unknown] => [`${path}.${key}`, (current as Record<string, unknown>)[key]]);
      }
    } catch (error) {
      if (error instanceof JobDataError) throw error;
      throw new JobDataError(what, path, 'unreadable (a getter or Proxy trap threw)');
    }
    seen.add(current);
    for (const [childPath, child] of entries) visit(child, childPath, depth + 1);
    seen.delete(current);
  };
  visit(value, what, 0);
}
