/**
 * Recurring runs (`pool.schedule`): a cron pattern fires ordinary runs of one task.
 *
 * croner parses the pattern and computes each fire time in the schedule's time zone (DST included);
 * it never schedules anything here (no function is given to it, so it arms no timer). The waiting is
 * the pool's one {@link DueTimers}, shared with delayed runs: one timer however many schedules, and a
 * clock that tests drive.
 *
 * Each fire is a `pool.run` with the schedule's run options, on the one admission path. Policies:
 * - Overlap, while this schedule's previous run has not settled: `'skip'` drops the fire (counted in
 *   `skipped`), `'queue'` keeps it in the schedule's own line until the run settles (`waiting`), `'allow'`
 *   starts it anyway.
 * - Missed fires: when the process was busy past several fire times (a blocked event loop, a machine
 *   asleep), they fold into one run, for the latest of them; the others are counted in `missed`. Then
 *   the schedule goes on from the first fire time after now.
 * - A failure of a run (or of the input function) goes to `onError`, or without one to a
 *   `TesseraWarning`; it never becomes an unhandled rejection and never stops the schedule. What
 *   `onError` or `onResult` throw (or reject with) becomes a `TesseraWarning` too.
 */
import { Cron } from 'croner';
import { isAborted, offAbort, onAbort, reasonOf } from './abort.ts';
import { callContained } from './contain.ts';
import type { Deadline, DueTimers } from './due-timers.ts';
import { AbortError, CronPatternError } from './errors.ts';
import { checkRunOptions, fail, readOption, type RunOptions, type RunSettings } from './options.ts';
import { describeValue } from './worker/wire-error.ts';

/** What a fire does while the schedule's previous run has not settled. */
export type Overlap = 'skip' | 'queue' | 'allow';

/** Options of `pool.schedule`: the schedule's own, and the run options of every run it fires. */
export interface ScheduleOptions<R = unknown> extends Omit<RunOptions, 'transfer' | 'key' | 'keyTtl' | 'delay' | 'runAt'> {
  /**
   * The IANA time zone the pattern is read in, e.g. `'Europe/Paris'`.
   * @default the process's local time zone
   */
  timezone?: string;
  /**
   * While this schedule's previous run has not settled, a fire is skipped (`'skip'`), waits for it in
   * the schedule's own line (`'queue'`), or runs beside it (`'allow'`).
   * @default 'skip'
   */
  overlap?: Overlap;
  /** Called with each run's result and the fire time it ran for. What it throws is a `TesseraWarning`. */
  onResult?: (result: R, fireDate: Date) => unknown;
  /**
   * Called with each run's error (or what the input function threw) and the fire time. Without it a
   * failure is a `TesseraWarning`. Either way the schedule goes on.
   */
  onError?: (error: unknown, fireDate: Date) => unknown;
  // `signal` (from RunOptions): aborting it stops the schedule, and aborts its runs in flight.
}

/** What `pool.schedule` returns. */
export interface ScheduleHandle {
  /** The cron pattern. */
  readonly pattern: string;
  /** Stops the schedule: nothing fires after, queued fires are dropped; runs already started go on. */
  stop(): void;
  /** When the next fire is due, or `null` once the schedule has stopped (or the pattern has no more). */
  nextRun(): Date | null;
  /** Stopped: by `stop()`, its signal, the pool's `close()` or `destroy()`, or a pattern with no more fire times. */
  readonly stopped: boolean;
  /** Runs started since the schedule was made. */
  readonly runs: number;
  /** Runs started and not settled yet. */
  readonly running: number;
  /** Fires dropped because a run was still in flight (`overlap: 'skip'`). */
  readonly skipped: number;
  /** Fires waiting for the run in flight (`overlap: 'queue'`). */
  readonly waiting: number;
  /** Fire times that passed while the process was busy and were folded into a later fire (at least this many). */
  readonly missed: number;
}

/** A checked {@link ScheduleOptions}. */
export interface ScheduleSettings {
  readonly run: RunSettings;
  readonly timezone: string | undefined;
  readonly overlap: Overlap;
  readonly onResult: ((result: unknown, fireDate: Date) => unknown) | undefined;
  readonly onError: ((error: unknown, fireDate: Date) => unknown) | undefined;
}

