// The example service when a client leaves before its reply: its queued task leaves the pool's
// queue (rejected with TESSERA_ABORTED, never run), the service stops counting it in flight and lists
// it as a failure (499), and the request holding the thread completes as usual.
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test, vi } from 'vitest';
import { buildService, type Service } from '../examples/service/app.ts';
import { dashboard } from '../examples/service/spawn.ts';
import { poolThumbnailer, type ThumbnailPool } from '../examples/service/thumbnailers.ts';
import type * as blocker from './fixtures/blocker.ts';
import { Gate, makePool } from './helpers.ts';

let service: Service | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

test('a client that disconnects while queued frees its queue place and leaves the in-flight count', async () => {
  const pool = makePool<typeof blocker>('blocker.ts', { maxQueue: 1, prefetch: 0 });
  const gate = new Gate();
  const held: ThumbnailPool = {
    run: (_name, input, options) => pool.run('block', { cells: gate.cells, value: input.sizes.map(({ width, height }) => ({ format: 'png' as const, width, height, data: Uint8Array.of(7) })) }, options) as Promise<any>,
    stats: () => pool.stats(),
    close: () => pool.close(),
  };
  service = buildService({ thumbnailer: poolThumbnailer(held, { maxPixels: 1e7, taskTimeout: 30_000 }) });
  await service.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
  const body = Uint8Array.of(0x89, 0x50, 0x4e, 0x47);

  const first = fetch(`${url}/thumbnails?sizes=4x4`, { method: 'POST', body });
  await gate.started();
  const leaving = new AbortController();
  const second = fetch(`${url}/thumbnails?sizes=4x4`, { method: 'POST', body, signal: leaving.signal }).catch((error: unknown) => error);
  await vi.waitFor(() => expect(pool.stats().queued).toBe(1));
  leaving.abort();
  expect(await second).toMatchObject({ name: 'AbortError' });

  // The task left the queue without running; the thread is still held by the first request.
  await vi.waitFor(() => expect(pool.stats()).toMatchObject({ queued: 0, running: 1, failed: 1 }));
  const data = await dashboard(url);
  expect(data.requests).toMatchObject({ inFlight: 1, failures: [{ status: 499, code: 'SERVICE_CLIENT_GONE' }] });
  expect(gate.startedCount).toBe(1);

  gate.open();
  expect((await first).status).toBe(200);
  expect(pool.stats()).toMatchObject({ accepted: 2, completed: 1, failed: 1, queued: 0 });
  expect((await dashboard(url)).requests).toMatchObject({ inFlight: 0, ok: 1, failed: 1 });
});
