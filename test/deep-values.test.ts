/**
 * Values nested thousands of levels deep. Structured clone reads a value back recursively on the
 * receiving thread, and where that thread's stack gives out the message is dropped with only a
 * 'messageerror' event: before these checks, such a run never settled and close() never resolved.
 */
import { expect, test } from 'vitest';
import { proxy, TaskInputError, TaskResultError } from '../src/index.ts';
import type * as tasks from './fixtures/deep.ts';
import { makePool } from './helpers.ts';

const DEEP = 3_000;

function nest(depth: number): unknown {
  let value: unknown = { leaf: true };
  for (let i = 0; i < depth; i++) value = { v: value };
  return value;
}

test('a result nested thousands deep rejects with TaskResultError, direct or through piscina; the pool and close() go on', async () => {
  const pool = makePool<typeof tasks>('deep.ts');
  const direct = await pool.run('deepResult', DEEP).catch((error: unknown) => error);
  expect(direct).toBeInstanceOf(TaskResultError);
  expect(String((direct as TaskResultError).cause)).toMatch(/nests deeper than 1000 levels/);
  // With a timeout the run goes through piscina, and its thread announces its start.
  await expect(pool.run('deepResult', DEEP, { timeout: 60_000 })).rejects.toBeInstanceOf(TaskResultError);
  // Shallow enough values still come back whole.
  const ok = (await pool.run('deepResult', 500)) as unknown;
  expect(await pool.run('depthOf', ok)).toBe(500);
  await pool.close();
});

test('batch-mates and map items: only the deep result fails', async () => {
  const pool = makePool<typeof tasks>('deep.ts');
  const runs = [pool.run('echo', 1), pool.run('echo', 2), pool.run('deepResult', DEEP), pool.run('echo', 4)];
  const settled = await Promise.allSettled(runs);
  expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  expect((settled[2] as PromiseRejectedResult).reason).toBeInstanceOf(TaskResultError);
  await expect(pool.map('deepResult', [1, DEEP, 2], { chunkSize: 3 })).rejects.toBeInstanceOf(TaskResultError);
  expect(await pool.run('echo', 'after')).toBe('after');
  await pool.close();
});

test('a thrown error with a deep property keeps its class, message and code; the deep value travels as text', async () => {
  const pool = makePool<typeof tasks>('deep.ts');
  const error = (await pool.run('deepThrow', DEEP).catch((e: unknown) => e)) as Error & { code: string; detail: unknown };
  expect(error).toBeInstanceOf(Error);
  expect(error.message).toBe('deep detail');
  expect(error.code).toBe('E_DEEP');
  expect(error.detail).toBe('[object Object]');
  await pool.close();
});

test('a deep progress value throws DataCloneError in the task, which may go on', async () => {
  const pool = makePool<typeof tasks>('deep.ts');
  const seen: unknown[] = [];
  expect(await pool.run('deepProgress', DEEP, { onProgress: (value) => void seen.push(value) })).toBe('DataCloneError');
  expect(await pool.run('deepProgress', 10, { onProgress: (value) => void seen.push(value) })).toBe('taken');
  expect(seen).toHaveLength(1);
  await pool.close();
});

test('a callback called with a deep argument rejects in the task with DataCloneError, not a call never answered', async () => {
  const pool = makePool<typeof tasks>('deep.ts');
  const calls: unknown[] = [];
  const report = proxy((value: unknown) => void calls.push(value));
  expect(await pool.run('deepCallback', { depth: DEEP, report })).toBe('DataCloneError');
  expect(await pool.run('deepCallback', { depth: 3, report })).toBe('answered');
  expect(calls).toHaveLength(1);
  await pool.close();
});

test('threads with a small stack (resourceLimits.stackSizeMb): an input too deep for them is TaskInputError, alone', async () => {
  const pool = makePool<typeof tasks>('deep.ts', { resourceLimits: { stackSizeMb: 0.5 } });
  const deep = nest(1_000);
  const settled = await Promise.allSettled([pool.run('depthOf', 1), pool.run('depthOf', deep), pool.run('depthOf', nest(20))]);
  expect(settled[0]).toEqual({ status: 'fulfilled', value: 0 });
  expect(settled[2]).toEqual({ status: 'fulfilled', value: 20 });
  const error = (settled[1] as PromiseRejectedResult).reason as TaskInputError;
  expect(error).toBeInstanceOf(TaskInputError);
  expect(error.valueType).toMatch(/^object nested \d+ levels deep$/);
  await pool.close();
});
