// The example service (examples/service) over HTTP: a real server in a child process on a free port,
// the image module's pool behind it. Thumbnails for a real JPEG, error replies with their codes, and
// a process that keeps serving after every bad body.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dashboard, startServer, type RunningServer } from '../examples/service/spawn.ts';
import { encode } from '../workers/image/codec.ts';
import { withJpegSize } from './fixtures/images/forge.ts';
import { smooth } from './fixtures/images/generate.ts';

const BODY_LIMIT = 200_000;
// A photo-like JPEG, as the image tests make them (no binary fixtures in the repository).
const jpeg = encode(smooth(640, 480), { format: 'jpeg', quality: 85 }) as Uint8Array;

let server: RunningServer;
beforeAll(async () => {
  server = await startServer(['--threads', '1', '--body-limit', String(BODY_LIMIT), '--max-pixels', '10000000']);
});
afterAll(async () => {
  expect(await server?.stop()).toBe(0);
});

async function post(body: Uint8Array | string, query = ''): Promise<{ status: number; headers: Headers; json: any }> {
  const response = await fetch(`${server.url}/thumbnails${query}`, { method: 'POST', body, headers: { 'content-type': 'image/jpeg' } });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

describe('POST /thumbnails', () => {
  test('a JPEG gets one thumbnail per size, each a real image of that size in the asked format', async () => {
    const { status, json } = await post(jpeg, '?sizes=256x256,96x64');
    expect(status).toBe(200);
    expect(json.thumbnails.map((t: any) => [t.width, t.height, t.format])).toEqual([[256, 256, 'jpeg'], [96, 64, 'jpeg']]);
    for (const thumbnail of json.thumbnails) {
      const bytes = Buffer.from(thumbnail.data, 'base64');
      expect(bytes.length).toBe(thumbnail.bytes);
      // An independent decoder reads what the service made.
      expect(await sharp(bytes).metadata()).toMatchObject({ format: 'jpeg', width: thumbnail.width, height: thumbnail.height });
    }
    const webp = await post(jpeg, '?sizes=64x64&format=webp&quality=60');
    expect(webp.status).toBe(200);
    expect(await sharp(Buffer.from(webp.json.thumbnails[0].data, 'base64')).metadata()).toMatchObject({ format: 'webp', width: 64, height: 64 });
  });

  test('a truncated JPEG gets 400 TESSERA_IMAGE_CORRUPT', async () => {
    const { status, json } = await post(jpeg.subarray(0, jpeg.length >> 1));
    expect(status).toBe(400);
    expect(json).toMatchObject({ code: 'TESSERA_IMAGE_CORRUPT', message: expect.stringMatching(/corrupt or truncated/) });
  });

  test('a body over the limit gets 413, and so does an image whose header declares more than maxPixels', async () => {
    const big = await post(new Uint8Array(BODY_LIMIT + 1));
    expect(big.status).toBe(413);
    expect(big.json.code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
    // A small file that claims 20000 x 20000 pixels: refused from its header, before any decoding.
    const bomb = await post(withJpegSize(jpeg, 20_000, 20_000));
    expect(bomb.status).toBe(413);
    expect(bomb.json).toMatchObject({ code: 'TESSERA_IMAGE_TOO_LARGE', message: expect.stringMatching(/over the limit of 10000000 pixels/) });
  });

  test('bytes in a format the pipeline does not read get 415 TESSERA_IMAGE_FORMAT', async () => {
    const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(64)]);
    const { status, json } = await post(gif);
    expect(status).toBe(415);
    expect(json.code).toBe('TESSERA_IMAGE_FORMAT');
  });

  test('an empty body or a bad query gets 400 with a SERVICE_ code, before any task runs', async () => {
    const accepted = (await dashboard(server.url)).pool!.accepted;
    expect(await post(new Uint8Array(0))).toMatchObject({ status: 400, json: { code: 'SERVICE_EMPTY_BODY' } });
    for (const query of ['?sizes=0x10', '?sizes=10', '?sizes=5000x10', '?fit=stretch', '?format=gif', '?quality=101', '?sizes=1x1&sizes=2x2']) {
      expect(await post(jpeg, query), query).toMatchObject({ status: 400, json: { code: 'SERVICE_BAD_QUERY' } });
    }
    expect((await dashboard(server.url)).pool!.accepted).toBe(accepted);
  });
});

describe('after bad bodies', () => {
  test('the process still serves: /healthz, a good thumbnail, /metrics and /dashboard/data count what happened', async () => {
    await post(jpeg.subarray(0, 100));
    await post('not an image');
    expect(server.child.exitCode).toBeNull();
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await post(jpeg, '?sizes=32x32')).status).toBe(200);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^http_requests_total\{route="\/thumbnails",method="POST",status="200"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^http_requests_total\{route="\/thumbnails",method="POST",status="415"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^http_requests_total\{route="\/thumbnails",method="POST",status="413"\} [1-9]\d*$/m);
    // The pool through the library's entry (tessera-pool/metrics), labelled with the service's pool name.
    expect(metrics).toMatch(/^tessera_pool_threads\{pool="thumbnails",state="idle"\} 1$/m);
    expect(metrics).toMatch(/^tessera_pool_tasks_total\{pool="thumbnails",task="thumbnails",outcome="completed"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^tessera_pool_task_duration_seconds_count\{pool="thumbnails",task="thumbnails"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);

    const data = await dashboard(server.url);
    expect(data).toMatchObject({ mode: 'tessera', draining: false, pool: { threads: 1, queued: 0, running: 0 } });
    expect(data.pool!.completed + data.pool!.failed).toBe(data.pool!.accepted);
    expect(data.requests.ok).toBeGreaterThanOrEqual(3);
    expect(data.requests.latency.p50).toBeGreaterThan(0);
    // Newest first: the last two bad bodies.
    expect(data.requests.failures.slice(0, 2).map((f) => [f.status, f.code])).toEqual([
      [415, 'TESSERA_IMAGE_FORMAT'],
      [400, 'TESSERA_IMAGE_CORRUPT'],
    ]);
  });

  test('GET /dashboard serves the page, its script and uPlot', async () => {
    for (const [path, type] of [['/dashboard', 'text/html'], ['/dashboard/dashboard.js', 'text/javascript'], ['/dashboard/uplot.js', 'text/javascript'], ['/dashboard/uplot.css', 'text/css']]) {
      const response = await fetch(`${server.url}${path!}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toContain(type);
      expect((await response.text()).length, path).toBeGreaterThan(100);
    }
  });
});
