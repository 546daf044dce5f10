/**
 * Flow types: node names, parents and their result types are checked by the compiler. The
 * `expectTypeOf` and `// @ts-expect-error` lines are checked by `tsc --noEmit` (part of `npm test`).
 */
import { expect, expectTypeOf, test } from 'vitest';
import { defineFlow, type FlowReport, type Pool } from '../src/index.ts';
import { makePool } from './helpers.ts';

type Tasks = typeof import('./fixtures/flow.ts');

test('an input builder gets exactly its parents, typed by their tasks\' results, and the flow input', async () => {
  const flow = defineFlow<Tasks, { k: number }>()
    .node('n', { task: 'value', input: (parents, input) => {
      expectTypeOf(parents).toEqualTypeOf<Record<never, never>>();
      expectTypeOf(input).toEqualTypeOf<{ k: number }>();
      return { v: input.k };
    } })
    .node('s', { task: 'none' })
    .node('both', { task: 'sum', after: ['n', 's'], input: (parents) => {
      expectTypeOf(parents).toEqualTypeOf<{ n: number; s: string }>();
      return [parents.n, parents.s.length];
    } });
  const pool = makePool<Tasks>('flow.ts');
  const report = await pool.flow(flow, { k: 2 });
  expectTypeOf(report.results.both).toEqualTypeOf<number>();
  expectTypeOf(report.results.s).toEqualTypeOf<string>();
  expectTypeOf(report.nodes.n.result).toEqualTypeOf<number | undefined>();
  expect(report.results).toEqual({ n: 2, s: 'none', both: 6 });
});

test("results of 'continue' nodes and their descendants are optional; the others are not", () => {
  const flow = defineFlow<Tasks>()
    .node('a', { task: 'value', input: { v: 1 } })
    .node('maybe', { task: 'value', after: ['a'], input: { v: 1 }, onFailure: 'continue' })
    .node('below', { task: 'value', after: ['maybe'], input: { v: 1 } })
    .node('sure', { task: 'value', after: ['a'], input: { v: 1 } });
  type Results = FlowReport<{ a: number; maybe: number; below: number; sure: number }, 'maybe' | 'below'>['results'];
  const _check = (pool: Pool<Tasks>) => pool.flow(flow);
  expectTypeOf<Awaited<ReturnType<typeof _check>>['results']>().toEqualTypeOf<Results>();
  expectTypeOf<Results['a']>().toEqualTypeOf<number>();
  expectTypeOf<Results['maybe']>().toEqualTypeOf<number | undefined>();
  expectTypeOf<Results['below']>().toEqualTypeOf<number | undefined>();
});

test('mistakes do not compile', () => {
  // Never called: these lines exist for tsc, which must report an error on each.
  const mistakes = (pool: Pool<Tasks>) => {
    const base = defineFlow<Tasks>().node('a', { task: 'value', input: { v: 1 } });
    // @ts-expect-error: no task of that name
    base.node('b', { task: 'nope' });
    // @ts-expect-error: a parent that is not a node
    base.node('b', { task: 'value', after: ['ghost'], input: { v: 1 } });
    // @ts-expect-error: a duplicate node name
    base.node('a', { task: 'none' });
    // @ts-expect-error: wrong input for the task
    base.node('b', { task: 'value', input: { v: 'one' } });
    // @ts-expect-error: the input is required for this task
    base.node('b', { task: 'value' });
    // @ts-expect-error: a builder's result must be the task's input
    base.node('b', { task: 'sum', after: ['a'], input: ({ a }) => a });
    // @ts-expect-error: a parent not declared in `after` is not in the builder's argument
    base.node('b', { task: 'sum', input: ({ a }) => [a] });
    // @ts-expect-error: a parent's result has its task's type (a number here)
    base.node('b', { task: 'value', after: ['a'], input: ({ a }) => ({ v: a.length }) });
    // @ts-expect-error: a flow's input is required when its type does not accept undefined
    void pool.flow(defineFlow<Tasks, { k: number }>());
    // @ts-expect-error: a flow over another module
    void pool.flow(defineFlow<typeof import('./fixtures/typed.ts')>());
    // @ts-expect-error: bad flow option
    void pool.flow(base, undefined, { timeout: '1s' });
    // @ts-expect-error: a node's run options do not take a signal (the flow's signal applies)
    base.node('b', { task: 'none', run: { signal: AbortSignal.abort() } });
    // @ts-expect-error: onFailure is 'fail' or 'continue'
    base.node('b', { task: 'none', onFailure: 'ignore' });
  };
  expect(typeof mistakes).toBe('function');
});
