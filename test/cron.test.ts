/**
 * Recurring runs (`pool.schedule`) on real threads, under a wall clock the test moves by hand
 * (test/due-clock.ts): croner computes the fire times, the pool's one timer waits for them, and no
 * test waits for real seconds.
 */
import { describe, expect, expectTypeOf, test } from 'vitest';
import { AbortError, CronPatternError, ErrorCodes, PoolClosedError, UnknownTaskError, type ScheduleOptions } from '../src/index.ts';
import type * as ordering from './fixtures/ordering.ts';
import { useDueClock } from './due-clock.ts';
import { Gate, SharedLog, makePool, nextTurn, until } from './helpers.ts';

type OrderingModule = typeof ordering;

const START = Date.UTC(2024, 2, 8); // 2024-03-08T00:00:00Z, two days before New York's DST starts

/** Collects a schedule's results and errors as its callbacks report them. */
function collector(): { results: unknown[]; errors: Array<[unknown, Date]>; options: Pick<ScheduleOptions, 'onResult' | 'onError'> } {
  const results: unknown[] = [];
  const errors: Array<[unknown, Date]> = [];
  return { results, errors, options: { onResult: (result) => results.push(result), onError: (error, fireDate) => errors.push([error, fireDate]) } };
}

/** TesseraWarnings emitted from now until `stop()`. */
function warnings(): { messages: string[]; stop: () => void } {
  const messages: string[] = [];
  const listener = (warning: Error): void => {
    if (warning.name === 'TesseraWarning') messages.push(warning.message);
  };
  process.on('warning', listener);
  return { messages, stop: () => process.off('warning', listener) };
}

describe('fire times', () => {
  test('runs on each fire time of the pattern in its time zone, across a DST change, with input(fireDate)', async () => {
    const clock = useDueClock(START);
    const pool = makePool<OrderingModule>('ordering.ts');
    const { results, options } = collector();
    const handle = pool.schedule('0 9 * * *', 'echo', (fireDate) => fireDate.toISOString(), { timezone: 'America/New_York', ...options });
    expect(handle.nextRun()?.toISOString()).toBe('2024-03-08T14:00:00.000Z');
    expect(clock.pending).toBe(1);
    clock.advanceTo(Date.UTC(2024, 2, 8, 14));
    await until(() => results.length === 1, 10_000, 'the first fire');
    expect(handle.nextRun()?.toISOString()).toBe('2024-03-09T14:00:00.000Z');
    clock.advanceTo(Date.UTC(2024, 2, 9, 14));
    await until(() => results.length === 2, 10_000, 'the second fire');
    // 9:00 in New York is 13:00 UTC once daylight saving time has begun (2024-03-10).
    expect(handle.nextRun()?.toISOString()).toBe('2024-03-10T13:00:00.000Z');
    clock.advanceTo(Date.UTC(2024, 2, 10, 13));
    await until(() => results.length === 3, 10_000, 'the third fire');
    expect(results).toEqual(['2024-03-08T14:00:00.000Z', '2024-03-09T14:00:00.000Z', '2024-03-10T13:00:00.000Z']);
    expect(handle).toMatchObject({ runs: 3, running: 0, skipped: 0, missed: 0, stopped: false });
    expect(pool.stats()).toMatchObject({ accepted: 3, completed: 3 });
  });

  test('missed fires, while the process was busy, fold into one run for the latest of them', async () => {
    const clock = useDueClock(START);
    const pool = makePool<OrderingModule>('ordering.ts');
    const { results, options } = collector();
    // 'allow': three fires in one advance below must not skip each other.
    const handle = pool.schedule('* * * * * *', 'echo', (fireDate) => fireDate.getTime() - START, { overlap: 'allow', ...options });
    // The event loop is blocked for 10 s: the timer for second 1 fires late, at second 10.
    clock.stall(10_000);
    await until(() => results.length === 1, 10_000, 'the late fire');
    expect(results).toEqual([10_000]);
    expect(handle).toMatchObject({ runs: 1, missed: 9 });
    expect(handle.nextRun()?.getTime()).toBe(START + 11_000);
    // A punctual process misses nothing.
    clock.advance(3_000);
    await until(() => results.length === 4, 10_000, 'three punctual fires');
    expect(results.sort((a, b) => (a as number) - (b as number))).toEqual([10_000, 11_000, 12_000, 13_000]);
    expect(handle.missed).toBe(9);
  });

  test('a pattern with no fire time left stops at once', () => {
    useDueClock(START);
    const pool = makePool<OrderingModule>('ordering.ts');
    const handle = pool.schedule('0 0 0 1 1 * 2020', 'echo', 1);
    expect(handle.stopped).toBe(true);
    expect(handle.nextRun()).toBeNull();
  });
});

