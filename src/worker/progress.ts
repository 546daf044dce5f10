/**
 * Thread side of `context.progress`: coalesces a task's reports so that a task reporting in a tight
 * loop cannot flood the main thread. The latest value wins; at most one is posted per
 * {@link PROGRESS_INTERVAL_MS} (the first one on the next timer turn), and {@link Reporter.end} posts
 * the pending one right before the task's result, so the last value always arrives first.
 */
import { MAX_DEPTH, nestsDeeperThan, tooDeepError } from './clone.ts';

/** The shortest time between two progress posts of one task. */
export const PROGRESS_INTERVAL_MS = 16;

/** Clones a reported value now: the caller may mutate it later, and what cannot be sent throws in the task. */
function snapshot(value: unknown): unknown {
  const type = typeof value;
  if (type !== 'object' && type !== 'function' && type !== 'symbol') return value;
  const copy = structuredClone(value);
  // This thread would send it, and the main thread fail to read it back (the value lost, unseen).
  if (nestsDeeperThan(copy, MAX_DEPTH)) throw new DOMException(tooDeepError('The progress value').message, 'DataCloneError');
  return copy;
}

export class Reporter {
  readonly #post: (value: unknown) => void;
  #value: unknown = undefined;
  #pending = false;
  #ended = false;
  #timer: NodeJS.Timeout | undefined = undefined;
  #lastPost = -Infinity;
  readonly #flush = (): void => {
    this.#timer = undefined;
    this.#send();
  };

  /** @param post posts one value; it must not throw. */
  constructor(post: (value: unknown) => void) {
    this.#post = post;
  }

  /** `context.progress`: keeps `value` as the latest and makes sure a flush is coming. */
  readonly report = (value: unknown): void => {
    const copy = snapshot(value);
    if (this.#ended) return;
    this.#value = copy;
    this.#pending = true;
    if (this.#timer !== undefined) return;
    const wait = this.#lastPost + PROGRESS_INTERVAL_MS - performance.now();
    this.#timer = setTimeout(this.#flush, wait > 0 ? wait : 0);
  };

  /** The task settled: posts the pending value, if any; later reports are dropped. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#send();
  }

  #send(): void {
    if (!this.#pending) return;
    this.#pending = false;
    const value = this.#value;
    this.#value = undefined;
    this.#lastPost = performance.now();
    this.#post(value);
  }
}
