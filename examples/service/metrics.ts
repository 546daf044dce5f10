/**
 * Prometheus metrics for GET /metrics, with prom-client on a registry of the service's own.
 *
 *   httpMetrics(registry)     requests by route, method and status; request duration histogram
 *   poolMetrics(registry, t)  the pool's figures: through the library's `tessera-pool/metrics`
 *                             (histograms of wait and run time, outcomes by task, threads by
 *                             state) when the service made the pool; else from `stats()`
 */
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { Pool, PoolStats } from 'tessera-pool';
import { registerPoolMetrics } from 'tessera-pool/metrics';

/** Request counter and duration histogram; call the returned function when a reply is sent. */
export function httpMetrics(registry: Registry): (route: string, method: string, status: number, seconds: number) => void {
  // Process metrics too: event loop lag, heap, CPU. The lag is the figure a pool is meant to keep low.
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by route, method and status.', labelNames: ['route', 'method', 'status'], registers: [registry] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to reply, by route.',
    labelNames: ['route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return (route, method, status, seconds) => {
    requests.inc({ route, method, status: String(status) });
    duration.observe({ route }, seconds);
  };
}

/**
 * The pool's figures, read at scrape time. A pool the service made is registered with the library's
 * Prometheus entry (every series labelled `pool="thumbnails"`); a pool handed in behind the narrow
 * `stats()` view (the tests' gated pool) gets the gauges and counters below. Nothing for a mode
 * without a pool.
 */
export function poolMetrics(registry: Registry, pool: { stats(): PoolStats | null; readonly pool?: Pool<any> }): void {
  if (pool.pool !== undefined) {
    registerPoolMetrics(pool.pool, { name: 'thumbnails', registry });
    return;
  }
  if (pool.stats() === null) return;
  const gauges: Array<[keyof PoolStats, string, string]> = [
    ['threads', 'tessera_pool_threads', 'Threads alive.'],
    ['idleThreads', 'tessera_pool_idle_threads', 'Threads with nothing to run.'],
    ['queued', 'tessera_pool_queued', 'Tasks waiting for a thread.'],
    ['running', 'tessera_pool_running', 'Tasks on threads.'],
    ['retrying', 'tessera_pool_retrying', 'Runs waiting for a retry backoff.'],
  ];
  for (const [field, name, help] of gauges) {
    new Gauge({ name, help, registers: [registry], collect() { this.set(Number(pool.stats()?.[field] ?? 0)); } });
  }
  const counters: Array<[keyof PoolStats, string, string]> = [
    ['accepted', 'tessera_pool_tasks_accepted_total', 'Tasks admitted since the pool started.'],
    ['completed', 'tessera_pool_tasks_completed_total', 'Tasks resolved.'],
    ['failed', 'tessera_pool_tasks_failed_total', 'Tasks rejected after they were accepted.'],
    ['retired', 'tessera_pool_threads_retired_total', 'Threads retired by recycling.'],
  ];
  for (const [field, name, help] of counters) {
    // A counter only goes up: each scrape adds what the pool counted since the last one.
    let seen = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = Number(pool.stats()?.[field] ?? 0);
        if (now > seen) this.inc(now - seen);
        seen = Math.max(seen, now);
      },
    });
  }
}
