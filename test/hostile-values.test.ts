/**
 * Issue 7: hostile values everywhere the main thread touches a user's value. Inputs, abort reasons,
 * thrown values and results that cannot be cloned or even read; task names and options whose
 * getters throw; a module whose namespace is a thenable. Whatever they do, `run` never throws, every
 * run settles once with a typed error or its result, batch-mates are untouched, no task runs twice,
 * and the host process sees no unhandled rejection or uncaught exception (the afterEach in
 * helpers.ts fails a test that lets one escape).
 */
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  createPool,
  PoolDestroyedError,
  TaskInputError,
  TaskResultError,
  TesseraError,
  WorkerCrashError,
  type Pool,
} from '../src/index.ts';
import type * as Hostile from './fixtures/hostile-tasks.ts';
import { hostileProxy, type ResultKind, type ThrowKind } from './fixtures/hostile-tasks.ts';
import type * as Then from './fixtures/hostile-then.ts';
import {
  Gate,
  SharedLog,
  allSettledWithin,
  codeOf,
  fixture,
  hostFaults,
  makePool,
  outcome,
  record,
  show,
  track,
  within,
  type Settlement,
} from './helpers.ts';

const HANG = 10_000;


/** `{ a: { a: { … } } }`, `depth` levels deep. */
function deep(depth: number): object {
  const root: { a?: object } = {};
  let node = root;
  for (let i = 0; i < depth; i++) {
    const next = {};
    node.a = next;
    node = next;
  }
  return root;
}

/** A typed error: a TesseraError, or a TypeError/RangeError with code TESSERA_INVALID_OPTION. */
function isTyped(error: unknown): boolean {
  if (error instanceof TesseraError) return true;
  return (error instanceof TypeError || error instanceof RangeError) && codeOf(error) === 'TESSERA_INVALID_OPTION';
}

async function consume(iterable: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

/** Submits 100 tiny `count` runs at once with `bad` in the middle; returns them all. */
function batchAround(pool: Pool<typeof Hostile>, log: SharedLog, bad: () => Promise<unknown>, at = 50, total = 100): Settlement[] {
  return Array.from({ length: total }, (_, id) => record(id === at ? bad() : pool.run('count', { log: log.cells, id })));
}

function expectNeighboursFine(runs: readonly Settlement[], log: SharedLog, skip: ReadonlySet<number>): void {
  runs.forEach((s, id) => {
    if (skip.has(id)) return;
    expect(s.status, `neighbour ${id}: ${show(s.reason)}`).toBe('fulfilled');
    expect((s.value as { id: number }).id).toBe(id);
  });
  const counts = log.counts();
  for (let id = 0; id < runs.length; id++) if (!skip.has(id)) expect(counts.get(id), `runs of task ${id}`).toBe(1);
}

// -------------------------------------------------------------------------------------------------
describe('5. inputs that cannot be cloned', () => {
  const inputs: Array<{ label: string; make: () => unknown }> = [
    {
      label: 'an object with a throwing getter',
      make: () => ({
        ok: 1,
        get bad(): number {
          throw new Error('input getter!');
        },
      }),
    },
    { label: 'a Proxy whose traps throw', make: () => hostileProxy() },
    { label: 'a Proxy nested in plain data', make: () => ({ list: [1, { inner: hostileProxy() }] }) },
    { label: 'a 20,000-deep nesting', make: () => deep(20_000) },
  ];

  it.each(inputs)('$label: rejects with TaskInputError alone and among 100 batch-mates; the host survives', async ({ make }) => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts');
    await pool.ready();
    // Alone, on an idle pool (straight to a thread).
    const alone = await outcome(() => pool.run('echo', make()), 'the run with the bad input');
    expect(alone.reason, show(alone.reason)).toBeInstanceOf(TaskInputError);
    expect(alone.reason).toMatchObject({ code: 'TESSERA_TASK_INPUT', name: 'TaskInputError' });
    expect(typeof (alone.reason as TaskInputError).valueType).toBe('string');

    // In the middle of 100 tiny runs submitted at once (they travel in batches).
    const log = new SharedLog(200);
    const runs = batchAround(pool, log, () => pool.run('count', make() as never));
    await allSettledWithin(
      runs.map((r) => r.promise),
      HANG,
      'the batch',
    );
    expect(runs[50]!.reason, show(runs[50]!.reason)).toBeInstanceOf(TaskInputError);
    expectNeighboursFine(runs, log, new Set([50]));
    expect(log.counts().has(50)).toBe(false);
    expect(hostFaults()).toEqual([]);
    expect(await pool.run('echo', 'still fine')).toBe('still fine');
  });
});

