// The example service under overload: with the pool's one thread held by a blocked task and no queue
// room (maxQueue 0), the next /thumbnails gets 503 with Retry-After and the pool's code; the held
// request still completes and the service keeps serving. The service is built in this process (so
// the test can hold the thread with an Atomics gate) and listens on a real ephemeral port.
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { buildService, type Service } from '../examples/service/app.ts';
import { dashboard } from '../examples/service/spawn.ts';
import { poolThumbnailer, type ThumbnailPool } from '../examples/service/thumbnailers.ts';
import type * as blocker from './fixtures/blocker.ts';
import { encode } from '../workers/image/codec.ts';
import { smooth } from './fixtures/images/generate.ts';
import { Gate, makePool } from './helpers.ts';

const jpeg = encode(smooth(64, 48), { format: 'jpeg' }) as Uint8Array;

let service: Service | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

test('queue full: 503 with Retry-After and TESSERA_QUEUE_FULL; the held request completes; nothing crashed', async () => {
  // The pool is real; only its task is swapped for the blocker, so the thread stays busy until the gate opens.
  const pool = makePool<typeof blocker>('blocker.ts', { maxQueue: 0 });
  const gate = new Gate();
  const held: ThumbnailPool = {
    run: (_name, input, options) => pool.run('block', { cells: gate.cells, value: input.sizes.map(({ width, height }) => ({ format: 'jpeg' as const, width, height, data: Uint8Array.of(1, 2, 3) })) }, options) as Promise<any>,
    stats: () => pool.stats(),
    close: () => pool.close(),
  };
  service = buildService({ thumbnailer: poolThumbnailer(held, { maxPixels: 1e7, taskTimeout: 30_000 }), retryAfter: 2 });
  await service.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
  const post = (): Promise<Response> => fetch(`${url}/thumbnails?sizes=8x8`, { method: 'POST', body: jpeg });

  const first = post();
  await gate.started();
  const refused = await post();
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toBe('2');
  expect(await refused.json()).toMatchObject({ code: 'TESSERA_QUEUE_FULL', message: expect.stringMatching(/queue is full/) });
  // The event loop answers while the thread is held.
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  const data = await dashboard(url);
  expect(data.pool).toMatchObject({ running: 1, queued: 0, idleThreads: 0 });
  expect(data.requests).toMatchObject({ inFlight: 1, failures: [{ status: 503, code: 'TESSERA_QUEUE_FULL' }] });

  gate.open();
  const done = await first;
  expect(done.status).toBe(200);
  expect(((await done.json()) as { thumbnails: unknown }).thumbnails).toMatchObject([{ width: 8, height: 8, format: 'jpeg', bytes: 3, data: 'AQID' }]);
  // Room again: the next request is admitted (the gate stays open, so it returns at once).
  expect((await post()).status).toBe(200);
  expect(pool.stats()).toMatchObject({ accepted: 2, completed: 2, failed: 0 });
  const metrics = await (await fetch(`${url}/metrics`)).text();
  expect(metrics).toMatch(/^http_requests_total\{route="\/thumbnails",method="POST",status="503"\} 1$/m);
});
