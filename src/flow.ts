/**
 * Flows: a DAG of named nodes, each an ordinary `pool.run` of a task whose input is built from its
 * parents' results. A node starts as soon as its last parent completes; independent nodes run in
 * parallel, through the same queue, priorities, retries, rate limits and keys as any run (there is no
 * second dispatch path: a flow only decides *when* to call `pool.run` and *with what*).
 *
 * Definition (`defineFlow<M, I>().node(name, spec)…`) is checked as it is built: an unknown parent, a
 * duplicate name, a bad field, a cycle (`.nodes({...})`, the untyped form) is a `FlowDefinitionError`
 * at once. A `Flow` is immutable: each `.node` returns a new one, so a flow is defined once and run
 * any number of times. Its map of nodes is kept in a topological order (parents first) by
 * construction, so running it needs no sort.
 *
 * Running (`pool.flow(flow, input, options)`): task names are checked against the module once the
 * pool is ready, before any node runs. A node whose `onFailure` is `'fail'` (the default) fails the
 * flow: nodes not started are cancelled, running nodes finish (a failure is not an abort: their
 * results are in the report), then the flow rejects with `FlowFailedError`. `'continue'` skips the
 * failed node's descendants and lets the rest run; the flow then resolves. The flow's `signal` and
 * `timeout` abort running nodes too (their runs carry the flow's signal; without either, no run gets
 * a signal, so nodes keep batching and prefetch).
 */
import type { Pool } from './pool.ts';
import { callContained, isArray } from './contain.ts';
import { AbortError, FlowDefinitionError, FlowFailedError, FlowInputError, FlowTimeoutError, InvalidOptionTypeError } from './errors.ts';
import { checkRunOptions, readOption, type RunOptions } from './options.ts';
import type { TaskInput, TaskName, TaskResult } from './types.ts';
import { describeValue } from './worker/wire-error.ts';

/** What a failed node does to its flow: `'fail'` stops it, `'continue'` skips only the node's descendants. */
export type FlowFailurePolicy = 'fail' | 'continue';

/** The run options a node may set; the flow owns `signal`, and `transfer` cannot outlive one run of a reusable flow. */
export type FlowNodeRunOptions = Pick<RunOptions, 'priority' | 'timeout' | 'retry' | 'key' | 'keyTtl' | 'onProgress'>;

/** A node's input builder: gets exactly its declared parents' results, and the flow's input. */
export type FlowInputBuilder<M, I, R, P extends keyof R, K extends keyof M> = (parents: { [X in P]: R[X] }, input: I) => TaskInput<M, K>;

/** One node of a flow, as given to `.node(name, spec)`. */
export type FlowNode<M, I, R, K extends TaskName<M>, P extends keyof R, F extends FlowFailurePolicy> = {
  /** The task the node runs (an export of the module). */
  readonly task: K;
  /** Nodes whose results this node needs; it starts once all of them completed. */
  readonly after?: readonly P[];
  /** The node's run options (`priority`, `timeout`, `retry`, `key`, `keyTtl`, `onProgress`). */
  readonly run?: FlowNodeRunOptions;
  /**
   * `'fail'`: the node's failure fails the flow. `'continue'`: its descendants are skipped, the rest runs.
   * @default 'fail'
   */
  readonly onFailure?: F;
} & (undefined extends TaskInput<M, K>
  ? {
      /** The task input, or a function of the parents' results and the flow's input that returns it. */
      readonly input?: TaskInput<M, K> | FlowInputBuilder<M, I, R, P, K>;
    }
  : {
      /** The task input, or a function of the parents' results and the flow's input that returns it. */
      readonly input: TaskInput<M, K> | FlowInputBuilder<M, I, R, P, K>;
    });

/** A node of the untyped form, `.nodes({ name: spec })`: for definitions built from data (where cycles can happen). */
export interface LooseFlowNode {
  readonly task: string;
  readonly after?: readonly string[];
  readonly input?: unknown;
  readonly run?: FlowNodeRunOptions;
  readonly onFailure?: FlowFailurePolicy;
}

/** Where a node ended up. */
export type FlowNodeStatus = 'completed' | 'failed' | 'cancelled' | 'skipped';