// -------------------------------------------------------------------------------------------------
describe('6. abort reasons that cannot be cloned or stringified', () => {
  const reasons: Array<{ label: string; make: () => unknown }> = [
    {
      label: 'Object.create(null) holding a function',
      make: () => {
        const reason = Object.create(null) as Record<string, unknown>;
        reason.callback = () => 1;
        return reason;
      },
    },
    { label: 'a Proxy whose traps throw', make: () => hostileProxy() },
  ];

  it.each(reasons)('$label, aborting a running task: AbortError carrying it; the hung thread is replaced; the host survives', async ({ make }) => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts', { abortGrace: 20 });
    const before = await pool.run('threadOf');
    const gate = new Gate();
    const controller = new AbortController();
    const reason = make();
    const running = pool.run('hang', { cells: gate.cells }, { signal: controller.signal });
    await within(gate.started(), HANG, 'the hang to start');
    controller.abort(reason);
    const error = await within(
      running.catch((e: unknown) => e),
      HANG,
      'the aborted run',
    );
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).reason).toBe(reason);
    // The thread spun in `while (true)`: a later run can only succeed on a replacement.
    const after = await within(pool.run('threadOf'), HANG, 'a run after the abort');
    expect(after).not.toBe(before);
    expect(await pool.run('echo', 'next')).toBe('next');
    expect(hostFaults()).toEqual([]);
  });

  it.each(reasons)('$label, aborting a cooperative task: AbortError carrying it; the host survives', async ({ make }) => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts', { abortGrace: 2_000 });
    const cells = new Int32Array(new SharedArrayBuffer(8));
    const controller = new AbortController();
    const reason = make();
    const waiting = pool.run('wait', { cells }, { signal: controller.signal });
    await within(
      (async () => {
        while (Atomics.load(cells, 0) === 0) await new Promise((resolve) => setImmediate(resolve));
      })(),
      HANG,
      'the task to start',
    );
    controller.abort(reason);
    const error = await within(
      waiting.catch((e: unknown) => e),
      HANG,
      'the aborted run',
    );
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).reason).toBe(reason);
    expect(await within(pool.run('echo', 'next'), HANG, 'a later run')).toBe('next');
    expect(hostFaults()).toEqual([]);
  });

  it.each(reasons)('$label, aborting a queued task: AbortError carrying it', async ({ make }) => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts', { abortGrace: 20 });
    const gate = new Gate();
    const blocked = pool.run('block', { cells: gate.cells, value: 'done' });
    await gate.started();
    const controller = new AbortController();
    const reason = make();
    const queued = pool.run('echo', 1, { signal: controller.signal });
    controller.abort(reason);
    const error = await within(
      queued.catch((e: unknown) => e),
      HANG,
      'the aborted run',
    );
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).reason).toBe(reason);
    gate.open();
    expect(await blocked).toBe('done');
    expect(hostFaults()).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------------
