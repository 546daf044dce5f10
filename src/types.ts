import type { RunOptions } from './options.ts';

/** Names of the functions a task module exports. */
export type TaskName<M> = {
  [K in keyof M]: M[K] extends (...args: any[]) => unknown ? K : never;
}[keyof M] &
  string;

/** The input (first parameter) of task `K`. */
export type TaskInput<M, K extends keyof M> = M[K] extends (input: infer I, ...rest: any[]) => unknown ? I : never;

/** What `run` resolves to for task `K`: its return value, awaited. */
export type TaskResult<M, K extends keyof M> = M[K] extends (...args: any[]) => infer R ? Awaited<R> : never;

/** `run`'s arguments after the name: the input may be left out when the task accepts `undefined`. */
export type RunArgs<M, K extends keyof M> =
  undefined extends TaskInput<M, K>
    ? [input?: TaskInput<M, K>, options?: RunOptions]
    : [input: TaskInput<M, K>, options?: RunOptions];

/** The module type used when `createPool` is given none: any name, any input. */
export type AnyTaskModule = Record<string, (input: any, context: any) => unknown>;