describe('overlap', () => {
  test("'skip' (the default) drops a fire while the schedule's run is in flight", async () => {
    const clock = useDueClock(START);
    const pool = makePool<OrderingModule>('ordering.ts');
    const gate = new Gate();
    const { results, options } = collector();
    const handle = pool.schedule('* * * * * *', 'block', { cells: gate.cells, value: 'done' }, options);
    clock.advance(1_000);
    await gate.started(1);
    clock.advance(2_000);
    expect(handle).toMatchObject({ runs: 1, running: 1, skipped: 2 });
    gate.open();
    await until(() => results.length === 1, 10_000, 'the blocked run');
    clock.advance(1_000);
    await until(() => results.length === 2, 10_000, 'the next fire');
    expect(handle).toMatchObject({ runs: 2, running: 0, skipped: 2 });
  });

  test("'queue' keeps fires in the schedule's line and runs them in order, one at a time", async () => {
    const clock = useDueClock(START);
    const pool = makePool<OrderingModule>('ordering.ts', { maxThreads: 2, minThreads: 2 });
    const gate = new Gate();
    const { results, options } = collector();
    const handle = pool.schedule('* * * * * *', 'block', (fireDate) => ({ cells: gate.cells, value: (fireDate.getTime() - START) / 1_000 }), {
      overlap: 'queue',
      ...options,
    });
    clock.advance(1_000);
    await gate.started(1);
    clock.advance(2_000);
    expect(handle).toMatchObject({ runs: 1, running: 1, waiting: 2, skipped: 0 });
    // One at a time although a thread is free.
    expect(pool.stats().running).toBe(1);
    gate.open();
    await until(() => results.length === 3, 10_000, 'the queued fires');
    expect(results).toEqual([1, 2, 3]);
    expect(handle).toMatchObject({ runs: 3, running: 0, waiting: 0 });
  });

  test("'allow' starts a fire beside the run in flight", async () => {
    const clock = useDueClock(START);
    const pool = makePool<OrderingModule>('ordering.ts', { maxThreads: 2, minThreads: 2 });
    const gate = new Gate();
    const { results, options } = collector();
    const handle = pool.schedule('* * * * * *', 'block', { cells: gate.cells, value: 'x' }, { overlap: 'allow', ...options });
    clock.advance(2_000);
    await gate.started(2);
    expect(handle).toMatchObject({ runs: 2, running: 2 });
    gate.open();
    await until(() => results.length === 2, 10_000, 'both runs');
  });
});

describe('errors never escape', () => {
  test('a failing run goes to onError with its fire date, and the schedule goes on', async () => {
    const clock = useDueClock(START);
    const pool = makePool<OrderingModule>('ordering.ts');
    const { errors, options } = collector();
    const handle = pool.schedule('* * * * * *', 'fail', { message: 'upstream down' }, options);
    clock.advance(1_000);
    await until(() => errors.length === 1, 10_000, 'the first failure');
    clock.advance(1_000);
    await until(() => errors.length === 2, 10_000, 'the second failure');
    expect(errors.map(([error, fireDate]) => [(error as Error).message, fireDate.getTime() - START])).toEqual([
      ['upstream down', 1_000],
      ['upstream down', 2_000],
    ]);
    expect(handle.stopped).toBe(false);
  });

  test('without onError a failure is a TesseraWarning; a throwing onError or input function too, never a crash', async () => {
    const clock = useDueClock(START);
    const pool = makePool<OrderingModule>('ordering.ts');
    const seen = warnings();
    try {
      pool.schedule('* * * * * *', 'fail', { message: 'nobody listens' });
      pool.schedule('* * * * * *', 'fail', { message: 'handler breaks' }, {
        onError: () => {
          throw new Error('onError broke');
        },
      });
      const inputErrors: unknown[] = [];
      pool.schedule(
        '* * * * * *',
        'echo',
        () => {
          throw new Error('no input today');
        },
        { onError: (error) => inputErrors.push(error) },
      );
      pool.schedule('* * * * * *', 'echo', 1, { onResult: () => Promise.reject(new Error('async onResult broke')) });
      clock.advance(1_000);
      await until(() => seen.messages.length >= 3 && inputErrors.length === 1, 10_000, 'the warnings');
      await nextTurn();
      expect(seen.messages.some((m) => m.includes('nobody listens') && m.includes('onError'))).toBe(true);
      expect(seen.messages.some((m) => m.includes('onError broke'))).toBe(true);
      expect(seen.messages.some((m) => m.includes('async onResult broke'))).toBe(true);
      expect(String(inputErrors[0])).toMatch(/no input today/);
    } finally {
      seen.stop();
    }
    // test/helpers.ts fails the test on any unhandled rejection or uncaught exception.
  });
});

