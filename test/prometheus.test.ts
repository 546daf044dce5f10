/** tessera-pool/metrics: two pools in one prom-client registry, values read at scrape time. */
import { Gauge, Registry } from 'prom-client';
import { expect, test } from 'vitest';
import { registerPoolMetrics } from '../src/metrics-prometheus.ts';
import { Gate, makePool } from './helpers.ts';
import type * as tasks from './fixtures/observed.ts';

/** The value of the series `name{labels}` in the exposition text (labels in any order). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const got = Object.fromEntries(match[2]!.split(',').map((pair) => pair.split('=') as [string, string]).map(([k, v]) => [k, JSON.parse(v)]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v) && Object.keys(got).length === Object.keys(labels).length) return Number(match[3]);
  }
  return undefined;
}

test('two pools in one registry: every metric with its pool label, counts equal to stats()', async () => {
  const registry = new Registry();
  const images = makePool<typeof tasks>('observed.ts', { abortGrace: 0 });
  const reports = makePool<typeof tasks>('observed.ts', { prefetch: 0 });
  registerPoolMetrics(images, { name: 'images', registry });
  registerPoolMetrics(reports, { name: 'reports', registry });
  await Promise.all(Array.from({ length: 12 }, (_, i) => images.run('echo', i)));
  await expect(images.run('hang', {}, { timeout: 20 })).rejects.toMatchObject({ code: 'TESSERA_TASK_TIMEOUT' });
  await images.onIdle();
  await Promise.all(Array.from({ length: 5 }, (_, i) => reports.run('spin', 2 + i)));
  await expect(reports.run('quota')).rejects.toMatchObject({ code: 'E_QUOTA' });
  // One queued run by priority on the reports pool.
  const gate = new Gate();
  const blocked = reports.run('block', { cells: gate.cells });
  await gate.started();
  const queued = reports.run('echo', 1, { priority: 4 });

  const text = await registry.metrics();
  for (const name of [
    'tessera_pool_threads',
    'tessera_pool_queued_tasks',
    'tessera_pool_tasks_total',
    'tessera_pool_task_duration_seconds',
    'tessera_pool_task_wait_seconds',
    'tessera_pool_thread_restarts_total',
    'tessera_pool_thread_utilization',
    'tessera_pool_event_loop_utilization',
    'tessera_pool_event_loop_delay_seconds',
  ]) {
    expect(text).toContain(`# TYPE ${name} `);
  }
  expect(text).toContain('# TYPE tessera_pool_task_duration_seconds histogram');
  expect(text).toContain('# TYPE tessera_pool_tasks_total counter');

  const images$ = images.stats();
  expect(sample(text, 'tessera_pool_tasks_total', { pool: 'images', task: 'echo', outcome: 'completed' })).toBe(images$.tasks['echo']!.completed);
  expect(sample(text, 'tessera_pool_tasks_total', { pool: 'images', task: 'hang', outcome: 'timed_out' })).toBe(1);
  expect(sample(text, 'tessera_pool_tasks_total', { pool: 'reports', task: 'quota', outcome: 'failed' })).toBe(1);
  expect(sample(text, 'tessera_pool_tasks_total', { pool: 'reports', task: 'spin', outcome: 'completed' })).toBe(5);
  expect(sample(text, 'tessera_pool_thread_restarts_total', { pool: 'images', reason: 'cancel' })).toBe(1);
  expect(sample(text, 'tessera_pool_thread_restarts_total', { pool: 'reports', reason: 'cancel' })).toBe(0);
  expect(sample(text, 'tessera_pool_queued_tasks', { pool: 'reports', priority: '4' })).toBe(1);
  expect(sample(text, 'tessera_pool_threads', { pool: 'reports', state: 'busy' })).toBe(1);
  // Histograms: the +Inf bucket and _count are the runs that ran; buckets never decrease; _sum in seconds.
  expect(sample(text, 'tessera_pool_task_duration_seconds_count', { pool: 'images', task: 'echo' })).toBe(12);
  expect(sample(text, 'tessera_pool_task_duration_seconds_bucket', { pool: 'images', task: 'echo', le: '+Inf' })).toBe(12);
  expect(sample(text, 'tessera_pool_task_wait_seconds_count', { pool: 'reports', task: 'spin' })).toBe(5);
  const buckets = text
    .split('\n')
    .filter((line) => line.startsWith('tessera_pool_task_duration_seconds_bucket{') && line.includes('pool="reports"') && line.includes('task="spin"'))
    .map((line) => Number(line.split(' ')[1]));
  expect(buckets.length).toBeGreaterThan(10);
  for (let i = 1; i < buckets.length; i++) expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1]!);
  // 2 + 3 + 4 + 5 + 6 ms of spinning at least.
  expect(sample(text, 'tessera_pool_task_duration_seconds_sum', { pool: 'reports', task: 'spin' })).toBeGreaterThanOrEqual(0.02);
  // Under 2 ms nothing of the spins; by 8.192 s all of them.
  expect(sample(text, 'tessera_pool_task_duration_seconds_bucket', { pool: 'reports', task: 'spin', le: '0.001' })).toBe(0);
  expect(sample(text, 'tessera_pool_task_duration_seconds_bucket', { pool: 'reports', task: 'spin', le: '8.192' })).toBe(5);

  gate.open();
  await Promise.all([blocked, queued]);
});

test('scraping does not move stats()\' window, and unregistering removes the metrics with the last pool', async () => {
  const registry = new Registry();
  const pool = makePool<typeof tasks>('observed.ts');
  const other = makePool<typeof tasks>('observed.ts');
  const unregister = registerPoolMetrics(pool, { name: 'a', registry });
  const unregisterOther = registerPoolMetrics(other, { name: 'b', registry });
  pool.stats();
  await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run('echo', i)));
  await registry.metrics();
  expect(pool.stats().throughput).toBeGreaterThan(0);
  unregister();
  const text = await registry.metrics();
  expect(text).not.toContain('pool="a"');
  expect(text).toContain('pool="b"');
  unregisterOther();
  expect(await registry.metrics()).not.toContain('tessera_pool_');
  // Registered again under the same name: fine once the first is gone.
  registerPoolMetrics(pool, { name: 'a', registry });
  expect(await registry.metrics()).toContain('pool="a"');
});

test('bad options: typed errors at once', () => {
  const registry = new Registry();
  const pool = makePool<typeof tasks>('observed.ts');
  registerPoolMetrics(pool, { name: 'taken', registry });
  expect(() => registerPoolMetrics(pool, { name: 'taken', registry })).toThrow(expect.objectContaining({ code: 'TESSERA_INVALID_OPTION', name: 'RangeError' }));
  expect(() => registerPoolMetrics(pool, { name: '', registry })).toThrow(/Expected `name` to be a non-empty string/);
  expect(() => registerPoolMetrics(pool, { name: 3 as never, registry })).toThrow(expect.objectContaining({ code: 'TESSERA_INVALID_OPTION', name: 'TypeError' }));
  expect(() => registerPoolMetrics({} as never, { name: 'x', registry })).toThrow(/a pool from createPool/);
  expect(() => registerPoolMetrics(pool, { name: 'x', registry: {} as never })).toThrow(/prom-client Registry/);
  const hostile = new Proxy({}, { get: () => { throw new Error('trap'); } });
  expect(() => registerPoolMetrics(pool, hostile as never)).toThrow(expect.objectContaining({ code: 'TESSERA_INVALID_OPTION' }));
});

test('registry.clear() between tests: the names are free again and a new registration exports its series', async () => {
  const registry = new Registry();
  const first = makePool<typeof tasks>('observed.ts');
  registerPoolMetrics(first, { name: 'api', registry });
  registry.clear();
  const second = makePool<typeof tasks>('observed.ts');
  registerPoolMetrics(second, { name: 'api', registry });
  registerPoolMetrics(first, { name: 'other', registry });
  await second.run('echo', 1);
  const text = await registry.metrics();
  expect(sample(text, 'tessera_pool_tasks_total', { pool: 'api', task: 'echo', outcome: 'completed' })).toBe(1);
  expect(sample(text, 'tessera_pool_running_tasks', { pool: 'other' })).toBe(0);
});

test('a registry already holding a metric of one of our names: a typed error, and nothing of ours left behind', async () => {
  const registry = new Registry();
  const theirs = new Gauge({ name: 'tessera_pool_running_tasks', help: 'an older exporter', registers: [registry] });
  const pool = makePool<typeof tasks>('observed.ts');
  expect(() => registerPoolMetrics(pool, { name: 'p', registry })).toThrow(
    expect.objectContaining({ code: 'TESSERA_INVALID_OPTION', message: expect.stringContaining('`tessera_pool_running_tasks`') }),
  );
  expect((await registry.getMetricsAsJSON()).map((metric) => metric.name)).toEqual(['tessera_pool_running_tasks']);
  expect(registry.getSingleMetric('tessera_pool_running_tasks')).toBe(theirs);
  registry.removeSingleMetric('tessera_pool_running_tasks');
  const unregister = registerPoolMetrics(pool, { name: 'p', registry });
  expect(await registry.metrics()).toContain('tessera_pool_running_tasks{pool="p"} 0');
  // Unregistering the last pool takes only our metrics, not one of the same name registered since a clear().
  registry.clear();
  const again = new Gauge({ name: 'tessera_pool_threads', help: 'theirs again', registers: [registry] });
  unregister();
  expect(registry.getSingleMetric('tessera_pool_threads')).toBe(again);
});
