import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as errors from '../src/errors.ts';
import * as api from '../src/index.ts';

const readmePath = new URL('../README.md', import.meta.url);

/** Every Error subclass src/errors.ts exports. */
const classes = (Object.entries(errors) as Array<[string, unknown]>).filter(
  (entry): entry is [string, new (...args: any[]) => Error] =>
    typeof entry[1] === 'function' && entry[1].prototype instanceof Error,
);

/** One instance of each class, as the pool would make it. */
const samples: Record<string, Error> = {
  TesseraError: new errors.TesseraError(errors.ErrorCodes.QUEUE_FULL, 'base'),
  QueueFullError: new errors.QueueFullError(2),
  PoolClosedError: new errors.PoolClosedError(),
  PoolDestroyedError: new errors.PoolDestroyedError(),
  AbortError: new errors.AbortError('why'),
  TaskTimeoutError: new errors.TaskTimeoutError(10),
  WorkerCrashError: new errors.WorkerCrashError('exit', 3),
  UnknownTaskError: new errors.UnknownTaskError('x', ['a']),
  TaskInputError: new errors.TaskInputError('function'),
  TaskResultError: new errors.TaskResultError(),
  ModuleNotFoundError: new errors.ModuleNotFoundError('/nope.ts'),
  ModuleLoadError: new errors.ModuleLoadError('/bad.ts', new Error('boom')),
  MapItemError: new errors.MapItemError(3, new Error('item failed')),
  PartitionError: new errors.PartitionError('sum', 'split returned 3 parts when asked for at most 2'),
  ImageError: new errors.ImageError(errors.ErrorCodes.IMAGE_CORRUPT, 'corrupt'),
  UnrecoverableError: new errors.UnrecoverableError('no use trying again'),
  PoisonTaskError: new errors.PoisonTaskError('exits', [new errors.WorkerCrashError('exit', 7)], [new errors.WorkerCrashError('exit', 7)]),
  RetryHookError: new errors.RetryHookError('backoff', 'threw', [new Error('task failed')], new Error('hook')),
  SourceError: new errors.SourceError('pool.batch', 3, new Error('disk gone')),
  PipelineStageError: new errors.PipelineStageError(7, 1, 'resize', new RangeError('too big')),
  CronPatternError: new errors.CronPatternError('61 * * * *', 'cannot be read', new RangeError('minute')),
  UnsupportedOptionError: new errors.UnsupportedOptionError('retry.retryOn', 'BullMQ decides retries from `attempts` alone.'),
  JobDataError: new errors.JobDataError('input', 'input.when', 'a Date'),
  JobFailedError: new errors.JobFailedError('7', 'boom'),
  PeerDependencyError: new errors.PeerDependencyError('bullmq'),
  InvalidOptionTypeError: new errors.InvalidOptionTypeError('bad type'),
  InvalidOptionRangeError: new errors.InvalidOptionRangeError('bad range'),
  FlowDefinitionError: new errors.FlowDefinitionError('a cycle', { node: 'a', cycle: ['a', 'b', 'a'] }),
  FlowFailedError: new errors.FlowFailedError('encode', new Error('boom'), { status: 'failed', results: {}, nodes: {}, startedAt: 0, finishedAt: 0, ms: 0 }),
  FlowTimeoutError: new errors.FlowTimeoutError(100),
  FlowInputError: new errors.FlowInputError('resize', new Error('bad')),
};

test('src/errors.ts exports the error classes', () => {
  expect(classes.length).toBeGreaterThanOrEqual(14);
});

test('every error class in src/errors.ts is exported from src/index.ts', () => {
  for (const [name, cls] of classes) expect((api as Record<string, unknown>)[name], name).toBe(cls);
  expect(api.ErrorCodes).toBe(errors.ErrorCodes);
});

test('every code in ErrorCodes is unique, and ErrorCodes is frozen', () => {
  const codes = Object.values(errors.ErrorCodes);
  expect(new Set(codes).size).toBe(codes.length);
  for (const code of codes) expect(code).toMatch(/^TESSERA_[A-Z_]+$/);
  expect(Object.isFrozen(errors.ErrorCodes)).toBe(true);
});

describe('each error class', () => {
  test('has a sample here (add one when adding a class)', () => {
    expect(Object.keys(samples).sort()).toEqual(classes.map(([name]) => name).sort());
  });

  test.each(classes.map(([name]) => name))('%s carries a code from ErrorCodes and a useful name', (name) => {
    const error = samples[name];
    expect(error, `no sample for ${name}`).toBeDefined();
    const code = (error as Error & { code?: unknown }).code;
    expect(Object.values(errors.ErrorCodes)).toContain(code);
    expect(error!.message.length).toBeGreaterThan(0);
    if (name.startsWith('InvalidOption')) {
      expect(error!.name).toBe(error instanceof RangeError ? 'RangeError' : 'TypeError');
    } else {
      expect(error).toBeInstanceOf(errors.TesseraError);
      expect(error!.name).toBe(name);
    }
  });

  test('every code except the base class sample is produced by exactly one class', () => {
    const byCode = new Map<string, string[]>();
    for (const [name, error] of Object.entries(samples)) {
      if (name === 'TesseraError' || name.startsWith('InvalidOption')) continue;
      const code = (error as Error & { code: string }).code;
      byCode.set(code, [...(byCode.get(code) ?? []), name]);
    }
    for (const [code, names] of byCode) expect(names, code).toHaveLength(1);
    // The two option errors share TESSERA_INVALID_OPTION, and ImageError carries each image code;
    // every other code has its class.
    const imageCodes = Object.values(errors.ErrorCodes).filter((code) => code.startsWith('TESSERA_IMAGE_'));
    for (const code of imageCodes) expect(new errors.ImageError(code as errors.ImageErrorCode, 'x')).toMatchObject({ code, name: 'ImageError' });
    const covered = new Set([...byCode.keys(), errors.ErrorCodes.INVALID_OPTION, ...imageCodes]);
    expect([...covered].sort()).toEqual(Object.values(errors.ErrorCodes).sort());
  });
});

test('README.md documents every error code', () => {
  expect(existsSync(readmePath), 'README.md is missing at the repository root').toBe(true);
  const readme = readFileSync(readmePath, 'utf8');
  const missing = Object.values(errors.ErrorCodes).filter((code) => !readme.includes(code));
  expect(missing, `codes missing from README.md: ${missing.join(', ')}`).toEqual([]);
});