/** Checks a schedule's options, each read once; throws the option error. */
export function checkScheduleOptions(options: unknown): ScheduleSettings {
  const run = checkRunOptions(options ?? {});
  const given = (options ?? {}) as object;
  // Read once by checkRunOptions (which refuses `keyTtl` without `key`); the settings say what was given.
  for (const name of ['transfer', 'key', 'delay', 'runAt'] as const) {
    if (run[name] !== undefined) fail(name, `left out: pool.schedule takes no \`${name}\` (each fire is a run of its own)`, run[name], true);
  }
  const timezone = readOption(given, 'timezone');
  const overlap = readOption(given, 'overlap');
  const onResult = readOption(given, 'onResult');
  const onError = readOption(given, 'onError');
  if (timezone !== undefined) checkTimezone(timezone);
  if (overlap !== undefined && overlap !== 'skip' && overlap !== 'queue' && overlap !== 'allow') {
    fail('overlap', "'skip', 'queue' or 'allow'", overlap, true);
  }
  if (onResult !== undefined && typeof onResult !== 'function') fail('onResult', 'a function (result, fireDate)', onResult, true);
  if (onError !== undefined && typeof onError !== 'function') fail('onError', 'a function (error, fireDate)', onError, true);
  return {
    run,
    timezone: timezone as string | undefined,
    overlap: (overlap as Overlap | undefined) ?? 'skip',
    onResult: onResult as ScheduleSettings['onResult'],
    onError: onError as ScheduleSettings['onError'],
  };
}

function checkTimezone(timezone: unknown): void {
  const expected = "an IANA time zone name such as 'Europe/Paris'";
  if (typeof timezone !== 'string') fail('timezone', expected, timezone, true);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    fail('timezone', expected, timezone, false);
  }
}

/** croner's reading of `pattern`, or `CronPatternError`. */
export function parsePattern(pattern: unknown, timezone: string | undefined): Cron {
  if (typeof pattern !== 'string') throw new CronPatternError(describeValue(pattern), `is a ${pattern === null ? 'null' : typeof pattern}, not a string`);
  let cron: Cron;
  try {
    // `paused` and no function: croner only reads the pattern and computes times, it arms no timer.
    cron = new Cron(pattern, { timezone, paused: true });
  } catch (cause) {
    throw new CronPatternError(pattern, `cannot be read: ${cause instanceof Error ? cause.message : describeValue(cause)}`, cause);
  }
  if (cron.getPattern() === undefined) throw new CronPatternError(pattern, 'is a date, not a recurring pattern');
  return cron;
}

/** Fire times counted one by one when the process was busy past many; beyond, the count is a lower bound. */
const MAX_COUNTED_MISSES = 1_000;

/** What a schedule needs from its pool. */
export interface ScheduleHost {
  readonly timers: DueTimers;
  /** Starts one run with the schedule's task and settings; never throws. */
  submit(input: unknown): Promise<unknown>;
  /** The schedule stopped: forget it. */
  stopped(schedule: Schedule): void;
  /** The task's name, for warnings. */
  readonly name: string;
}

export class Schedule implements ScheduleHandle {
  readonly pattern: string;
  runs = 0;
  running = 0;
  skipped = 0;
  missed = 0;
  readonly #cron: Cron;
  readonly #settings: ScheduleSettings;
  readonly #input: unknown;
  readonly #host: ScheduleHost;
  #stopped = false;
  #deadline: Deadline | undefined = undefined;
  /** The fire time the deadline waits for. */
  #next: number | undefined = undefined;
  /** Fires waiting for the run in flight (`overlap: 'queue'`), oldest first. */
  #backlog: Date[] = [];
  readonly #onAbort = (): void => this.stop();

