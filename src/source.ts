/**
 * The items of a batch or a pipeline, read one at a time from an array, an iterable or an async
 * iterable. Every read of the caller's value is guarded: whatever the array's getters, the iterator
 * or its steps throw (or an async iterator rejects with) becomes a `SourceError` naming the index.
 */
import { SourceError } from './errors.ts';
import { iterate } from './map.ts';

/** What `next()` answers once the source has no more items. */
export const END: unique symbol = Symbol('end of source');

type Step = unknown;

export class ItemSource {
  /** The array's length; undefined for an iterable, whose length is not known ahead. */
  readonly total: number | undefined;
  readonly #method: 'pool.batch' | 'pool.pipeline';
  readonly #array: readonly unknown[] | undefined;
  readonly #iterator: Iterator<unknown> | AsyncIterator<unknown> | undefined;
  #read = 0;
  #done = false;
  /** An async read that has not answered: closing does not wait on it (it may never answer). */
  #pending = false;

  /** Throws an option error for something that is not iterable, `SourceError` for an array whose length cannot be read. */
  constructor(items: unknown, method: 'pool.batch' | 'pool.pipeline') {
    this.#method = method;
    let isArray: boolean;
    try {
      isArray = Array.isArray(items);
    } catch {
      // A revoked Proxy: iterate() refuses it below.
      isArray = false;
    }
    if (isArray) {
      this.#array = items as readonly unknown[];
      let length: unknown;
      try {
        length = this.#array.length;
      } catch (cause) {
        throw new SourceError(method, 0, cause);
      }
      // A Proxy of an array may answer anything: a length that is no count would read forever.
      if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
        throw new SourceError(method, 0, new TypeError(`the array's length is not a count (${typeof length})`));
      }
      this.total = length;
    } else this.#iterator = iterate(items);
  }

  /** Items read so far. */
  get read(): number {
    return this.#read;
  }

  /** The source said it has no more items (or failed). */
  get done(): boolean {
    return this.#done;
  }

  /** A read is waiting for an async source to answer. */
  get reading(): boolean {
    return this.#pending;
  }

  /**
   * The next item, or {@link END}: at once from an array or a sync iterator, as a promise from an
   * async one. Throws (or rejects with) `SourceError`; one read at a time.
   */
  next(): Step | Promise<Step> {
    const array = this.#array;
    if (array !== undefined) {
      if (this.#read >= this.total!) return this.#end();
      let item: unknown;
      try {
        item = array[this.#read];
      } catch (cause) {
        throw this.#fail(cause);
      }
      this.#read++;
      return item;
    }
    let step: unknown;
    try {
      step = this.#iterator!.next();
      if (typeof (step as Partial<PromiseLike<unknown>> | null | undefined)?.then !== 'function') return this.#take(step as IteratorResult<unknown>);
    } catch (cause) {
      throw this.#fail(cause);
    }
    this.#pending = true;
    return Promise.resolve(step as PromiseLike<IteratorResult<unknown>>).then(
      (answer) => {
        this.#pending = false;
        try {
          return this.#take(answer);
        } catch (cause) {
          throw this.#fail(cause);
        }
      },
      (cause: unknown) => {
        this.#pending = false;
        throw this.#fail(cause);
      },
    );
  }

  /**
   * Tells an iterator that was not read to its end that no more items are wanted (`return()`).
   * Resolves once it has answered, at once when a read is still waiting (an async generator suspended
   * in a read that never answers would hold `return()` forever too). Never rejects.
   */
  close(): Promise<void> {
    if (this.#done || this.#iterator === undefined) return Promise.resolve();
    this.#done = true;
    const iterator = this.#iterator;
    const closed = Promise.resolve()
      .then(() => iterator.return?.())
      .then(
        () => {},
        () => {},
      );
    return this.#pending ? Promise.resolve() : closed;
  }

  #take(step: IteratorResult<unknown>): Step {
    if (step.done) return this.#end();
    this.#read++;
    return step.value;
  }

  #end(): typeof END {
    this.#done = true;
    return END;
  }

  #fail(cause: unknown): SourceError {
    // A source that threw is not read again, nor asked to return().
    this.#done = true;
    return new SourceError(this.#method, this.#read, cause);
  }
}
