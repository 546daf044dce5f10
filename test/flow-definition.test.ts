/**
 * A flow's definition is checked before anything runs: unknown parents, duplicates, cycles (named),
 * bad fields and hostile objects are a FlowDefinitionError at once; an unknown task is one when the
 * flow starts, before any node runs.
 */
import { describe, expect, test } from 'vitest';
import { defineFlow, FlowDefinitionError, InvalidOptionTypeError, InvalidOptionRangeError, type LooseFlowNode } from '../src/index.ts';
import { makePool, within } from './helpers.ts';

type Tasks = typeof import('./fixtures/flow.ts');

/** The FlowDefinitionError `define` throws. */
function definitionError(define: () => unknown): FlowDefinitionError {
  try {
    define();
  } catch (error) {
    expect(error).toBeInstanceOf(FlowDefinitionError);
    expect((error as FlowDefinitionError).code).toBe('TESSERA_FLOW_DEFINITION');
    return error as FlowDefinitionError;
  }
  throw new Error('expected a FlowDefinitionError, nothing was thrown');
}

// The untyped form, as a definition read from data would be.
const loose = () => defineFlow<any>();

describe('structure', () => {
  test('an unknown parent names the node and the parent', () => {
    // @ts-expect-error: an unknown parent does not compile either
    const error = definitionError(() => loose().node('a', { task: 'value', after: ['ghost'], input: { v: 1 } }));
    expect(error.node).toBe('a');
    expect(error.message).toMatch(/`ghost`/);
    const fromObject = definitionError(() => loose().nodes({ a: { task: 'value', after: ['ghost'] } }));
    expect(fromObject.node).toBe('a');
  });

  test('a duplicate name', () => {
    const flow = loose().node('a', { task: 'value', input: { v: 1 } });
    // @ts-expect-error: a duplicate name does not compile either
    expect(definitionError(() => flow.node('a', { task: 'none' })).node).toBe('a');
    expect(definitionError(() => flow.nodes({ a: { task: 'none' } })).node).toBe('a');
  });

  test('a cycle is named, first node repeated last', () => {
    const error = definitionError(() =>
      loose().nodes({
        start: { task: 'none' },
        a: { task: 'none', after: ['start', 'c'] },
        b: { task: 'none', after: ['a'] },
        c: { task: 'none', after: ['b'] },
      }),
    );
    expect(error.cycle).toBeDefined();
    const cycle = error.cycle!;
    expect(cycle[0]).toBe(cycle[cycle.length - 1]);
    expect(new Set(cycle.slice(1))).toEqual(new Set(['a', 'b', 'c']));
    expect(error.message).toMatch(/cycle: \w+ -> \w+ -> \w+ -> \w+/);
  });

  test('a node after itself is a cycle of one', () => {
    expect(definitionError(() => loose().nodes({ a: { task: 'none', after: ['a'] } })).cycle).toEqual(['a', 'a']);
    // @ts-expect-error: nor does a node after itself
    expect(definitionError(() => loose().node('a', { task: 'none', after: ['a'] })).cycle).toEqual(['a', 'a']);
  });

  test('nodes given in any order are put parents first, and added to an existing flow', async () => {
    const pool = makePool<Tasks>('flow.ts');
    const flow = defineFlow<Tasks>()
      .node('one', { task: 'value', input: { v: 1 } })
      .nodes({
        total: { task: 'sum', after: ['two', 'one'], input: (p: Record<string, number>) => [p.one, p.two] },
        two: { task: 'value', after: ['one'], input: (p: Record<string, number>) => ({ v: p.one! + 1 }) },
      });
    expect(flow.names).toEqual(['one', 'two', 'total']);
    expect((await within(pool.flow(flow), 10_000, 'the flow')).results).toEqual({ one: 1, two: 2, total: 3 });
  });

  test('a flow is immutable: adding a node returns a new flow', () => {
    const base = defineFlow<Tasks>().node('a', { task: 'none' });
    const more = base.node('b', { task: 'none' });
    expect(base.names).toEqual(['a']);
    expect(more.names).toEqual(['a', 'b']);
  });
});

describe('fields', () => {
  test.each<[string, unknown]>([
    ['a missing task', {}],
    ['an empty task', { task: '' }],
    ['a task that is not a string', { task: 42 }],
    ['after that is not an array', { task: 'none', after: 'a' }],
    ['after with a non-string', { task: 'none', after: [1] }],
    ['a bad onFailure', { task: 'none', onFailure: 'ignore' }],
    ['a spec that is not an object', 'none'],
    ['a null spec', null],
  ])('%s', (_, spec) => {
    expect(definitionError(() => loose().node('n', spec as never)).node).toBe('n');
  });

  test('a bad name', () => {
    definitionError(() => loose().node('', { task: 'none' }));
    definitionError(() => loose().node(7 as never, { task: 'none' }));
  });

  test('run options are checked as pool.run checks them, at definition', () => {
    const error = definitionError(() => loose().node('n', { task: 'none', run: { timeout: -1 } }));
    expect(error.cause).toBeInstanceOf(InvalidOptionRangeError);
    expect(error.message).toMatch(/`timeout`/);
    expect(definitionError(() => loose().node('n', { task: 'none', run: { retry: { attempts: 0 } } })).cause).toBeInstanceOf(InvalidOptionRangeError);
    expect(definitionError(() => loose().node('n', { task: 'none', run: 5 as never })).cause).toBeInstanceOf(InvalidOptionTypeError);
  });
});

