// Data JSON would change, beyond the obvious: -0 (JSON writes 0) and an array's named properties
// (JSON drops them). Refused as input by `add`, and as a result they fail the job at once, each with
// its path, as a Map or NaN is.
import { afterEach, describe, expect, test } from 'vitest';
import { createQueue, startWorker, JobDataError, type Consumer, type DistributedQueue, type JobFailedError } from '../src/distributed/index.ts';
import { checkJsonData } from '../src/distributed/json-data.ts';
import { fixture } from './helpers.ts';
import { queueName, redisAvailable, useRedis } from './redis-harness.ts';
import type * as tasks from './fixtures/distributed-tasks.ts';

test('the check refuses -0 and an array with a named property, saying where', () => {
  const tagged = Object.assign([1, 2], { id: 'dropped' });
  expect(() => checkJsonData('result', -0)).toThrow(expect.objectContaining({ code: 'TESSERA_JOB_DATA', path: 'result' }));
  expect(() => checkJsonData('input', { values: [1, -0] })).toThrow(expect.objectContaining({ path: 'input.values[1]' }));
  expect(() => checkJsonData('result', { list: tagged })).toThrow(expect.objectContaining({ path: 'result.list.id' }));
  expect(() => checkJsonData('input', tagged)).toThrow(/`input.id` is a named property of an array/);
  // What JSON keeps stays accepted.
  expect(() => checkJsonData('input', { zero: 0, list: [0, [1, 2]], empty: [] })).not.toThrow();
});

describe.skipIf(!redisAvailable())('BullMQ data that JSON would change', () => {
  const redis = useRedis();
  const open: Array<Consumer | DistributedQueue<any>> = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((closable) => closable.close()));
  });

  test('add refuses -0 and an array with a named property; nothing reaches Redis', async () => {
    const queue = createQueue<typeof tasks>({ name: queueName('json'), connection: redis.server.connection });
    open.push(queue);
    await expect(queue.add('add', { a: -0, b: 1 })).rejects.toMatchObject({ code: 'TESSERA_JOB_DATA', path: 'input.a' });
    const values = Object.assign([3, 1], { unit: 'ms' });
    await expect(queue.add('summarize', { values, label: 'x' })).rejects.toMatchObject({ path: 'input.values.unit' });
    await expect(queue.run('summarize', { values, label: 'x' })).rejects.toBeInstanceOf(JobDataError);
    expect(await queue.queue.count()).toBe(0);
  });

  test('a result holding -0 fails its job at once with TESSERA_JOB_DATA and the path', async () => {
    const name = queueName('json');
    const queue = createQueue<typeof tasks>({ name, connection: redis.server.connection });
    const consumer = startWorker({ queue: name, connection: redis.server.connection, module: fixture('distributed-tasks.ts'), maxThreads: 1 });
    open.push(consumer, queue);
    // The mean of the smallest negative number and 0 underflows to -0: the input is plain JSON, the result is not.
    const error = (await queue.run('summarize', { values: [-5e-324, 0], label: 'x' }, { retry: { attempts: 3, delay: 0 } }).catch((e: unknown) => e)) as JobFailedError;
    expect(error.errorCode).toBe('TESSERA_JOB_DATA');
    expect(error.failedReason).toMatch(/`result\.mean` is -0/);
    expect((await queue.queue.getJob(error.jobId))!.attemptsMade).toBe(1);
  });
});