  /** Throws `AbortError` when the settings' signal has already aborted. */
  constructor(cron: Cron, settings: ScheduleSettings, input: unknown, host: ScheduleHost) {
    this.pattern = cron.getPattern()!;
    this.#cron = cron;
    this.#settings = settings;
    this.#input = input;
    this.#host = host;
    const signal = settings.run.signal;
    if (signal !== undefined) {
      if (isAborted(signal)) throw new AbortError(reasonOf(signal));
      onAbort(signal, this.#onAbort);
    }
    this.#arm(host.timers.now());
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  get waiting(): number {
    return this.#backlog.length;
  }

  nextRun(): Date | null {
    return this.#next === undefined ? null : new Date(this.#next);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#deadline !== undefined) this.#host.timers.cancel(this.#deadline);
    this.#deadline = undefined;
    this.#next = undefined;
    this.#backlog = [];
    const signal = this.#settings.run.signal;
    if (signal !== undefined) offAbort(signal, this.#onAbort);
    this.#host.stopped(this);
  }

  /** Waits for the first fire time after `after` (epoch ms); stops when the pattern has none. */
  #arm(after: number): void {
    const next = this.#cron.nextRun(new Date(after));
    if (next === null) {
      this.stop();
      return;
    }
    this.#next = next.getTime();
    this.#deadline = this.#host.timers.add(this.#next, () => this.#fire());
  }

  #fire(): void {
    this.#deadline = undefined;
    const now = this.#host.timers.now();
    const fireAt = this.#latest(this.#next!, now);
    // Armed first, so that nextRun() already answers the next fire while this one's callbacks run.
    this.#arm(now);
    const fireDate = new Date(fireAt);
    if (this.running === 0 || this.#settings.overlap === 'allow') this.#start(fireDate);
    else if (this.#settings.overlap === 'skip') this.skipped++;
    else this.#backlog.push(fireDate);
  }

  /** The latest fire time at or before `now`, from `first` on; the ones passed over count as missed. */
  #latest(first: number, now: number): number {
    const cron = this.#cron;
    let latest = first;
    for (let counted = 0; counted < MAX_COUNTED_MISSES; counted++) {
      const after = cron.nextRun(new Date(latest));
      if (after === null || after.getTime() > now) return latest;
      latest = after.getTime();
      this.missed++;
    }
    // Busy past more fire times than are worth counting: jump to the last one.
    const last = cron.previousRuns(1, new Date(now))[0];
    if (last !== undefined && last.getTime() > latest) {
      latest = last.getTime();
      this.missed++;
    }
    return latest;
  }

  /** Starts a run for `fireDate`. */
  #start(fireDate: Date): void {
    this.runs++;
    let input = this.#input;
    if (typeof input === 'function') {
      try {
        input = (input as (fireDate: Date) => unknown)(fireDate);
      } catch (error) {
        this.#report(error, fireDate);
        this.#startWaiting();
        return;
      }
    }
    this.running++;
    this.#host.submit(input).then(
      (result) => {
        this.running--;
        const onResult = this.#settings.onResult;
        if (onResult !== undefined) this.#call(onResult, 'onResult', result, fireDate);
        this.#startWaiting();
      },
      (error: unknown) => {
        this.running--;
        this.#report(error, fireDate);
        this.#startWaiting();
      },
    );
  }

  /** A run is over: the oldest fire waiting for it starts (`overlap: 'queue'`). */
  #startWaiting(): void {
    const fireDate = this.running === 0 ? this.#backlog.shift() : undefined;
    if (fireDate !== undefined) this.#start(fireDate);
  }

  #report(error: unknown, fireDate: Date): void {
    const onError = this.#settings.onError;
    if (onError !== undefined) this.#call(onError, 'onError', error, fireDate);
    else this.#warn(`A run of \`${this.#host.name}\` fired by schedule \`${this.pattern}\` failed (pass \`onError\` to handle it): ${describeValue(error)}`);
  }

  /** Calls a user callback; what it throws, or a promise it returns rejects with, is a warning. */
  #call(callback: (value: never, fireDate: Date) => unknown, label: string, value: unknown, fireDate: Date): void {
    const warn = (error: unknown): void => this.#warn(`\`${label}\` of schedule \`${this.pattern}\` threw; ignored, the schedule goes on. ${describeValue(error)}`);
    callContained(warn, callback, value as never, fireDate);
  }

  #warn(message: string): void {
    process.emitWarning(message, 'TesseraWarning');
  }
}