describe('stopping', () => {
  test('stop() ends the schedule; close() and destroy() stop every schedule; so does its signal', async () => {
    const clock = useDueClock(START);
    const pool = makePool<OrderingModule>('ordering.ts');
    const stopped = pool.schedule('* * * * * *', 'echo', 1);
    stopped.stop();
    expect(stopped).toMatchObject({ stopped: true });
    expect(stopped.nextRun()).toBeNull();
    expect(clock.pending).toBe(0);
    const controller = new AbortController();
    const bySignal = pool.schedule('* * * * * *', 'echo', 1, { signal: controller.signal });
    const byClose = pool.schedule('* * * * * *', 'echo', 1);
    controller.abort();
    expect(bySignal.stopped).toBe(true);
    expect(byClose.stopped).toBe(false);
    await pool.close();
    expect(byClose.stopped).toBe(true);
    clock.advance(5_000);
    await nextTurn();
    expect(pool.stats().accepted).toBe(0);
    expect(() => pool.schedule('* * * * * *', 'echo', 1)).toThrow(PoolClosedError);

    const other = makePool<OrderingModule>('ordering.ts');
    const byDestroy = other.schedule('* * * * * *', 'echo', 1);
    await other.destroy();
    expect(byDestroy.stopped).toBe(true);
    expect(clock.pending).toBe(0);
  });
});

describe('validation', () => {
  test('a bad pattern, option or task name throws a typed error at once', async () => {
    useDueClock(START);
    const pool = makePool<OrderingModule>('ordering.ts');
    for (const pattern of ['61 * * * *', '', 'every minute', '2030-01-01T00:00:00', 5]) {
      const thrown = (() => {
        try {
          pool.schedule(pattern as string, 'echo', 1);
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(thrown, String(pattern)).toBeInstanceOf(CronPatternError);
      expect((thrown as CronPatternError).code).toBe(ErrorCodes.CRON_PATTERN);
    }
    const badOptions: Array<[Record<string, unknown>, RegExp]> = [
      [{ timezone: 'Mars/Olympus_Mons' }, /`timezone`/],
      [{ timezone: 5 }, /`timezone`/],
      [{ overlap: 'sometimes' }, /`overlap`/],
      [{ onError: 'log it' }, /`onError`/],
      [{ onResult: 5 }, /`onResult`/],
      [{ key: 'k' }, /`key` to be left out/],
      [{ delay: 5 }, /`delay` to be left out/],
      [{ runAt: Date.now() }, /`runAt` to be left out/],
      [{ transfer: [] }, /`transfer` to be left out/],
      [{ priority: 'high' }, /`priority`/],
    ];
    for (const [options, message] of badOptions) {
      expect(() => pool.schedule('* * * * *', 'echo', 1, options as ScheduleOptions), JSON.stringify(options)).toThrow(message);
    }
    await pool.ready();
    expect(() => pool.schedule('* * * * *', 'nope' as 'echo', 1)).toThrow(UnknownTaskError);
    const aborted = new AbortController();
    aborted.abort();
    expect(() => pool.schedule('* * * * *', 'echo', 1, { signal: aborted.signal })).toThrow(AbortError);
    expect(pool.stats().accepted).toBe(0);
  });
});

test('typed from the module: the task name, its input (or input function) and the result onResult gets', () => {
  useDueClock(START);
  const pool = makePool<OrderingModule>('ordering.ts');
  const log = new SharedLog();
  const handle = pool.schedule('* * * * *', 'mark', (fireDate) => ({ log: log.cells, id: fireDate.getUTCMinutes() }), {
    onResult: (result) => expectTypeOf(result).toEqualTypeOf<number>(),
  });
  // @ts-expect-error: `mark` takes { log, id }
  const wrong = pool.schedule('* * * * *', 'mark', { wrong: true });
  for (const each of [handle, wrong]) each.stop();
  expect(handle.stopped && wrong.stopped).toBe(true);
});