/** One node's outcome. Times are `Date.now()` milliseconds; `ms` is measured with `performance.now()`. */
export interface FlowNodeReport<T = unknown> {
  readonly task: string;
  /** `completed`, `failed`, `cancelled` (not started when the flow stopped, or aborted by the flow's signal or timeout), or `skipped` (a parent failed with `onFailure: 'continue'`). */
  readonly status: FlowNodeStatus;
  /** The task's result, when `completed`. */
  readonly result?: T;
  /** Why it failed (`failed`), or the abort (`cancelled` while running). */
  readonly error?: unknown;
  /** When the flow called `pool.run` for it (undefined if it never started). */
  readonly startedAt?: number;
  /** When its run settled. */
  readonly finishedAt?: number;
  /** Milliseconds from its `pool.run` to its settling: queue time included. */
  readonly ms?: number;
}

/** Results by node name: required for nodes that cannot be missing, optional for `O` (a `'continue'` node or its descendants). */
export type FlowResults<R, O extends PropertyKey> = { [N in Exclude<keyof R, O>]: R[N] } & { [N in Extract<keyof R, O>]?: R[N] };

/** A flow's outcome: what `pool.flow` resolves with, and the `report` of its errors. */
export interface FlowReport<R = Record<string, unknown>, O extends PropertyKey = keyof R> {
  /** `completed` when no `'fail'` node failed (nodes with `'continue'` may have); else `failed`, or `cancelled` (signal or timeout). */
  readonly status: 'completed' | 'failed' | 'cancelled';
  /** The results of the completed nodes, by node name. */
  readonly results: FlowResults<R, O>;
  /** Every node's outcome, in definition order. */
  readonly nodes: { readonly [N in keyof R]: FlowNodeReport<R[N]> };
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly ms: number;
}

/** A node started (its `pool.run` was called) or finished. */
export type FlowEvent =
  | { readonly type: 'started'; readonly node: string; readonly task: string; readonly at: number }
  | {
      readonly type: 'finished';
      readonly node: string;
      readonly task: string;
      readonly status: 'completed' | 'failed' | 'cancelled';
      readonly at: number;
      readonly ms: number;
      readonly error?: unknown;
    };

/** Options of one `pool.flow`. */
export interface FlowOptions {
  /** Aborting it aborts the running nodes and cancels the rest; the flow rejects with `AbortError`. */
  signal?: AbortSignal;
  /** Milliseconds the whole flow may take, counted from `pool.flow` (queue time included); then as an abort, with `FlowTimeoutError`. */
  timeout?: number;
  /** Called with each node's `started` and `finished` events. What it throws is ignored, reported once per flow as a `TesseraWarning`. */
  onEvent?: (event: FlowEvent) => unknown;
}

/** `pool.flow`'s arguments after the flow: the input may be left out when the flow accepts `undefined`. */
export type FlowArgs<I> = undefined extends I ? [input?: I, options?: FlowOptions] : [input: I, options?: FlowOptions];

/** A node as checked at definition, every field read once (internal: what `Flow` holds). */
export interface NodeDef {
  readonly name: string;
  readonly task: string;
  readonly after: readonly string[];
  readonly input: unknown;
  /** The node's run options, checked; undefined when none. */
  readonly run: FlowNodeRunOptions | undefined;
  readonly onFailure: FlowFailurePolicy;
}

/**
 * A DAG of task runs, built with `defineFlow<M, I>().node(…)`. Immutable and reusable: run it with
 * `pool.flow(flow, input)`. `R` maps node names to result types; `O` names the nodes whose results may
 * be missing from a flow that resolved.
 */
export class Flow<M extends object, I = undefined, R extends object = Record<never, never>, O extends string = never> {
  /** In topological order: each node after its parents. */
  readonly #nodes: ReadonlyMap<string, NodeDef>;

  /** Use `defineFlow`. */
  constructor(nodes: ReadonlyMap<string, NodeDef> = new Map()) {
    this.#nodes = nodes;
  }

