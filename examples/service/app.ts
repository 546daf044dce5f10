/**
 * The HTTP side of the example service (fastify), built around a Thumbnailer (thumbnailers.ts):
 *
 *   POST /thumbnails      an image body (JPEG or PNG) in, JSON with base64 thumbnails out
 *                         query: sizes=256x256,128x128  fit=cover|contain|fill  format=jpeg|webp|png  quality=1..100
 *   GET  /healthz         answered by the event loop; its latency under load is the point of the pool
 *   GET  /metrics         Prometheus text (metrics.ts)
 *   GET  /dashboard       live page (dashboard/), polling GET /dashboard/data
 *
 * Every error reply is JSON `{ code, message }` with a stable code: the pipeline's for a bad image
 * (corrupt 400, too large 413, unsupported 415), the pool's for overload (503 with Retry-After),
 * fastify's for a body over the limit (413), `SERVICE_*` for the service's own checks.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { httpMetrics, poolMetrics } from './metrics.ts';
import type { ThumbnailJob, Thumbnailer } from './thumbnailers.ts';
import { RequestWindow, type WindowSnapshot } from './window.ts';
import type { PoolStats } from 'tessera-pool';

/** How the service is built. */
export interface ServiceOptions {
  thumbnailer: Thumbnailer;
  /** The largest request body in bytes; a larger one gets 413. @default 20 MiB */
  bodyLimit?: number;
  /** Seconds a 503 tells the client to wait (Retry-After). @default 1 */
  retryAfter?: number;
}

/** A built service: the fastify app (not yet listening) and its shutdown. */
export interface Service {
  app: FastifyInstance;
  /** Stops accepting, lets the requests in flight finish, then drains and closes the pool. */
  close(): Promise<void>;
}

/** GET /dashboard/data: what the dashboard draws. */
export interface DashboardData {
  mode: Thumbnailer['mode'];
  /** Shutting down: no new requests are taken. */
  draining: boolean;
  /** Seconds since the process started. */
  uptime: number;
  /** `pool.stats()`; null in the modes without a pool. */
  pool: PoolStats | null;
  /** The service's own measurements of /thumbnails (window.ts). */
  requests: WindowSnapshot;
  /** Event-loop delay in ms since the previous read of this endpoint. */
  eventLoop: { p50: number; p99: number; max: number };
}

/** Status of each error code a thumbnailer can fail with; anything else is a 500. */
const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  TESSERA_IMAGE_CORRUPT: 400,
  TESSERA_IMAGE_OPTION: 400,
  TESSERA_IMAGE_SIZE: 400,
  TESSERA_IMAGE_TOO_LARGE: 413,
  TESSERA_IMAGE_FORMAT: 415,
  // Overload and shutdown: the client may try again later (or elsewhere).
  TESSERA_QUEUE_FULL: 503,
  TESSERA_POOL_CLOSED: 503,
  // A task past its timeout: an image too costly for the time the service grants it under this load.
  TESSERA_TASK_TIMEOUT: 503,
  // The client went away (nginx's 499): its task was dropped from the queue or stopped; nobody reads the reply.
  TESSERA_ABORTED: 499,
};

/** An error the service raises itself, with its status. */
class ServiceError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Status, code and message of anything thrown: our errors, the pool's, the pipeline's, fastify's. Never throws. */
function describeError(error: unknown): { status: number; code: string; message: string } {
  let code: unknown;
  let message: unknown;
  let statusCode: unknown;
  try {
    ({ code, message, statusCode } = error as { code?: unknown; message?: unknown; statusCode?: unknown });
  } catch {
    // a value whose properties cannot be read: a 500 with no detail
  }
  const known = typeof code === 'string' ? STATUS_OF_CODE[code] : undefined;
  const status = known ?? (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 600 ? statusCode : 500);
  return { status, code: typeof code === 'string' ? code : 'SERVICE_INTERNAL', message: typeof message === 'string' ? message : 'internal error' };
}

const SIZE = /^(\d{1,4})x(\d{1,4})$/;
const MAX_SIZES = 8;
const MAX_SIDE = 4096;

function one(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ServiceError(400, 'SERVICE_BAD_QUERY', `give \`${name}\` once`);
  return value;
}

