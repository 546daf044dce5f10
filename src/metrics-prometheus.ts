/**
 * `tessera-pool/metrics`: a pool's metrics in a prom-client registry. The only file that imports
 * prom-client (an optional peer dependency: install it to use this entry).
 *
 * Every value is read from the pool when the registry is scraped, nothing is observed per task: the
 * counters and histograms come from the pool's own bounded records (`metrics.ts`), so a task costs
 * the same whether or not a registry exists, and the histograms' buckets are the pool's own power-of-two
 * bounds, counted exactly. prom-client's Histogram cannot be filled from counts, hence small metric
 * objects of our own that the registry reads as it reads its own (`get()`, `reset()`).
 */
import promClient, { type Registry } from 'prom-client';
import { InvalidOptionRangeError, InvalidOptionTypeError } from './errors.ts';
import type { Histogram } from './histogram.ts';
import { metricsOf, type Metrics, type NameRecord, type Window, type WindowStats } from './metrics.ts';
import { readOption } from './options.ts';
import type { Pool } from './pool.ts';
import { describeValue } from './worker/wire-error.ts';

/** `registerPoolMetrics`' options. */
export interface PoolMetricsOptions {
  /** The `pool` label's value on every series of this pool: tells pools in one registry apart. */
  name: string;
  /** The registry to register in. @default prom-client's global `register` */
  registry?: Registry;
}

type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';
type Labels = Record<string, string | number>;
interface Value {
  value: number;
  labels: Labels;
  metricName?: string;
}

/** One pool as the collector sees it. */
interface Source {
  readonly label: string;
  readonly metrics: Metrics;
  /** The collector's own window: utilization and event-loop figures since the previous scrape. */
  readonly window: Window;
}

/** The histograms' `le` bounds: powers of two of milliseconds, 2^-3 ms (125 µs) to 2^16 ms (65.5 s). */
const LE_EXPONENTS = Array.from({ length: 20 }, (_, i) => i - 3);
const OUTCOME_LABELS = [
  ['completed', 'completed'],
  ['failed', 'failed'],
  ['aborted', 'aborted'],
  ['timedOut', 'timed_out'],
  ['retried', 'retried'],
] as const;
/** Exits that piscina replaces a thread after (idle reaping and the pool's end are not restarts). */
const RESTART_REASONS = ['crash', 'retire', 'cancel'] as const;

/** A metric read from the pools when scraped; registered as prom-client's own metrics are. */
class PoolMetric {
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly read: (source: Source, values: Value[]) => void,
    readonly collector: Collector,
  ) {}

  get(): Promise<{ name: string; help: string; type: MetricType; values: Value[]; aggregator: string }> {
    const values: Value[] = [];
    for (const source of this.collector.sources.values()) this.read(source, values);
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** Nothing to reset: the values are the pools'. (`registry.resetMetrics()` calls it.) */
  reset(): void {}
}

function histogramValues(name: string, histogram: Histogram, labels: Labels, values: Value[]): void {
  for (const exponent of LE_EXPONENTS) {
    values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: 2 ** exponent / 1000 }, value: histogram.countAtOrBelow(exponent) });
  }
  values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: histogram.count });
  values.push({ metricName: `${name}_sum`, labels, value: histogram.sum / 1000 });
  values.push({ metricName: `${name}_count`, labels, value: histogram.count });
}

function perName(name: string, pick: (record: NameRecord) => Histogram) {
  return (source: Source, values: Value[]): void => {
    for (const [task, record] of source.metrics.names) histogramValues(name, pick(record), { pool: source.label, task }, values);
  };
}

/** The pools registered in one registry, and the metrics they share. */
class Collector {
  readonly sources = new Map<string, Source>();
  readonly #registry: Registry;
  /** Window figures of this scrape, by pool label: several metrics read them, the window moves once. */
  #scrape: Map<string, WindowStats> | undefined;
  readonly #metrics: PoolMetric[];

