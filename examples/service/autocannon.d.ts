// The part of autocannon 9's API that load.ts uses (the package ships no types; @types/autocannon is
// not a dependency). Fields as documented in autocannon's README.
declare module 'autocannon' {
  export interface Options {
    url: string;
    method?: 'GET' | 'POST';
    body?: Buffer | string;
    headers?: Record<string, string>;
    /** Concurrent connections. */
    connections?: number;
    /** Seconds to run. */
    duration?: number;
    /** Requests per second over all connections (a cap, not a target under overload). */
    overallRate?: number;
    /** Seconds before a request counts as timed out. */
    timeout?: number;
  }
  export interface Histogram {
    average: number;
    mean: number;
    p50: number;
    p90: number;
    p99: number;
    max: number;
    total: number;
  }
  export interface Result {
    /** Milliseconds. */
    latency: Histogram;
    requests: Histogram;
    /** Seconds the run lasted. */
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
