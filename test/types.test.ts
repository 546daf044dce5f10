/**
 * Type inference from the worker module. The `expectTypeOf` and `// @ts-expect-error` lines are
 * checked by `tsc --noEmit` (part of `npm test`); the runtime assertions check the same calls on a
 * real pool.
 */
import { describe, expectTypeOf, expect, test } from 'vitest';
import { createPool, proxy, type Pool, type RunOptions, type TaskContext, type TaskInput, type TaskName, type TaskResult } from '../src/index.ts';
import { fixture, track } from './helpers.ts';

type Typed = typeof import('./fixtures/typed.ts');
type Echo = typeof import('./fixtures/echo.ts');

function typedPool(): Pool<Typed> {
  return track(createPool<typeof import('./fixtures/typed.ts')>({ module: fixture('typed.ts'), maxThreads: 1, minThreads: 1 }));
}

describe('names, inputs and results are inferred from the module type', () => {
  test('task names are the exported functions only', () => {
    expectTypeOf<TaskName<Typed>>().toEqualTypeOf<'add' | 'greet' | 'noInput' | 'optional'>();
    expectTypeOf<TaskName<Echo>>().toEqualTypeOf<'echo' | 'add' | 'threadId'>();
  });

  test('inputs are the first parameter, results the awaited return type', () => {
    expectTypeOf<TaskInput<Typed, 'add'>>().toEqualTypeOf<{ a: number; b: number }>();
    expectTypeOf<TaskResult<Typed, 'add'>>().toEqualTypeOf<number>();
    expectTypeOf<TaskResult<Typed, 'greet'>>().toEqualTypeOf<string>();
    expectTypeOf<TaskResult<Echo, 'add'>>().toEqualTypeOf<number>();
  });

  test('run() resolves to the typed result', async () => {
    const pool = typedPool();
    const sum = pool.run('add', { a: 1, b: 2 });
    expectTypeOf(sum).toEqualTypeOf<Promise<number>>();
    const greeting = pool.run('greet', 'ada');
    expectTypeOf(greeting).toEqualTypeOf<Promise<string>>();
    expectTypeOf(pool.run('noInput')).toEqualTypeOf<Promise<number>>();
    expectTypeOf(pool.run('optional')).toEqualTypeOf<Promise<number>>();
    expect(await sum).toBe(3);
    expect(await greeting).toBe('hello ada');
    expect(await pool.run('noInput')).toBe(7);
    expect(await pool.run('optional')).toBe(-1);
    expect(await pool.run('optional', 5, { priority: 1 })).toBe(5);
  });
});

describe('mistakes are compile errors', () => {
  test('a wrong task name, input or option does not compile', () => {
    // Never called: these lines exist for tsc, which must report an error on each.
    const mistakes = (pool: Pool<Typed>) => {
      // @ts-expect-error: no task of that name
      void pool.run('nope', 1);
      // @ts-expect-error: exported, but not a function
      void pool.run('notATask', undefined);
      // @ts-expect-error: wrong input type
      void pool.run('add', { a: '1', b: 2 });
      // @ts-expect-error: missing input field
      void pool.run('add', { a: 1 });
      // @ts-expect-error: input is required for this task
      void pool.run('add');
      // @ts-expect-error: wrong input for greet
      void pool.run('greet', 42);
      // @ts-expect-error: bad run option
      void pool.run('add', { a: 1, b: 2 }, { priority: 'high' });
      // @ts-expect-error: unknown run option
      void pool.run('add', { a: 1, b: 2 }, { retries: 3 });
      // @ts-expect-error: the result is a number, not a string
      const wrong: Promise<string> = pool.run('add', { a: 1, b: 2 });
      void wrong;
    };
    expectTypeOf(mistakes).parameter(0).toEqualTypeOf<Pool<Typed>>();
  });

  test('run options are typed', () => {
    expectTypeOf<RunOptions['priority']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<RunOptions['signal']>().toEqualTypeOf<AbortSignal | undefined>();
    expectTypeOf<RunOptions['timeout']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<NonNullable<RunOptions['onProgress']>>().toBeFunction();
    expectTypeOf<TaskContext['progress']>().toEqualTypeOf<(value: unknown) => void>();
    expectTypeOf(proxy((x: number) => x * 2)).toEqualTypeOf<(x: number) => Promise<number>>();
  });
});

test('without a module type, any name and input are accepted and results are unknown', async () => {
  const pool = track(createPool({ module: fixture('typed.ts'), maxThreads: 1, minThreads: 1 }));
  const result = pool.run('add', { a: 2, b: 2 });
  expectTypeOf(result).toEqualTypeOf<Promise<unknown>>();
  expect(await result).toBe(4);
});