describe('7. thrown values and results that cannot be flattened', () => {
  const throwKinds: ThrowKind[] = ['null-proto', 'null-proto-fn', 'getter-prop', 'cause-getter', 'message-getter', 'proxy', 'proxy-error'];

  /** What the rebuilt rejection must look like, beyond "not a crash". */
  function expectRebuilt(kind: ThrowKind, reason: unknown): void {
    expect(reason, `${kind}: ${show(reason)}`).not.toBeInstanceOf(WorkerCrashError);
    if (reason instanceof TesseraError) expect(reason.code, `${kind}: ${show(reason)}`).toBe('TESSERA_TASK_RESULT');
    switch (kind) {
      case 'null-proto':
        expect(reason).toMatchObject({ code: 'E_NULL', detail: 7 });
        break;
      case 'getter-prop':
        expect(reason).toBeInstanceOf(Error);
        expect(reason).toMatchObject({ message: 'getter prop', code: 'E_GETTER' });
        break;
      case 'cause-getter':
        expect(reason).toBeInstanceOf(Error);
        expect(reason).toMatchObject({ message: 'cause getter', code: 'E_CAUSE_GETTER' });
        break;
      case 'message-getter':
        expect(reason).toBeInstanceOf(Error);
        expect(reason).toMatchObject({ code: 'E_MESSAGE_GETTER' });
        break;
      default:
        expect(reason).toBeDefined();
    }
  }

  it.each(throwKinds)('a task that throws %s: rejects with its best rebuild, never a crash; 300 batch-mates resolve; none runs twice', async (kind) => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts');
    await pool.ready();
    const log = new SharedLog(400);
    const alone = await outcome(() => pool.run('throwKind', { log: log.cells, id: 1_000, kind }), 'a lone throw');
    expect(alone.status).toBe('rejected');
    expectRebuilt(kind, alone.reason);
    const lateAlone = await outcome(() => pool.run('rejectKind', { log: log.cells, id: 1_001, kind }), 'a lone async rejection');
    expect(lateAlone.status).toBe('rejected');
    expectRebuilt(kind, lateAlone.reason);

    // Hundreds of tiny runs at once, hostile throws among them (sync and async).
    const hostileAt = new Map<number, 'throwKind' | 'rejectKind'>([
      [0, 'throwKind'],
      [97, 'throwKind'],
      [150, 'rejectKind'],
      [151, 'throwKind'],
      [299, 'rejectKind'],
    ]);
    const runs = Array.from({ length: 300 }, (_, id) => {
      const task = hostileAt.get(id);
      return record(task ? pool.run(task, { log: log.cells, id, kind }) : pool.run('count', { log: log.cells, id }));
    });
    await allSettledWithin(
      runs.map((r) => r.promise),
      HANG,
      'the batch',
    );
    for (const id of hostileAt.keys()) {
      expect(runs[id]!.status).toBe('rejected');
      expectRebuilt(kind, runs[id]!.reason);
    }
    expectNeighboursFine(runs, log, new Set(hostileAt.keys()));
    // The hostile tasks ran once each too.
    for (const id of [...hostileAt.keys(), 1_000, 1_001]) expect(log.counts().get(id), `runs of ${id}`).toBe(1);
    expect(hostFaults()).toEqual([]);
    expect(await pool.run('echo', 'alive')).toBe('alive');
  });

  const resultKinds: ResultKind[] = ['getter', 'nested-getter', 'proxy', 'null-proto-fn'];

  it.each(resultKinds)('a task that returns %s: rejects with TaskResultError; 300 batch-mates resolve; none runs twice', async (kind) => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts');
    await pool.ready();
    const log = new SharedLog(400);
    const alone = await outcome(() => pool.run('returnKind', { log: log.cells, id: 1_000, kind }), 'a lone bad result');
    expect(alone.reason, show(alone.reason)).toBeInstanceOf(TaskResultError);
    expect(alone.reason).toMatchObject({ code: 'TESSERA_TASK_RESULT' });

    const hostileAt = new Set([0, 97, 150, 151, 299]);
    const runs = Array.from({ length: 300 }, (_, id) =>
      record(hostileAt.has(id) ? pool.run('returnKind', { log: log.cells, id, kind }) : pool.run('count', { log: log.cells, id })),
    );
    await allSettledWithin(
      runs.map((r) => r.promise),
      HANG,
      'the batch',
    );
    for (const id of hostileAt) expect(runs[id]!.reason, `${id}: ${show(runs[id]!.reason)}`).toBeInstanceOf(TaskResultError);
    expectNeighboursFine(runs, log, hostileAt);
    for (const id of [...hostileAt, 1_000]) expect(log.counts().get(id), `runs of ${id}`).toBe(1);
    expect(hostFaults()).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------------
describe('8. a task module that exports a function named `then`', () => {
  it('ready() resolves with its names, run("then") runs it, the other tasks run; nothing hangs', async () => {
    const pool: Pool<typeof Then> = makePool('hostile-then.ts');
    // Submitted before the module is known to have loaded...
    const early = record(pool.run('echo', 'early'));
    const earlyThen = record(pool.run('then', 1));
    const names = await within(pool.ready(), HANG, 'ready()');
    expect([...names].sort()).toEqual(['echo', 'then']);
    await allSettledWithin([early.promise, earlyThen.promise], HANG, 'the early runs');
    expect(early.value).toBe('early');
    expect(earlyThen.value).toBe(2);
    // ...and after.
    expect(await within(pool.run('then', 41), HANG, 'run("then")')).toBe(42);
    expect(await within(pool.run('echo', { x: 1 }), HANG, 'run("echo")')).toEqual({ x: 1 });
  });
});

// -------------------------------------------------------------------------------------------------
describe('hostile task names', () => {
  const names: Array<{ label: string; make: () => unknown }> = [
    {
      label: 'an object whose toString throws',
      make: () => ({
        toString() {
          throw new Error('toString!');
        },
      }),
    },
    {
      label: 'an object whose Symbol.toPrimitive throws',
      make: () => ({
        [Symbol.toPrimitive]() {
          throw new Error('toPrimitive!');
        },
      }),
    },
    { label: 'a Proxy whose traps throw', make: () => hostileProxy() },
    { label: 'a symbol', make: () => Symbol('task') },
    { label: 'a number', make: () => 42 },
    { label: 'null', make: () => null },
    { label: 'undefined', make: () => undefined },
  ];
  const allowed = ['TESSERA_UNKNOWN_TASK', 'TESSERA_INVALID_OPTION'];

  it.each(names)('$label: run and map reject with a typed error, before and after ready(); never throw', async ({ make }) => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts');
    for (const phase of ['before ready()', 'after ready()']) {
      const runs: Array<[string, Settlement]> = [
        [`run ${phase}`, await outcome(() => pool.run(make() as never, 1 as never), `run ${phase}`)],
        [`map of an array ${phase}`, await outcome(() => pool.map(make() as never, [1, 2, 3]), `map of an array ${phase}`)],
        [`map of an iterable ${phase}`, await outcome(() => consume(pool.map(make() as never, new Set([1, 2, 3]))), `map of an iterable ${phase}`)],
      ];
      for (const [what, s] of runs) {
        expect(s.status, `${what}: ${show(s.value)}`).toBe('rejected');
        expect(isTyped(s.reason), `${what}: ${show(s.reason)}`).toBe(true);
        expect(allowed, `${what}: ${show(s.reason)}`).toContain(codeOf(s.reason));
      }
      if (phase === 'before ready()') await within(pool.ready(), HANG, 'ready()');
    }
    expect(await pool.run('echo', 'fine')).toBe('fine');
    expect(hostFaults()).toEqual([]);
  });

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])(
    'a name that is an Object.prototype property (%s) is an unknown task',
    async (name) => {
      const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts');
      for (const phase of ['before ready()', 'after ready()']) {
        const s = await outcome(() => pool.run(name as never, 1 as never), `run ${phase}`);
        expect(s.reason, `${phase}: ${show(s.reason)}`).toMatchObject({ code: 'TESSERA_UNKNOWN_TASK' });
        if (phase === 'before ready()') await within(pool.ready(), HANG, 'ready()');
      }
    },
  );
});