  constructor(registry: Registry) {
    this.#registry = registry;
    const windowed = (read: (stats: WindowStats, labels: Labels, values: Value[]) => void) => (source: Source, values: Value[]) =>
      read(this.#windowStats(source), { pool: source.label }, values);
    this.#metrics = [
      this.#metric('tessera_pool_threads', 'Threads alive, by state (busy or idle).', 'gauge', (source, values) => {
        const { threads, idleThreads } = source.metrics.counts();
        values.push({ labels: { pool: source.label, state: 'busy' }, value: threads - idleThreads });
        values.push({ labels: { pool: source.label, state: 'idle' }, value: idleThreads });
      }),
      this.#metric('tessera_pool_queued_tasks', 'Tasks waiting for a thread, by priority.', 'gauge', (source, values) => {
        for (const [priority, count] of Object.entries(source.metrics.counts().queuedByPriority)) {
          values.push({ labels: { pool: source.label, priority }, value: count });
        }
      }),
      this.#metric('tessera_pool_running_tasks', 'Tasks on threads whose callers are waiting.', 'gauge', (source, values) => {
        values.push({ labels: { pool: source.label }, value: source.metrics.counts().running });
      }),
      this.#metric('tessera_pool_tasks_total', 'Tasks settled by task name and outcome; retried counts retries scheduled.', 'counter', (source, values) => {
        for (const [task, record] of source.metrics.names) {
          for (const [field, outcome] of OUTCOME_LABELS) values.push({ labels: { pool: source.label, task, outcome }, value: record.counts[field] });
        }
      }),
      this.#metric('tessera_pool_task_duration_seconds', 'Seconds from dispatch to settle of each attempt that ran.', 'histogram', perName('tessera_pool_task_duration_seconds', (record) => record.run)),
      this.#metric('tessera_pool_task_wait_seconds', 'Seconds from admission (or end of backoff) to dispatch of each attempt that ran.', 'histogram', perName('tessera_pool_task_wait_seconds', (record) => record.wait)),
      this.#metric('tessera_pool_thread_restarts_total', 'Threads replaced after they exited, by reason (crash, retire, cancel).', 'counter', (source, values) => {
        const exits = source.metrics.threadExits;
        for (const reason of RESTART_REASONS) values.push({ labels: { pool: source.label, reason }, value: exits[reason] });
      }),
      this.#metric(
        'tessera_pool_thread_utilization',
        'Busy share of the run slots (maxThreads x concurrentTasksPerWorker) since the previous scrape, 0 to 1.',
        'gauge',
        windowed((stats, labels, values) => values.push({ labels, value: stats.utilization })),
      ),
      this.#metric(
        'tessera_pool_event_loop_utilization',
        "The main thread's event-loop utilization since the previous scrape, 0 to 1.",
        'gauge',
        windowed((stats, labels, values) => values.push({ labels, value: stats.eventLoop.utilization })),
      ),
      this.#metric(
        'tessera_pool_event_loop_delay_seconds',
        "The main thread's event-loop delay since the previous scrape (20 ms resolution).",
        'summary',
        windowed((stats, labels, values) => {
          const delay = stats.eventLoop.delay;
          const name = 'tessera_pool_event_loop_delay_seconds';
          for (const [quantile, ms] of [[0.5, delay.p50], [0.9, delay.p90], [0.99, delay.p99]] as const) {
            values.push({ labels: { ...labels, quantile }, value: ms / 1000 });
          }
          values.push({ metricName: `${name}_sum`, labels, value: (delay.mean * delay.count) / 1000 });
          values.push({ metricName: `${name}_count`, labels, value: delay.count });
        }),
      ),
    ];
  }

  #metric(name: string, help: string, type: MetricType, read: (source: Source, values: Value[]) => void): PoolMetric {
    return new PoolMetric(name, help, type, read, this);
  }

  #windowStats(source: Source): WindowStats {
    if (this.#scrape === undefined) {
      this.#scrape = new Map();
      // A scrape asks every metric in one pass; the next one reads fresh figures.
      setImmediate(() => (this.#scrape = undefined));
    }
    let stats = this.#scrape.get(source.label);
    if (stats === undefined) {
      stats = source.metrics.read(source.window);
      this.#scrape.set(source.label, stats);
    }
    return stats;
  }

  /**
   * Registers a pool. The registry may have changed under the collector: `registry.clear()` (a test
   * suite's teardown) took every metric and with them the pools they exported, whose names are free
   * again; a metric removed alone is registered again. A metric of the same name that is not ours
   * is refused before anything is registered, so a refusal leaves the registry as it was.
   */
  add(source: Source): void {
    const registry = this.#registry;
    const missing = this.#metrics.filter((metric) => registry.getSingleMetric(metric.name) !== (metric as never));
    if (missing.length === this.#metrics.length) this.#forget();
    if (this.sources.has(source.label)) expected('name', 'a name no other pool in this registry has', source.label, false);
    for (const metric of missing) {
      if (registry.getSingleMetric(metric.name) !== undefined) {
        throw new InvalidOptionRangeError(
          `The registry already holds a metric named \`${metric.name}\` that registerPoolMetrics did not register: remove it (registry.removeSingleMetric) or pass another \`registry\`.`,
        );
      }
    }
    for (const metric of missing) registry.registerMetric(metric as never);
    this.sources.set(source.label, source);
  }

  /** The registry lost every metric of ours: the pools it held are no longer exported. */
  #forget(): void {
    for (const source of this.sources.values()) source.metrics.release(source.window);
    this.sources.clear();
  }

  remove(source: Source): void {
    if (this.sources.get(source.label) !== source) return;
    this.sources.delete(source.label);
    source.metrics.release(source.window);
    if (this.sources.size > 0) return;
    // Only ours: after a clear(), a metric of that name may be someone else's.
    for (const metric of this.#metrics) {
      if (this.#registry.getSingleMetric(metric.name) === (metric as never)) this.#registry.removeSingleMetric(metric.name);
    }
  }
}

const collectors = new WeakMap<Registry, Collector>();

function expected(name: string, what: string, value: unknown, isType: boolean): never {
  let shown: string;
  try {
    shown = typeof value === 'string' ? value : describeValue(value);
  } catch {
    shown = 'a value that cannot be shown';
  }
  const message = `Expected \`${name}\` to be ${what}, got \`${shown}\` (${value === null ? 'null' : typeof value})`;
  throw isType ? new InvalidOptionTypeError(message) : new InvalidOptionRangeError(message);
}

/**
 * Registers `pool`'s metrics in a prom-client registry, its series labelled `pool="<name>"`. Several
 * pools may share a registry under different names. Returns a function that unregisters the pool
 * (the metrics leave the registry with the last pool). Values are read at scrape time.
 */
export function registerPoolMetrics(pool: Pool<any>, options: PoolMetricsOptions): () => void {
  if (typeof options !== 'object' || options === null) expected('options', 'an object with a `name`', options, true);
  const name = readOption(options, 'name');
  if (typeof name !== 'string') expected('name', 'a non-empty string', name, true);
  if (name.length === 0) expected('name', 'a non-empty string', name, false);
  const given = readOption(options, 'registry');
  if (given !== undefined && (typeof given !== 'object' || given === null || typeof (given as Registry).registerMetric !== 'function')) {
    expected('registry', 'a prom-client Registry', given, true);
  }
  const registry = (given as Registry | undefined) ?? promClient.register;
  const metrics = metricsOf(pool);
  if (metrics === undefined) expected('pool', 'a pool from createPool', pool, true);
  let collector = collectors.get(registry);
  if (collector === undefined) {
    collector = new Collector(registry);
    collectors.set(registry, collector);
  }
  const source: Source = { label: name, metrics, window: metrics.window() };
  try {
    collector.add(source);
  } catch (error) {
    metrics.release(source.window);
    throw error;
  }
  const owner = collector;
  return () => owner.remove(source);
}