  /** The node names, parents before children. */
  get names(): readonly string[] {
    return [...this.#nodes.keys()];
  }

  /**
   * Adds node `name` running `spec.task` after the nodes `spec.after` (which must exist already),
   * and returns the new flow. Throws `FlowDefinitionError` for a duplicate name, an unknown parent or
   * a bad field.
   */
  node<N extends string, K extends TaskName<M>, P extends keyof R & string = never, F extends FlowFailurePolicy = 'fail'>(
    name: N extends keyof R ? never : N,
    spec: FlowNode<M, I, R, K, P, F>,
  ): Flow<M, I, R & { [X in N]: TaskResult<M, K> }, O | (F extends 'continue' ? N : [P & O] extends [never] ? never : N)> {
    if (typeof name !== 'string' || name.length === 0) throw new FlowDefinitionError(`a node name must be a non-empty string, got ${describeValue(name)}`);
    if (this.#nodes.has(name)) throw new FlowDefinitionError(`two nodes are named \`${name}\``, { node: name });
    const def = readNode(name, spec);
    for (const parent of def.after) {
      if (!this.#nodes.has(parent)) {
        const problem = parent === name ? 'runs after itself' : `runs after \`${parent}\`, which is not a node defined before it`;
        throw new FlowDefinitionError(`node \`${name}\` ${problem}`, parent === name ? { node: name, cycle: [name, name] } : { node: name });
      }
    }
    return new Flow(new Map([...this.#nodes, [name, def]]));
  }

  /**
   * Adds many nodes at once, given as an object `{ name: { task, after?, input?, run?, onFailure? } }`:
   * the untyped form, for definitions built from data. Parents may be named in any order; an unknown
   * parent or a cycle is a `FlowDefinitionError` (a cycle's error names it in `cycle`).
   */
  nodes(specs: { readonly [name: string]: LooseFlowNode }): Flow<M, I, R & Record<string, unknown>, O | string> {
    if (typeof specs !== 'object' || specs === null) throw new FlowDefinitionError(`the nodes must be an object of node specs, got ${describeValue(specs)}`);
    let names: string[];
    try {
      names = Object.keys(specs);
    } catch (cause) {
      throw new FlowDefinitionError('reading the nodes object threw', { cause });
    }
    const added = new Map<string, NodeDef>();
    for (const name of names) {
      if (this.#nodes.has(name)) throw new FlowDefinitionError(`two nodes are named \`${name}\``, { node: name });
      let spec: unknown;
      try {
        spec = (specs as Record<string, unknown>)[name];
      } catch (cause) {
        throw new FlowDefinitionError(`reading node \`${name}\` threw`, { node: name, cause });
      }
      added.set(name, readNode(name, spec));
    }
    for (const def of added.values()) {
      for (const parent of def.after) {
        if (!this.#nodes.has(parent) && !added.has(parent)) {
          throw new FlowDefinitionError(`node \`${def.name}\` runs after \`${parent}\`, which is not a node`, { node: def.name });
        }
      }
    }
    return new Flow(new Map([...this.#nodes, ...topological(added)]));
  }

  /** The nodes, for `runFlow`. */
  get definitions(): ReadonlyMap<string, NodeDef> {
    return this.#nodes;
  }

  /**
   * The nodes of `value` when it is a flow made by `defineFlow`, else undefined. Runs no user code:
   * instanceof would run a Proxy's getPrototypeOf trap, and lets a Proxy of a flow through, whose
   * getters then throw (a Proxy has no private fields).
   */
  static definitionsOf(value: unknown): ReadonlyMap<string, NodeDef> | undefined {
    return typeof value === 'object' && value !== null && #nodes in value ? value.#nodes : undefined;
  }
}

/**
 * Starts a flow definition over task module `M` (`typeof import('./tasks.ts')`) whose runs take an
 * input of type `I` (what every input builder gets as its second argument). Add nodes with `.node`.
 */
export function defineFlow<M extends object, I = undefined>(): Flow<M, I> {
  return new Flow<M, I>();
}

const NODE_FIELDS = ['task', 'after', 'input', 'run', 'onFailure'] as const;
const RUN_FIELDS = ['priority', 'timeout', 'retry', 'key', 'keyTtl', 'onProgress'] as const;

/** Reads a node spec once, through guarded reads, and checks every field. */
function readNode(name: string, spec: unknown): NodeDef {
  if (typeof spec !== 'object' || spec === null) throw new FlowDefinitionError(`node \`${name}\` must be an object { task, after?, input?, run?, onFailure? }, got ${describeValue(spec)}`, { node: name });
  const fields: Record<string, unknown> = {};
  for (const field of NODE_FIELDS) {
    try {
      fields[field] = (spec as Record<string, unknown>)[field];
    } catch (cause) {
      throw new FlowDefinitionError(`reading \`${field}\` of node \`${name}\` threw`, { node: name, cause });
    }
  }
  const { task, after, input, run, onFailure } = fields;
  if (typeof task !== 'string' || task.length === 0) throw new FlowDefinitionError(`node \`${name}\` needs a task name (a non-empty string), got ${describeValue(task)}`, { node: name });
  if (onFailure !== undefined && onFailure !== 'fail' && onFailure !== 'continue') {
    throw new FlowDefinitionError(`\`onFailure\` of node \`${name}\` must be 'fail' or 'continue', got ${describeValue(onFailure)}`, { node: name });
  }
  return { name, task, after: readParents(name, after), input, run: readRun(name, run), onFailure: onFailure ?? 'fail' };
}

/** `after`, copied: an array of node names, duplicates dropped. */
function readParents(name: string, after: unknown): readonly string[] {
  if (after === undefined) return [];
  const bad = (cause?: unknown) => new FlowDefinitionError(`\`after\` of node \`${name}\` must be an array of node names`, { node: name, cause });
  if (!isArray(after)) throw bad();
  let parents: unknown[];
  try {
    parents = Array.from(after as unknown[]);
  } catch (cause) {
    // (Not `instanceof` on what was thrown: a thrown Proxy's getPrototypeOf trap could throw again.)
    throw bad(cause);
  }
  for (const parent of parents) if (typeof parent !== 'string') throw bad();
  return [...new Set(parents as string[])];
}

/** A node's run options: only the fields a node may set, each read once, then checked as `pool.run` checks them. */
function readRun(name: string, run: unknown): FlowNodeRunOptions | undefined {
  if (run === undefined) return undefined;
  try {
    if (typeof run !== 'object' || run === null) throw new InvalidOptionTypeError(`Expected \`run\` to be an object, got ${describeValue(run)}`);
    const copy: Record<string, unknown> = {};
    for (const field of RUN_FIELDS) {
      const value = readOption(run, field, `run.${field}`);
      if (value !== undefined) copy[field] = value;
    }
    checkRunOptions(copy);
    return Object.freeze(copy) as FlowNodeRunOptions;
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : describeValue(cause);
    throw new FlowDefinitionError(`\`run\` of node \`${name}\` is wrong (${detail})`, { node: name, cause });
  }
}

/** `added` in an order where each node comes after its parents among them; a cycle throws, named. */
function topological(added: ReadonlyMap<string, NodeDef>): Map<string, NodeDef> {
  const ordered = new Map<string, NodeDef>();
  // Depth-first, with the path on a stack so a back edge names its cycle.
  const onPath = new Map<string, number>();
  const path: string[] = [];
  const visit = (def: NodeDef): void => {
    if (ordered.has(def.name)) return;
    const at = onPath.get(def.name);
    if (at !== undefined) {
      const cycle = [...path.slice(at), def.name];
      throw new FlowDefinitionError(`the nodes form a cycle: ${cycle.join(' -> ')}`, { node: def.name, cycle });
    }
    onPath.set(def.name, path.length);
    path.push(def.name);
    for (const parent of def.after) {
      const parentDef = added.get(parent);
      if (parentDef !== undefined) visit(parentDef);
    }
    path.pop();
    onPath.delete(def.name);
    ordered.set(def.name, def);
  };
  for (const def of added.values()) visit(def);
  return ordered;
}

// ---------------------------------------------------------------------------------------------
// Running a flow.

/** A node's state while its flow runs. */
interface NodeState {
  readonly def: NodeDef;
  readonly parents: NodeState[];
  readonly children: NodeState[];
  /** Parents not completed yet. */
  waiting: number;
  status: FlowNodeStatus | 'pending' | 'running';
  result?: unknown;
  error?: unknown;
  startedAt?: number;
  finishedAt?: number;
  ms?: number;
  t0?: number;
}

/** Checked `pool.flow` options. */
export interface FlowSettings {
  readonly signal: AbortSignal | undefined;
  readonly timeout: number | undefined;
  readonly onEvent: ((event: FlowEvent) => unknown) | undefined;
}

function checkFlowOptions(options: unknown): FlowSettings {
  if (options === undefined) return { signal: undefined, timeout: undefined, onEvent: undefined };
  if (typeof options !== 'object' || options === null) throw new InvalidOptionTypeError(`Expected \`options\` to be an object, got ${describeValue(options)}`);
  const signal = readOption(options, 'signal');
  const timeout = readOption(options, 'timeout');
  const onEvent = readOption(options, 'onEvent');
  // The same checks (and messages) as a run's `signal` and `timeout`.
  const checked = checkRunOptions({ signal, timeout });
  if (onEvent !== undefined && typeof onEvent !== 'function') {
    throw new InvalidOptionTypeError(`Expected \`onEvent\` to be a function, got ${describeValue(onEvent)}`);
  }
  return { signal: checked.signal, timeout: checked.timeout, onEvent: onEvent as FlowSettings['onEvent'] };
}

/**
 * What runs a flow's nodes: a pool, or a BullMQ queue (`queue.flow`). The flow only decides when to
 * call `run` and with what, so the same `Flow` runs on either.
 */
export interface FlowRunner {
  /** The task names, checked before any node runs; `undefined` when the runner cannot list them (a queue: the module is on its consumers). */
  ready(): Promise<readonly string[] | undefined>;
  /** Runs one node: its rejection is the node's failure. `signal` is there only when the flow has a signal or timeout. */
  run(task: string, input: unknown, options: (FlowNodeRunOptions & { signal?: AbortSignal }) | undefined): Promise<unknown>;
}

/** Checks `pool.flow`'s options and flow (at once, as rejections), then returns the checked pair. */
export function checkFlow(flow: unknown, options: unknown, method = 'pool.flow'): { nodes: ReadonlyMap<string, NodeDef>; settings: FlowSettings } {
  const settings = checkFlowOptions(options);
  const nodes = Flow.definitionsOf(flow);
  if (nodes === undefined) throw new FlowDefinitionError(`${method} takes a flow made with defineFlow() (not a Proxy of one), got ${describeValue(flow)}`);
  return { nodes, settings };
}

/** Runs `flow` on `pool` (what `pool.flow` delegates to; `queue.flow` calls `startFlow`). Never throws: every problem is a rejection. */
export async function runFlow(pool: Pool<any>, flow: Flow<any, any, any, any>, input: unknown, options?: FlowOptions): Promise<FlowReport> {
  const { nodes, settings } = checkFlow(flow, options);
  return startFlow(pool, nodes, input, settings);
}

/** Runs checked nodes on `runner`. */
export function startFlow(runner: FlowRunner, nodes: ReadonlyMap<string, NodeDef>, input: unknown, settings: FlowSettings): Promise<FlowReport> {
  return new FlowRun(runner, nodes, input, settings).start();
}

/** One run of a flow: owns its nodes' states, its timer and its abort listener. */
class FlowRun {
  readonly #runner: FlowRunner;
  readonly #input: unknown;
  readonly #settings: FlowSettings;
  readonly #states: NodeState[] = [];
  readonly #startedAt = Date.now();
  readonly #t0 = performance.now();
  /** Only with a flow `signal` or `timeout`: without one, node runs carry no signal (so they keep batching). */
  readonly #controller: AbortController | undefined;
  #running = 0;
  /** Nodes not yet in a final state. */
  #open = 0;
  /** Why the flow stops, once it does: a node's failure, an abort or a timeout. */
  #stop: { readonly kind: 'failed'; readonly node: string; readonly error: unknown } | { readonly kind: 'cancelled'; readonly error: Error } | undefined;
  #warned = false;
  #timer: NodeJS.Timeout | undefined;
  #unlisten: (() => void) | undefined;
  #settle!: { resolve: (report: FlowReport) => void; reject: (error: unknown) => void };

  constructor(runner: FlowRunner, nodes: ReadonlyMap<string, NodeDef>, input: unknown, settings: FlowSettings) {
    this.#runner = runner;
    this.#input = input;
    this.#settings = settings;
    this.#controller = settings.signal !== undefined || settings.timeout !== undefined ? new AbortController() : undefined;
    const byName = new Map<string, NodeState>();
    for (const def of nodes.values()) {
      // Parents come first in the map's order, so they are all there.
      const parents = def.after.map((parent) => byName.get(parent)!);
      const state: NodeState = { def, parents, children: [], waiting: parents.length, status: 'pending' };
      for (const parent of parents) parent.children.push(state);
      byName.set(def.name, state);
      this.#states.push(state);
    }
    this.#open = this.#states.length;
  }

  start(): Promise<FlowReport> {
    const promise = new Promise<FlowReport>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    const { signal, timeout } = this.#settings;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.#cancel(new AbortError(signal.reason));
        return promise;
      }
      const onAbort = () => this.#cancel(new AbortError(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      this.#unlisten = () => signal.removeEventListener('abort', onAbort);
    }
    if (timeout !== undefined) this.#timer = setTimeout(() => this.#cancel(new FlowTimeoutError(timeout)), timeout);
    // Task names are known once a thread has loaded the module: checked before any node runs.
    this.#runner.ready().then(
      (names) => this.#begin(names === undefined ? undefined : new Set(names)),
      (error: unknown) => this.#fail(error),
    );
    return promise;
  }

  #begin(names: ReadonlySet<string> | undefined): void {
    if (this.#stop !== undefined) return;
    for (const { def } of this.#states) {
      if (names !== undefined && !names.has(def.task)) {
        const available = [...names].map((n) => `\`${n}\``).join(', ') || 'no functions';
        this.#fail(new FlowDefinitionError(`node \`${def.name}\` runs task \`${def.task}\`, which the module does not export (it exports ${available})`, { node: def.name }));
        return;
      }
    }
    if (this.#states.length === 0) return this.#finish();
    for (const state of this.#states) if (state.waiting === 0 && state.status === 'pending') this.#launch(state);
  }

  /** Builds the node's input from its parents' results and calls `pool.run`. */
  #launch(state: NodeState): void {
    const { def } = state;
    state.status = 'running';
    state.startedAt = Date.now();
    state.t0 = performance.now();
    this.#running++;
    this.#emit({ type: 'started', node: def.name, task: def.task, at: state.startedAt });
    let input = def.input;
    if (typeof input === 'function') {
      // Null prototype: a node named `__proto__` is an own key like any other.
      const parents: Record<string, unknown> = Object.create(null);
      for (const parent of state.parents) parents[parent.def.name] = parent.result;
      try {
        input = (input as (parents: unknown, input: unknown) => unknown)(parents, this.#input);
      } catch (error) {
        this.#done(state, false, new FlowInputError(def.name, error));
        return;
      }
    }
    const signal = this.#controller?.signal;
    const run = signal === undefined ? def.run : { ...def.run, signal };
    this.#runner.run(def.task, input, run).then(
      (result) => this.#done(state, true, result),
      (error: unknown) => this.#done(state, false, error),
    );
  }

  /** A node's run settled (or its builder threw). */
  #done(state: NodeState, ok: boolean, value: unknown): void {
    this.#running--;
    state.finishedAt = Date.now();
    state.ms = performance.now() - state.t0!;
    const { def } = state;
    if (ok) {
      state.status = 'completed';
      state.result = value;
    } else {
      // A run the flow's own abort stopped is cancelled, not failed.
      state.status = this.#stop?.kind === 'cancelled' && codeOf(value) === 'TESSERA_ABORTED' ? 'cancelled' : 'failed';
      state.error = value;
    }
    this.#open--;
    this.#emit({ type: 'finished', node: def.name, task: def.task, status: state.status, at: state.finishedAt, ms: state.ms, ...(ok ? {} : { error: value }) });
    if (ok) {
      for (const child of state.children) {
        if (--child.waiting === 0 && child.status === 'pending' && this.#stop === undefined) this.#launch(child);
      }
    } else if (state.status === 'failed') {
      if (def.onFailure === 'continue') this.#skip(state);
      else if (this.#stop === undefined) {
        this.#stop = { kind: 'failed', node: def.name, error: value };
        this.#cancelPending();
      }
    }
    if (this.#running === 0 && (this.#open === 0 || this.#stop !== undefined)) this.#finish();
  }

  /** Marks every descendant of a failed `'continue'` node skipped. */
  #skip(state: NodeState): void {
    for (const child of state.children) {
      if (child.status !== 'pending') continue;
      child.status = 'skipped';
      this.#open--;
      this.#skip(child);
    }
  }

  #cancelPending(): void {
    for (const state of this.#states) {
      if (state.status !== 'pending') continue;
      state.status = 'cancelled';
      this.#open--;
    }
  }

  /** The flow's signal aborted or its timeout passed: abort running nodes, cancel the rest. */
  #cancel(error: Error): void {
    if (this.#stop?.kind === 'cancelled' || this.#settled) return;
    this.#stop = { kind: 'cancelled', error };
    this.#cancelPending();
    if (this.#running === 0) return this.#finish();
    // Each running node's run rejects with AbortError at once; the last one finishes the flow.
    this.#controller!.abort(error);
  }

  /** The flow could not start (module load failure, unknown task): nothing ran. */
  #fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#cleanup();
    this.#settle.reject(error);
  }

  #settled = false;

  #finish(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#cleanup();
    const stop = this.#stop;
    const report = this.#report(stop === undefined ? 'completed' : stop.kind);
    if (stop === undefined) this.#settle.resolve(report);
    else if (stop.kind === 'failed') this.#settle.reject(new FlowFailedError(stop.node, stop.error, report));
    else {
      const error = stop.error;
      if (error instanceof FlowTimeoutError) error.report = report;
      // AbortError is shared with `run`: the report rides on it as retries' `attempts` do, not enumerable.
      else Object.defineProperty(error, 'report', { value: report, configurable: true, writable: true });
      this.#settle.reject(error);
    }
  }

  #cleanup(): void {
    clearTimeout(this.#timer);
    this.#unlisten?.();
  }

  #report(status: FlowReport['status']): FlowReport {
    const results: Record<string, unknown> = Object.create(null);
    const nodes: Record<string, FlowNodeReport> = Object.create(null);
    for (const state of this.#states) {
      const { def } = state;
      if (state.status === 'completed') results[def.name] = state.result;
      const report: { -readonly [K in keyof FlowNodeReport]: FlowNodeReport[K] } = { task: def.task, status: state.status as FlowNodeStatus };
      if (state.status === 'completed') report.result = state.result;
      if (state.error !== undefined || state.status === 'failed') report.error = state.error;
      if (state.startedAt !== undefined) {
        report.startedAt = state.startedAt;
        report.finishedAt = state.finishedAt;
        report.ms = state.ms;
      }
      nodes[def.name] = report;
    }
    return { status, results, nodes, startedAt: this.#startedAt, finishedAt: Date.now(), ms: performance.now() - this.#t0 };
  }

  /** Calls `onEvent`, containing what it does: a listener cannot break its flow. */
  #emit(event: FlowEvent): void {
    const onEvent = this.#settings.onEvent;
    if (onEvent === undefined) return;
    callContained(this.#warnOnce, onEvent, event);
  }

  readonly #warnOnce = (error: unknown): void => this.#warn(error);

  #warn(error: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    process.emitWarning(`onEvent of a flow threw; ignored, the flow goes on. ${describeValue(error)}`, 'TesseraWarning');
  }
}

/** The error's `code`, read without trusting the value. */
function codeOf(error: unknown): unknown {
  try {
    return (error as { code?: unknown } | null | undefined)?.code;
  } catch {
    return undefined;
  }
}