// -------------------------------------------------------------------------------------------------
describe('hostile run and map options', () => {
  const thrower = (field: string): object =>
    Object.defineProperty({}, field, {
      enumerable: true,
      get() {
        throw new Error(`${field} getter!`);
      },
    });

  /** Valid on the first read, then throws: an option must be read once. */
  const secondReadThrows = (field: string, value: unknown): object => {
    let reads = 0;
    return Object.defineProperty({}, field, {
      enumerable: true,
      get() {
        if (reads++ > 0) throw new Error(`${field} read twice`);
        return value;
      },
    });
  };

  /** Valid on the first read, garbage after. */
  const secondReadLies = (field: string, value: unknown, lie: unknown): object => {
    let reads = 0;
    return Object.defineProperty({}, field, {
      enumerable: true,
      get() {
        return reads++ > 0 ? lie : value;
      },
    });
  };

  const options: Array<{ label: string; make: () => unknown; valid?: boolean }> = [
    ...['priority', 'signal', 'timeout', 'transfer'].map((field) => ({ label: `a throwing ${field} getter`, make: () => thrower(field) })),
    { label: 'a Proxy whose traps throw', make: () => hostileProxy() },
    { label: 'a number', make: () => 5 },
    { label: 'a string', make: () => 'fast' },
    { label: 'null', make: () => null },
    { label: 'priority NaN', make: () => ({ priority: Number.NaN }) },
    { label: 'timeout -1', make: () => ({ timeout: -1 }) },
    { label: 'signal that only looks like one', make: () => ({ signal: { aborted: false, addEventListener() {}, removeEventListener() {} } }) },
    ...['priority', 'timeout', 'signal', 'transfer'].map((field) => ({
      label: `a ${field} getter that throws on its second read`,
      make: () => secondReadThrows(field, field === 'priority' ? 1 : field === 'timeout' ? 5_000 : field === 'signal' ? new AbortController().signal : []),
      valid: true,
    })),
    { label: 'a priority getter valid once, NaN after', make: () => secondReadLies('priority', 1, Number.NaN), valid: true },
    { label: 'a timeout getter valid once, -5 after', make: () => secondReadLies('timeout', 5_000, -5), valid: true },
    { label: 'a signal getter valid once, a string after', make: () => secondReadLies('signal', new AbortController().signal, 'nope'), valid: true },
  ];

  it.each(options)('run with options $label: never throws; settles with its result or a typed error', async ({ make, valid }) => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts');
    const s = await outcome(() => pool.run('echo', 'x', make() as never), 'run');
    if (s.status === 'fulfilled') {
      expect(valid, `resolved with options that are not valid`).toBe(true);
      expect(s.value).toBe('x');
    } else {
      expect(isTyped(s.reason), show(s.reason)).toBe(true);
    }
    expect(await pool.run('echo', 'after')).toBe('after');
    expect(hostFaults()).toEqual([]);
  });

  const mapOptions: Array<{ label: string; make: () => unknown }> = [
    ...['chunkSize', 'window', 'priority', 'signal', 'timeout'].map((field) => ({ label: `a throwing ${field} getter`, make: () => thrower(field) })),
    { label: 'a Proxy whose traps throw', make: () => hostileProxy() },
    { label: 'chunkSize 0', make: () => ({ chunkSize: 0 }) },
    { label: 'window NaN', make: () => ({ window: Number.NaN }) },
    { label: 'chunkSize a string', make: () => ({ chunkSize: 'big' }) },
  ];

  it.each(mapOptions)('map with options $label: never throws; the array and the stream forms reject with a typed error', async ({ make }) => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts');
    const array = await outcome(() => pool.map('echo', [1, 2, 3], make() as never), 'map of an array');
    const stream = await outcome(() => consume(pool.map('echo', new Set([1, 2, 3]), make() as never)), 'map of an iterable');
    for (const s of [array, stream]) {
      expect(s.status).toBe('rejected');
      expect(isTyped(s.reason), show(s.reason)).toBe(true);
    }
    expect(await pool.run('echo', 'after')).toBe('after');
    expect(hostFaults()).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------------
describe('hostile signals: throwing getters and listeners', () => {
  function abortedWithThrowingReason(): AbortSignal {
    const controller = new AbortController();
    controller.abort(new Error('original'));
    Object.defineProperty(controller.signal, 'reason', {
      get() {
        throw new Error('reason getter!');
      },
    });
    return controller.signal;
  }

  it('an already-aborted signal whose reason getter throws: run and map reject with a typed error, never throw', async () => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts');
    const runs = [
      await outcome(() => pool.run('echo', 1, { signal: abortedWithThrowingReason() }), 'run'),
      await outcome(() => pool.map('echo', [1, 2], { signal: abortedWithThrowingReason() }), 'map of an array'),
      await outcome(() => consume(pool.map('echo', new Set([1, 2]), { signal: abortedWithThrowingReason() })), 'map of an iterable'),
    ];
    for (const s of runs) {
      expect(s.status).toBe('rejected');
      expect(isTyped(s.reason), show(s.reason)).toBe(true);
    }
    expect(hostFaults()).toEqual([]);
  });

  it('a signal whose `aborted` getter throws: run settles (result or typed error), never throws', async () => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts');
    const signal = new AbortController().signal;
    Object.defineProperty(signal, 'aborted', {
      get() {
        throw new Error('aborted getter!');
      },
    });
    const s = await outcome(() => pool.run('echo', 1, { signal }), 'run');
    if (s.status === 'rejected') expect(isTyped(s.reason), show(s.reason)).toBe(true);
    else expect(s.value).toBe(1);
    expect(hostFaults()).toEqual([]);
  });

  it.each(['running', 'queued'] as const)(
    'a live signal whose reason getter throws, aborting a %s task: AbortError; the host survives; the pool works',
    async (where) => {
      const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts', { abortGrace: 20 });
      const gate = new Gate();
      const controller = new AbortController();
      Object.defineProperty(controller.signal, 'reason', {
        get() {
          throw new Error('reason getter!');
        },
      });
      let blocked: Promise<unknown> | undefined;
      let victim: Promise<unknown>;
      if (where === 'running') {
        victim = pool.run('hang', { cells: gate.cells }, { signal: controller.signal });
        await within(gate.started(), HANG, 'the hang to start');
      } else {
        blocked = pool.run('block', { cells: gate.cells, value: 'done' });
        await within(gate.started(), HANG, 'the blocker to start');
        victim = pool.run('echo', 1, { signal: controller.signal });
      }
      controller.abort(new Error('stop'));
      const error = await within(
        victim.catch((e: unknown) => e),
        HANG,
        'the aborted run',
      );
      expect(error, show(error)).toBeInstanceOf(AbortError);
      gate.open();
      if (blocked) expect(await blocked).toBe('done');
      expect(await within(pool.run('echo', 'next'), HANG, 'a later run')).toBe('next');
      expect(hostFaults()).toEqual([]);
    },
  );

  it('a signal whose own addEventListener/removeEventListener throw: run never throws; an abort while held still settles it', async () => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts', { abortGrace: 20 });
    const gate = new Gate();
    const controller = new AbortController();
    for (const method of ['addEventListener', 'removeEventListener']) {
      Object.defineProperty(controller.signal, method, {
        value: () => {
          throw new Error(`${method}!`);
        },
      });
    }
    let run: Promise<unknown> | undefined;
    expect(() => {
      run = pool.run('block', { cells: gate.cells, value: 'done' }, { signal: controller.signal });
    }).not.toThrow();
    const s = record(run!);
    // Either refused at once with a typed error, or accepted and then held on the gate.
    await within(Promise.race([run!.catch(() => {}), gate.started()]), HANG, 'the run to be refused or start');
    controller.abort(new Error('stop'));
    await within(run!.catch(() => {}), HANG, 'the aborted run');
    if (!(s.reason instanceof AbortError)) expect(isTyped(s.reason), show(s.reason)).toBe(true);
    gate.open();
    expect(await within(pool.run('echo', 'next'), HANG, 'a later run')).toBe('next');
    expect(hostFaults()).toEqual([]);
  });

  it('a queued task whose abort event an earlier listener swallows still rejects with AbortError and never runs', async () => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts');
    const gate = new Gate();
    const blocked = pool.run('block', { cells: gate.cells, value: 'done' });
    await gate.started();
    const controller = new AbortController();
    controller.signal.addEventListener('abort', (event) => event.stopImmediatePropagation());
    const log = new SharedLog();
    const reason = new Error('swallowed');
    const queued = record(pool.run('count', { log: log.cells, id: 1 }, { signal: controller.signal }));
    controller.abort(reason);
    gate.open();
    expect(await blocked).toBe('done');
    await within(queued.promise.catch(() => {}), HANG, 'the aborted run');
    expect(queued.reason, show(queued.reason)).toBeInstanceOf(AbortError);
    expect((queued.reason as AbortError).reason).toBe(reason);
    expect(log.entries()).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------------
describe('waitForCapacity under many producers', () => {
  it('50 concurrent producers, maxQueue 5: every producer gets each of its runs admitted and settled; none waits forever', async () => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts', { maxQueue: 5 });
    await pool.ready();
    const log = new SharedLog(400);
    const perProducer = 4;
    let refused = 0;
    const producer = async (p: number): Promise<number[]> => {
      const ids: number[] = [];
      for (let k = 0; k < perProducer; k++) {
        const id = p * perProducer + k;
        for (;;) {
          await pool.waitForCapacity();
          const result = await pool.run('count', { log: log.cells, id }).then(
            (value) => ({ value }),
            (error: unknown) => ({ error }),
          );
          if ('value' in result) {
            ids.push(result.value.id);
            break;
          }
          // Refused: only QueueFullError is acceptable, and the producer tries again.
          expect(codeOf(result.error), show(result.error)).toBe('TESSERA_QUEUE_FULL');
          refused++;
        }
      }
      return ids;
    };
    const done = await within(Promise.all(Array.from({ length: 50 }, (_, p) => producer(p))), 30_000, 'the 50 producers');
    expect(done.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 50 * perProducer }, (_, i) => i));
    expect([...log.counts().values()].every((n) => n === 1)).toBe(true);
    expect(log.entries()).toHaveLength(50 * perProducer);
    expect(pool.stats()).toMatchObject({ queued: 0, running: 0 });
    // Refusals are allowed (a woken producer may lose its place to a newcomer), never endless.
    expect(refused).toBeLessThan(50 * perProducer * 10);
  });
});

