// examples/service/load.ts: `npm run service:load` [-- --seconds 10 --threads 2 --repeats 1 --modes tessera,main,sharp --photo FILE.jpg]
//
// The same service in each mode (tessera: a pool of worker threads; main: the same task on the event
// loop; sharp: libvips, the native reference), each in a fresh child process, on loopback. For each:
// autocannon POSTs a photo to /thumbnails for `--seconds` over 2 x threads connections, while a second
// autocannon asks /healthz 50 times a second on one connection. The table gives thumbnails/s, their
// p50/p99, and /healthz p99: what a health check, or any light request, waits while resizing saturates
// the service. Repeats run interleaved (mode by mode, then again); the table shows medians.
// Bounded: modes x repeats x (seconds + a few seconds to start, warm up and drain).
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon, { type Result } from 'autocannon';
import sharp from 'sharp';
import { startServer } from './spawn.ts';
import { MODES, type Mode } from './thumbnailers.ts';

/** A 4-megapixel photo from Debian's mate-backgrounds (the photos bench/image-photos.ts uses). */
const DEFAULT_PHOTO = '/usr/share/backgrounds/mate/nature/Garden.jpg';
const SIZES = '256x256';
const HEALTH_RATE = 50;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    threads: { type: 'string', default: String(availableParallelism()) },
    repeats: { type: 'string', default: '1' },
    modes: { type: 'string', default: MODES.join(',') },
    photo: { type: 'string', default: DEFAULT_PHOTO },
  },
});
const seconds = Number(values.seconds);
const threads = Number(values.threads);
const repeats = Number(values.repeats);
const modes = values.modes.split(',') as Mode[];
if (!(seconds > 0) || !Number.isInteger(threads) || threads < 1 || !Number.isInteger(repeats) || repeats < 1 || !modes.every((m) => MODES.includes(m))) {
  console.error(`usage: load.ts [--seconds S > 0] [--threads N >= 1] [--repeats N >= 1] [--modes ${MODES.join(',')}] [--photo FILE]`);
  process.exit(2);
}

/** The photo's bytes; without it (no mate-backgrounds), a generated 1920x1280 JPEG. */
async function photo(): Promise<{ bytes: Buffer; label: string }> {
  try {
    const bytes = readFileSync(values.photo);
    const { width, height } = await sharp(bytes).metadata();
    return { bytes, label: `${values.photo} (${width}x${height}, ${(bytes.length / 1024).toFixed(0)} KiB)` };
  } catch {
    const bytes = await sharp({ create: { width: 1920, height: 1280, channels: 3, background: '#6a8caf', noise: { type: 'gaussian', mean: 128, sigma: 24 } } })
      .jpeg({ quality: 85 })
      .toBuffer();
    return { bytes, label: `a generated 1920x1280 JPEG (${values.photo} not found; apt-get install mate-backgrounds for the photo)` };
  }
}

interface Run {
  thumbnailsPerSecond: number;
  p50: number;
  p99: number;
  healthP99: number;
  /** Replies other than 2xx, errors and timeouts, over both clients. */
  bad: number;
  exitCode: number | null;
}

async function measure(mode: Mode, body: Buffer): Promise<Run> {
  // sharp runs on libuv's threadpool: sized to `threads`, as the pool is (one libvips thread an image).
  const server = await startServer(['--mode', mode, '--threads', String(threads)], { ...process.env, UV_THREADPOOL_SIZE: String(threads) });
  try {
    const thumbnails = { url: `${server.url}/thumbnails?sizes=${SIZES}`, method: 'POST' as const, body, headers: { 'content-type': 'image/jpeg' } };
    // Warm-up: every thread loads its codecs (wasm compiled once per thread) before the clock runs.
    await Promise.all(Array.from({ length: 2 * threads }, () => fetch(thumbnails.url, { method: 'POST', body, headers: thumbnails.headers }).then((r) => r.arrayBuffer())));
    const [load, health]: Result[] = await Promise.all([
      autocannon({ ...thumbnails, connections: 2 * threads, duration: seconds, timeout: 30 }),
      autocannon({ url: `${server.url}/healthz`, connections: 1, duration: seconds, overallRate: HEALTH_RATE, timeout: 30 }),
    ]);
    return {
      thumbnailsPerSecond: load!['2xx'] / load!.duration,
      p50: load!.latency.p50,
      p99: load!.latency.p99,
      healthP99: health!.latency.p99,
      bad: load!.non2xx + load!.errors + load!.timeouts + health!.non2xx + health!.errors + health!.timeouts,
      exitCode: await server.stop(),
    };
  } finally {
    await server.stop('SIGKILL');
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const { bytes, label } = await photo();
console.log(`service:load: ${modes.join(', ')}; ${threads} thread${threads === 1 ? '' : 's'}, ${2 * threads} connections, ${seconds} s each, ${repeats} repeat${repeats === 1 ? '' : 's'} interleaved`);
console.log(`photo: ${label} -> ${SIZES} JPEG; /healthz probed at ${HEALTH_RATE}/s on one connection`);
console.log(`machine: ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at start, Node ${process.version}, sharp ${sharp.versions.sharp}`);

const runs = new Map<Mode, Run[]>(modes.map((m) => [m, []]));
for (let r = 0; r < repeats; r++) {
  for (const mode of modes) {
    const run = await measure(mode, bytes);
    runs.get(mode)!.push(run);
    console.log(`  ${mode} #${r + 1}: ${run.thumbnailsPerSecond.toFixed(1)}/s, p50 ${run.p50} ms, p99 ${run.p99} ms, /healthz p99 ${run.healthP99} ms, not 2xx ${run.bad}, exit ${run.exitCode}`);
  }
}

const sharpRate = runs.has('sharp') ? median(runs.get('sharp')!.map((x) => x.thumbnailsPerSecond)) : undefined;
console.log('');
console.log(`| mode | thumbnails/s | vs sharp | p50 ms | p99 ms | /healthz p99 ms | not 2xx | exit |`);
console.log(`|---|---|---|---|---|---|---|---|`);
for (const [mode, list] of runs) {
  const rate = median(list.map((x) => x.thumbnailsPerSecond));
  const ratio = sharpRate === undefined ? '–' : `${(rate / sharpRate).toFixed(2)}x`;
  console.log(
    `| ${mode} | ${rate.toFixed(1)} | ${ratio} | ${median(list.map((x) => x.p50))} | ${median(list.map((x) => x.p99))} | ${median(list.map((x) => x.healthP99))} | ${list.reduce((n, x) => n + x.bad, 0)} | ${list.map((x) => x.exitCode).join(',')} |`,
  );
}
const failed = [...runs.values()].flat().some((x) => x.exitCode !== 0);
if (failed) {
  console.error('a service did not exit 0 on SIGTERM');
  process.exit(1);
}