describe('hostile definitions never crash', () => {
  const throwing = new Proxy(
    {},
    {
      get() {
        throw new Error('trap');
      },
      ownKeys() {
        throw new Error('trap');
      },
    },
  );

  test('a spec whose every read throws', () => {
    expect(definitionError(() => loose().node('n', throwing as never)).cause).toBeInstanceOf(Error);
  });

  test('a throwing getter on a field', () => {
    const spec = {
      task: 'none',
      get after(): string[] {
        throw new Error('getter');
      },
    };
    expect(definitionError(() => loose().node('n', spec as never)).message).toMatch(/`after` of node `n` threw/);
  });

  test('an `after` Proxy whose reads throw, and a revoked one', () => {
    const after = new Proxy(['a'], {
      get() {
        throw new Error('trap');
      },
    });
    definitionError(() => loose().node('a', { task: 'none' }).node('n', { task: 'none', after: after as never }));
    const revoked = Proxy.revocable([], {});
    revoked.revoke();
    definitionError(() => loose().node('n', { task: 'none', after: revoked.proxy }));
  });

  test('a nodes object whose keys cannot be read, and one whose entries throw', () => {
    definitionError(() => loose().nodes(throwing as never));
    const entries = Object.defineProperty({}, 'n', {
      enumerable: true,
      get() {
        throw new Error('entry');
      },
    }) as Record<string, LooseFlowNode>;
    expect(definitionError(() => loose().nodes(entries)).node).toBe('n');
  });

  test('a run option with a throwing getter', () => {
    const run = {
      get priority(): number {
        throw new Error('getter');
      },
    };
    definitionError(() => loose().node('n', { task: 'none', run }));
  });

  test('null-prototype specs are fine', async () => {
    const pool = makePool<Tasks>('flow.ts');
    const spec = Object.assign(Object.create(null) as object, { task: 'value', input: { v: 3 } }) as LooseFlowNode;
    const nodes = Object.assign(Object.create(null) as object, { n: spec }) as Record<string, LooseFlowNode>;
    expect((await pool.flow(defineFlow<Tasks>().nodes(nodes))).results).toEqual({ n: 3 });
  });
});

describe('checked when the flow starts, before any node runs', () => {
  test('a task the module does not export', async () => {
    const pool = makePool<Tasks>('flow.ts');
    const flow = loose().node('ok', { task: 'value', input: { v: 1 } }).node('bad', { task: 'nope', after: ['ok'] });
    const error = await pool.flow(flow).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FlowDefinitionError);
    expect((error as FlowDefinitionError).node).toBe('bad');
    expect((error as FlowDefinitionError).message).toMatch(/`nope`.*`value`/);
    expect(pool.stats().accepted).toBe(0);
  });

  test('bad flow options reject with the run options\' errors; something else than a flow is refused', async () => {
    const pool = makePool<Tasks>('flow.ts');
    const flow = defineFlow<Tasks>().node('n', { task: 'none' });
    await expect(pool.flow(flow, undefined, { timeout: 0 })).rejects.toBeInstanceOf(InvalidOptionRangeError);
    await expect(pool.flow(flow, undefined, { signal: {} as AbortSignal })).rejects.toBeInstanceOf(InvalidOptionTypeError);
    await expect(pool.flow(flow, undefined, { onEvent: 'log' as never })).rejects.toBeInstanceOf(InvalidOptionTypeError);
    await expect(pool.flow(flow, undefined, 3 as never)).rejects.toBeInstanceOf(InvalidOptionTypeError);
    await expect(pool.flow({} as never)).rejects.toBeInstanceOf(FlowDefinitionError);
    const hostile = new Proxy({}, { get: () => { throw new Error('trap'); } });
    await expect(pool.flow(flow, undefined, hostile)).rejects.toBeInstanceOf(InvalidOptionTypeError);
    expect(pool.stats().accepted).toBe(0);
  });

  test('a module that fails to load rejects the flow with ModuleLoadError', async () => {
    const pool = makePool<any>('throws-at-import.ts');
    await expect(pool.flow(loose().node('n', { task: 'none' }))).rejects.toMatchObject({ code: 'TESSERA_MODULE_LOAD' });
  });
});