// -------------------------------------------------------------------------------------------------
describe('tasks that post on parentPort', () => {
  type Forger = typeof import('./fixtures/hostile-forger.ts');

  it('junk and malformed notices posted by a task do not hurt the host; its batch-mates resolve', async () => {
    const pool: Pool<Forger> = makePool('hostile-forger.ts', { maxThreads: 2, minThreads: 2 });
    await pool.ready();
    const log = new SharedLog(200);
    const runs = Array.from({ length: 120 }, (_, id) =>
      record<unknown>(id % 30 === 7 ? pool.run('junk') : pool.run('count', { log: log.cells, id })),
    );
    await allSettledWithin(
      runs.map((r) => r.promise),
      HANG,
      'the batch',
    );
    const junkAt = new Set(runs.map((_, id) => id).filter((id) => id % 30 === 7));
    for (const id of junkAt) expect(runs[id]!.value, show(runs[id]!.reason)).toBe('junk posted');
    expectNeighboursFine(runs, log, junkAt);
    expect(hostFaults()).toEqual([]);
    expect(await within(pool.run('echo', 'alive'), HANG, 'a later run')).toBe('alive');
  });

  it('results forged by a task never settle another task: each gets its own result, once', async () => {
    const pool: Pool<Forger> = makePool('hostile-forger.ts', { maxThreads: 2, minThreads: 2 });
    await pool.ready();
    // A task held on another thread while a forger posts results for every batch id around it.
    const gate = new Gate();
    const held = record(pool.run('block', { cells: gate.cells, value: 'real' }));
    await within(gate.started(), HANG, 'the held task to start');
    expect(await within(pool.run('forge', { from: 0, to: 400 }), HANG, 'the forger')).toBe('forged');
    // Queued tasks too, batched behind a forger on the one free thread.
    const log = new SharedLog(200);
    const runs = Array.from({ length: 100 }, (_, id) =>
      record<unknown>(id === 0 ? pool.run('forge', { from: 0, to: 400 }) : pool.run('count', { log: log.cells, id })),
    );
    await allSettledWithin(
      runs.map((r) => r.promise),
      HANG,
      'the batch',
    );
    expect(runs[0]!.value).toBe('forged');
    expectNeighboursFine(runs, log, new Set([0]));
    expect(held.count, 'the held task settled before its gate opened').toBe(0);
    gate.open();
    await within(held.promise.catch(() => {}), HANG, 'the held task');
    expect(held.value, show(held.reason)).toBe('real');
    expect(hostFaults()).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------------
describe('hostile partitioners and re-entrant callers', () => {
  type ChaosModule = typeof import('./fixtures/chaos-tasks.ts');
  type Parts = Array<{ from: number; to: number }>;

  function cut(n: number, count: number): Parts {
    const step = Math.ceil(n / count);
    return Array.from({ length: count }, (_, i) => ({ from: Math.min(n, i * step), to: Math.min(n, (i + 1) * step) }));
  }
  const sum = (results: Array<{ sum: number }>): number => results.reduce((total, r) => total + r.sum, 0);

  function partitioned(split: (input: { n: number }, count: number, pool: () => Pool<ChaosModule>) => unknown, merge: (results: Array<{ sum: number }>, pool: () => Pool<ChaosModule>) => unknown = sum) {
    const holder: { pool?: Pool<ChaosModule> } = {};
    const self = (): Pool<ChaosModule> => holder.pool!;
    const pool = track(
      createPool<ChaosModule>({
        module: fixture('chaos-tasks.ts'),
        maxThreads: 2,
        minThreads: 2,
        partitions: {
          psum: {
            task: 'part',
            split: (input, count) => split(input, count, self) as Parts,
            merge: (results: Array<{ sum: number }>) => merge(results, self) as number,
          },
        },
      }),
    );
    holder.pool = pool;
    return pool;
  }

  const expected = (n: number): number => (n * (n - 1)) / 2;

  it.each([
    {
      label: 'split throws a Proxy whose traps throw',
      split: () => {
        throw hostileProxy();
      },
    },
    { label: 'split returns a Proxy of an array whose traps throw', split: () => hostileProxy([]) },
    {
      label: 'split returns an array whose first element is a throwing getter',
      split: (input: { n: number }, count: number) =>
        Object.defineProperty(cut(input.n, count), 0, {
          get() {
            throw new Error('part getter!');
          },
        }),
    },
    {
      label: 'split returns an array with a hole',
      split: (input: { n: number }, count: number) => {
        const parts: unknown[] = cut(input.n, count);
        delete parts[0];
        return parts;
      },
    },
  ])('$label: the run settles, the host survives, the pool works', async ({ split }) => {
    const pool = partitioned(split);
    await pool.ready();
    const s = await outcome(() => pool.run('psum', { n: 100 }), 'the partitioned run');
    expect(s.count).toBe(1);
    // (instanceof would run a hostile Proxy's getPrototypeOf trap: read the code, which never throws.)
    if (s.status === 'rejected') expect(codeOf(s.reason)).not.toBe('TESSERA_WORKER_CRASH');
    else expect(s.value).toBe(expected(100));
    expect(await within(pool.run('ok', { value: 2 }), HANG, 'a later run')).toBe(4);
    expect(hostFaults()).toEqual([]);
  });

  it('merge throws a Proxy whose traps throw: the run rejects with it, the host survives', async () => {
    const proxy = hostileProxy();
    const pool = partitioned(
      (input, count) => cut(input.n, count),
      () => {
        throw proxy;
      },
    );
    await pool.ready();
    const s = await outcome(() => pool.run('psum', { n: 100 }), 'the partitioned run');
    expect(s.status).toBe('rejected');
    expect(s.reason).toBe(proxy);
    expect(await within(pool.run('ok', { value: 2 }), HANG, 'a later run')).toBe(4);
    expect(hostFaults()).toEqual([]);
  });

  it('split destroys the pool: the run rejects with PoolDestroyedError, everything settles', async () => {
    const pool = partitioned((input, count, self) => {
      void self().destroy();
      return cut(input.n, count);
    });
    await pool.ready();
    const others = Array.from({ length: 20 }, (_, i) => record(pool.run('ok', { value: i })));
    const s = await outcome(() => pool.run('psum', { n: 100 }), 'the partitioned run');
    await allSettledWithin(
      others.map((o) => o.promise),
      HANG,
      'the other runs',
    );
    expect(s.reason, show(s.reason)).toBeInstanceOf(PoolDestroyedError);
    for (const o of others) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(PoolDestroyedError);
    expect(hostFaults()).toEqual([]);
  });

  it('merge closes the pool: the run resolves, close() resolves after it', async () => {
    let closing: Promise<void> | undefined;
    const pool = partitioned(
      (input, count) => cut(input.n, count),
      (results, self) => {
        closing = self().close();
        return sum(results);
      },
    );
    await pool.ready();
    const s = await outcome(() => pool.run('psum', { n: 1_000 }), 'the partitioned run');
    expect(s.value).toBe(expected(1_000));
    await within(closing!, HANG, 'close() called from merge');
    expect(pool.stats()).toMatchObject({ queued: 0, running: 0, threads: 0 });
  });

  it('split runs the partitioned task again (re-entrant, three deep): every run settles with its sum', async () => {
    const inner: Array<Promise<unknown>> = [];
    const pool = partitioned((input, count, self) => {
      if (input.n > 10) inner.push(self().run('psum', { n: Math.floor(input.n / 10) }));
      return cut(input.n, count);
    });
    await pool.ready();
    const s = await outcome(() => pool.run('psum', { n: 5_000 }), 'the outer run');
    expect(s.value).toBe(expected(5_000));
    // Pushed in whatever order the splits ran (a direct run may split inside its caller's split).
    const sums = (await within(Promise.all(inner), HANG, 'the inner runs')) as number[];
    expect(sums.sort((a, b) => a - b)).toEqual([expected(5), expected(50), expected(500)]);
  });

  it('a caller that destroys the pool from a run’s then-callback, mid-batch: every run settles once, with its result or PoolDestroyedError', async () => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts', { maxThreads: 2, minThreads: 2 });
    await pool.ready();
    const log = new SharedLog(400);
    const runs: Settlement[] = [];
    for (let id = 0; id < 300; id++) {
      const promise = pool.run('count', { log: log.cells, id });
      if (id === 40) void promise.then(() => pool.destroy());
      runs.push(record(promise));
    }
    await allSettledWithin(
      runs.map((r) => r.promise),
      HANG,
      'the runs',
    );
    runs.forEach((r, id) => {
      expect(r.count).toBe(1);
      if (r.status === 'fulfilled') expect((r.value as { id: number }).id).toBe(id);
      else expect(r.reason, show(r.reason)).toBeInstanceOf(PoolDestroyedError);
    });
    expect(runs[40]!.status).toBe('fulfilled');
    expect([...log.counts().values()].every((n) => n === 1)).toBe(true);
    expect(hostFaults()).toEqual([]);
  });

  it('a user abort listener that submits and destroys while the pool handles the abort: everything settles', async () => {
    const pool: Pool<typeof Hostile> = makePool('hostile-tasks.ts', { abortGrace: 0 });
    const gate = new Gate();
    const controller = new AbortController();
    const late: Settlement[] = [];
    const victims = [record(pool.run('block', { cells: gate.cells, value: 'x' }, { signal: controller.signal }))];
    await within(gate.started(), HANG, 'the first victim to start');
    victims.push(record(pool.run('echo', 1, { signal: controller.signal })), record(pool.run('echo', 2, { signal: controller.signal })));
    // Registered after the pool's own listener: it runs while the pool is handling the abort.
    controller.signal.addEventListener('abort', () => {
      late.push(record(pool.run('echo', 'during abort')));
      void pool.destroy();
      late.push(record(pool.run('echo', 'after destroy')));
    });
    controller.abort(new Error('stop'));
    await allSettledWithin(
      [...victims, ...late].map((s) => s.promise),
      HANG,
      'every run',
    );
    for (const v of victims) expect(v.reason, show(v.reason)).toBeInstanceOf(AbortError);
    for (const s of late) {
      expect(s.count).toBe(1);
      if (s.status === 'rejected') expect(isTyped(s.reason), show(s.reason)).toBe(true);
    }
    expect(late[1]!.reason).toBeInstanceOf(PoolDestroyedError);
    expect(hostFaults()).toEqual([]);
  });
});
