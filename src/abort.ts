/**
 * Signals: one abort listener per signal, however many tasks share it (a request's signal across its
 * sub-tasks, a map's chunks). A listener per task would trip Node's MaxListenersExceededWarning at 11
 * and cost an EventTarget insertion each.
 *
 * Timeouts and cancellation of running work live with the ledger (`task.ts`) and the executor; this
 * file only turns a signal's abort into calls of `onAbort` for each task still carrying it.
 */
/*
 * A signal is read through AbortSignal's and EventTarget's own prototype methods: a real signal may
 * still carry own properties that shadow them (an `aborted` or `reason` getter that throws).
 */
const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;
const reasonGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'reason')!.get!;
const { addEventListener, removeEventListener } = EventTarget.prototype;

/** Whether a real AbortSignal has aborted. */
export function isAborted(signal: AbortSignal): boolean {
  return abortedGetter.call(signal) as boolean;
}

/** A real AbortSignal's reason. */
export function reasonOf(signal: AbortSignal): unknown {
  return reasonGetter.call(signal);
}

/** Calls `listener` once when `signal` aborts. */
export function onAbort(signal: AbortSignal, listener: () => void): void {
  addEventListener.call(signal, 'abort', listener, { once: true });
}

export function offAbort(signal: AbortSignal, listener: () => void): void {
  removeEventListener.call(signal, 'abort', listener);
}

/** What a watched item needs: its signal. */
interface Watched {
  readonly signal: AbortSignal | undefined;
}

export class SignalWatch<T extends Watched> {
  readonly #watched = new WeakMap<AbortSignal, { items: Set<T>; listener: () => void }>();
  readonly #onAbort: (item: T, reason: unknown) => void;

  /** @param onAbort called once per watched item when its signal aborts, with the signal's reason. */
  constructor(onAbort: (item: T, reason: unknown) => void) {
    this.#onAbort = onAbort;
  }

  /** Listens for `item.signal`'s abort. */
  watch(item: T): void {
    const signal = item.signal!;
    let watched = this.#watched.get(signal);
    if (watched === undefined) {
      const items = new Set<T>();
      const listener = (): void => {
        this.#watched.delete(signal);
        const reason = reasonOf(signal);
        for (const each of items) {
          // An event listener that throws would be an uncaught exception: the host's death.
          try {
            this.#onAbort(each, reason);
          } catch {
            // onAbort settles through the ledger, which does not throw; nothing else to tell.
          }
        }
      };
      watched = { items, listener };
      this.#watched.set(signal, watched);
      onAbort(signal, listener);
    }
    watched.items.add(item);
  }

  /** Stops listening for `item`; the signal's listener goes when its last item does. */
  release(item: T): void {
    const signal = item.signal!;
    const watched = this.#watched.get(signal);
    if (watched === undefined || !watched.items.delete(item) || watched.items.size > 0) return;
    this.#watched.delete(signal);
    offAbort(signal, watched.listener);
  }
}
