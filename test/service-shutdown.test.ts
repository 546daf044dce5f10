// SIGTERM on the example service (a child process): it stops accepting, lets the request in flight
// finish on the pool, drains the pool and exits 0. The request is held in flight by its own body:
// half of it is sent, the test sees the service count it in flight, signals, then sends the rest.
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { expect, test } from 'vitest';
import { dashboard, startServer } from '../examples/service/spawn.ts';
import { encode } from '../workers/image/codec.ts';
import { smooth } from './fixtures/images/generate.ts';

const jpeg = encode(smooth(320, 240), { format: 'jpeg', quality: 90 }) as Uint8Array;

/** Reads the whole HTTP/1.1 response of a `Connection: close` request. */
async function response(socket: Socket): Promise<{ status: number; body: string }> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'end');
  const text = Buffer.concat(chunks).toString();
  const [head = '', body = ''] = text.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), body };
}

test('SIGTERM: the request in flight completes, new requests are refused, the pool drains, exit code 0', async () => {
  const server = await startServer(['--threads', '1']);
  try {
    const { port, hostname } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    await once(socket, 'connect');
    const reply = response(socket);
    socket.write(`POST /thumbnails?sizes=64x48,32x32 HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\nConnection: close\r\n\r\n`);
    socket.write(jpeg.subarray(0, jpeg.length >> 1));

    // The service counts a request in flight from its first byte of headers (onRequest): wait until it does.
    for (;;) {
      const data = await dashboard(server.url);
      if (data.requests.inFlight === 1) break;
    }
    server.child.kill('SIGTERM');
    await server.waitFor(/^SIGTERM: draining$/);
    // Draining: a new request is refused (503 on a reused connection, or no connection at all), never served.
    const late = await fetch(`${server.url}/healthz`).then((r) => r.status, (error: Error) => error.message);
    expect([503, 'fetch failed']).toContain(late);

    // write, not end: a client that half-closes its side makes Node's HTTP server drop the connection.
    socket.write(jpeg.subarray(jpeg.length >> 1));
    const { status, body } = await reply;
    expect(status).toBe(200);
    expect(JSON.parse(body).thumbnails.map((t: any) => `${t.width}x${t.height}`)).toEqual(['64x48', '32x32']);

    expect(await server.stop()).toBe(0);
    expect(server.output()).toMatch(/^drained: 1 tasks completed, 0 failed$/m);
  } finally {
    await server.stop('SIGKILL');
  }
});