/** The job a request asks for, or a 400 saying what to fix. */
function parseJob(body: unknown, query: Record<string, unknown>): ThumbnailJob {
  if (!Buffer.isBuffer(body) || body.length === 0) throw new ServiceError(400, 'SERVICE_EMPTY_BODY', 'POST the image bytes (JPEG or PNG) as the request body');
  const sizes = (one(query.sizes, 'sizes') ?? '256x256').split(',').map((text) => {
    const match = SIZE.exec(text.trim());
    const width = Number(match?.[1]);
    const height = Number(match?.[2]);
    if (!match || width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) {
      throw new ServiceError(400, 'SERVICE_BAD_QUERY', `sizes: expected WIDTHxHEIGHT (1 to ${MAX_SIDE}), comma-separated, got \`${text}\``);
    }
    return { width, height };
  });
  if (sizes.length > MAX_SIZES) throw new ServiceError(400, 'SERVICE_BAD_QUERY', `sizes: at most ${MAX_SIZES} sizes a request`);
  const fit = one(query.fit, 'fit') ?? 'cover';
  if (fit !== 'cover' && fit !== 'contain' && fit !== 'fill') throw new ServiceError(400, 'SERVICE_BAD_QUERY', 'fit: cover, contain or fill');
  const format = one(query.format, 'format') ?? 'jpeg';
  if (format !== 'jpeg' && format !== 'webp' && format !== 'png') throw new ServiceError(400, 'SERVICE_BAD_QUERY', 'format: jpeg, webp or png');
  const qualityText = one(query.quality, 'quality');
  const quality = qualityText === undefined ? undefined : Number(qualityText);
  if (quality !== undefined && !(Number.isInteger(quality) && quality >= 1 && quality <= 100)) throw new ServiceError(400, 'SERVICE_BAD_QUERY', 'quality: an integer from 1 to 100');
  // A view on the body, not a copy: the pool clones it once on its way to the thread.
  return { image: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), sizes, fit, format, quality };
}

const here = (file: string): string => readFileSync(new URL(file, import.meta.url), 'utf8');
const fromPackage = (file: string): string => readFileSync(createRequire(import.meta.url).resolve(file), 'utf8');

declare module 'fastify' {
  interface FastifyRequest {
    /** The /thumbnails request's entry in the rolling window (set in onRequest). */
    finish: ((outcome: { status: number; code?: string; message?: string }) => void) | null;
    /** The error reply's code and message, for the window's list of failures. */
    failure: { code: string; message: string } | null;
    /** Aborts when the client closes the connection before the reply is sent (set in onRequest). */
    gone: AbortController | null;
  }
}

/** Builds the service around `thumbnailer`; `app.listen()` is the caller's. */
export function buildService({ thumbnailer, bodyLimit = 20 * 1024 * 1024, retryAfter = 1 }: ServiceOptions): Service {
  // return503OnClosing: requests arriving on kept-alive connections during shutdown get 503, not a hang.
  const app = Fastify({ logger: false, bodyLimit, return503OnClosing: true });
  const registry = new Registry();
  const observe = httpMetrics(registry);
  poolMetrics(registry, thumbnailer);
  const window = new RequestWindow();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let draining = false;

  // Every body is bytes: the pipeline tells formats apart by their signature, not by Content-Type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.decorateRequest('finish', null);
  app.decorateRequest('failure', null);
  app.decorateRequest('gone', null);
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url !== '/thumbnails') return;
    request.finish = window.start();
    const gone = (request.gone = new AbortController());
    // A client that leaves (while uploading, queued or resizing) frees its queue place and its thread,
    // and leaves the window's in-flight count: onResponse does not run for a reply never sent.
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return;
      gone.abort(new Error('the client closed the connection before the reply'));
      request.finish?.({ status: 499, code: 'SERVICE_CLIENT_GONE', message: 'the client closed the connection before the reply' });
    });
  });
  app.addHook('onResponse', async (request, reply) => {
    observe(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
    request.finish?.({ status: reply.statusCode, ...request.failure });
  });
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const { status, code, message } = describeError(error);
    request.failure = { code, message };
    if (status === 503) void reply.header('retry-after', String(retryAfter));
    void reply.code(status).send({ code, message });
  });

  app.post('/thumbnails', async (request) => {
    const job = parseJob(request.body, request.query as Record<string, unknown>);
    const results = await thumbnailer.make(job, request.gone?.signal);
    return {
      thumbnails: results.map(({ width, height, format, data }) => ({
        width,
        height,
        format,
        bytes: data.byteLength,
        data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
      })),
    };
  });

  app.get('/healthz', async (_request, reply) => (draining ? reply.code(503).send({ status: 'draining' }) : { status: 'ok' }));

  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  const page = { html: here('./dashboard/index.html'), js: here('./dashboard/dashboard.js'), css: here('./dashboard/dashboard.css') };
  const uplot = { js: fromPackage('uplot/dist/uPlot.iife.min.js'), css: fromPackage('uplot/dist/uPlot.min.css') };
  app.get('/dashboard', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page.html));
  app.get('/dashboard/dashboard.js', async (_request, reply) => reply.type('text/javascript').send(page.js));
  app.get('/dashboard/dashboard.css', async (_request, reply) => reply.type('text/css').send(page.css));
  app.get('/dashboard/uplot.js', async (_request, reply) => reply.type('text/javascript').send(uplot.js));
  app.get('/dashboard/uplot.css', async (_request, reply) => reply.type('text/css').send(uplot.css));
  app.get('/dashboard/data', async (): Promise<DashboardData> => {
    // Event-loop delay since the previous read: what a request waited before the loop got to it.
    const eventLoop = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
    loop.reset();
    return { mode: thumbnailer.mode, draining, uptime: process.uptime(), pool: thumbnailer.stats(), requests: window.snapshot(), eventLoop };
  });

  return {
    app,
    async close() {
      draining = true;
      try {
        await app.close(); // stops listening; waits for the requests in flight
      } finally {
        loop.disable();
        await thumbnailer.close(); // then every accepted task settles and the threads stop
      }
    },
  };
}
