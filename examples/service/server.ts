// examples/service/server.ts: `npm run service` (or `node --import tsx examples/service/server.ts --mode tessera --port 3000`).
// A thumbnail service on one tessera pool: POST /thumbnails, GET /healthz, GET /metrics, GET /dashboard.
// SIGTERM (or SIGINT): stop accepting, finish the requests in flight, drain the pool, exit 0.
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { buildService } from './app.ts';
import { MODES, createThumbnailer, type Mode } from './thumbnailers.ts';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'tessera' }, // tessera | main | sharp (see thumbnailers.ts)
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '3000' }, // 0: any free port (printed)
    threads: { type: 'string', default: String(availableParallelism()) },
    'max-queue': { type: 'string', default: '64' }, // beyond it: 503 with Retry-After
    'task-timeout': { type: 'string', default: '10000' }, // ms a thumbnail task may run on its thread
    'max-pixels': { type: 'string', default: '50000000' }, // decompression-bomb guard: 413 above it
    'body-limit': { type: 'string', default: String(20 * 1024 * 1024) }, // bytes: 413 above it
  },
});

function integer(name: string, min: number): number {
  const value = Number(values[name as keyof typeof values]);
  if (!Number.isInteger(value) || value < min) {
    console.error(`--${name} must be an integer >= ${min}, got ${String(values[name as keyof typeof values])}`);
    process.exit(2);
  }
  return value;
}

const mode = values.mode as Mode;
if (!MODES.includes(mode)) {
  console.error(`--mode must be one of ${MODES.join(', ')}, got ${values.mode}`);
  process.exit(2);
}
const threads = integer('threads', 1);
const thumbnailer = await createThumbnailer(mode, {
  threads,
  maxQueue: integer('max-queue', 0),
  taskTimeout: integer('task-timeout', 1),
  maxPixels: integer('max-pixels', 1),
});
const service = buildService({ thumbnailer, bodyLimit: integer('body-limit', 1) });
const address = await service.app.listen({ host: values.host, port: integer('port', 0) });
console.log(`listening on ${address} (mode ${mode}, ${threads} thread${threads === 1 ? '' : 's'})`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return; // a second signal while draining changes nothing
  stopping = true;
  console.log(`${signal}: draining`);
  try {
    await service.close();
    const stats = thumbnailer.stats();
    console.log(`drained${stats ? `: ${stats.completed} tasks completed, ${stats.failed} failed` : ''}`);
    process.exit(0);
  } catch (error) {
    console.error('shutdown failed:', error);
    process.exit(1);
  }
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
