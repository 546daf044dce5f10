import { expect, test } from 'vitest';
import { AbortError, TaskTimeoutError, WorkerCrashError } from '../src/index.ts';
import { SharedLog, makePool, nextTurn, waitForCell } from './helpers.ts';

type Mixed = typeof import('./fixtures/mixed.ts');

test('under a mix of successes, throws, aborts, timeouts and crashes, every accepted task settles exactly once', async () => {
  const pool = makePool<Mixed>('mixed.ts', { maxThreads: 2, minThreads: 2, abortGrace: 5, maxQueue: Infinity });
  await pool.ready();
  const log = new SharedLog(1_000);
  type Kind = 'ok' | 'throw' | 'abort-queued' | 'abort-running' | 'timeout' | 'crash' | 'cooperative-timeout';
  const submitted: Array<{ kind: Kind; id: number; promise: Promise<unknown> }> = [];
  const settlements = new Map<number, number>();

  let id = 0;
  const submit = (kind: Kind, promise: Promise<unknown>, taskId: number) => {
    submitted.push({ kind, id: taskId, promise });
    const count = () => settlements.set(taskId, (settlements.get(taskId) ?? 0) + 1);
    promise.then(count, count);
  };
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 8; i++) {
      const taskId = id++;
      submit('ok', pool.run('count', { log: log.cells, id: taskId }), taskId);
    }
    const throwId = id++;
    submit('throw', pool.run('quota'), throwId);
    const queuedAbort = new AbortController();
    const abortedId = id++;
    submit('abort-queued', pool.run('count', { log: log.cells, id: abortedId }, { signal: queuedAbort.signal }), abortedId);
    queuedAbort.abort();
    const running = new AbortController();
    const hangId = id++;
    const cells = new Int32Array(new SharedArrayBuffer(8));
    submit('abort-running', pool.run('hang', { cells }, { signal: running.signal }), hangId);
    // Abort it once it runs (or even before: either way it must settle once).
    void waitForCell(cells, 0, (v) => v >= 1).then(() => running.abort());
    const timeoutId = id++;
    submit('timeout', pool.run('hang', {}, { timeout: 20 }), timeoutId);
    const coopId = id++;
    submit('cooperative-timeout', pool.run('wait', { cells: new Int32Array(new SharedArrayBuffer(8)) }, { timeout: 10 }), coopId);
    const crashId = id++;
    submit('crash', pool.run('exit', 9), crashId);
  }

  const settled = await Promise.allSettled(submitted.map((s) => s.promise));
  await pool.onIdle();
  await nextTurn();

  // Every accepted task settled, once.
  expect(settlements.size).toBe(submitted.length);
  expect([...settlements.values()].every((n) => n === 1)).toBe(true);
  const stats = pool.stats();
  expect(stats.completed + stats.failed).toBe(submitted.length);
  expect(stats).toMatchObject({ queued: 0, running: 0 });

  // Each settled the way its kind must.
  settled.forEach((outcome, i) => {
    const { kind } = submitted[i]!;
    const reason = outcome.status === 'rejected' ? (outcome.reason as unknown) : undefined;
    switch (kind) {
      case 'ok':
        expect(outcome.status, kind).toBe('fulfilled');
        break;
      case 'throw':
        expect(reason, kind).toMatchObject({ code: 'E_QUOTA' });
        break;
      case 'abort-queued':
      case 'abort-running':
        expect(reason, kind).toBeInstanceOf(AbortError);
        break;
      case 'timeout':
      case 'cooperative-timeout':
        expect(reason, kind).toBeInstanceOf(TaskTimeoutError);
        break;
      case 'crash':
        expect(reason, kind).toBeInstanceOf(WorkerCrashError);
        expect(reason).toMatchObject({ reason: 'exit', exitCode: 9 });
        break;
    }
  });
  expect(stats.completed).toBe(submitted.filter((s) => s.kind === 'ok').length);

  // No task ran twice (crashed threads' neighbours are requeued, never re-run); aborted-while-queued never ran.
  const counts = log.counts();
  for (const s of submitted.filter((t) => t.kind === 'ok')) expect(counts.get(s.id), `task ${s.id}`).toBe(1);
  for (const s of submitted.filter((t) => t.kind === 'abort-queued')) expect(counts.has(s.id)).toBe(false);
  // And the pool still works.
  expect(await pool.run('count', { log: log.cells, id: 10_000 })).toMatchObject({ id: 10_000 });
});
