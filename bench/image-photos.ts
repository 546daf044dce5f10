/**
 * Real-photo scenario of `npm run bench:image`: every JPEG of a folder (by default the photos of
 * Debian's mate-backgrounds package) to a 256-pixel-wide JPEG thumbnail (quality 80, Lanczos-3),
 * and to WebP when the image tasks accept `format: 'webp'` (checked at run time), the way a
 * service does it: requests submitted concurrently, 2 x threads in flight.
 *
 * Contenders, each in a fresh child process (so sharp's libuv threadpool can be sized), runs
 * interleaved:
 *   tessera, T threads     createPool({ minThreads: T, maxThreads: T }), the `resize` task
 *   sharp, T threads       UV_THREADPOOL_SIZE=T and sharp.concurrency(1): T images at once, one
 *                          libvips thread each, T threads in all, as tessera
 *   main thread            the same `resize` task called directly on the main thread
 * Figures: photos/s (whole pass), p50/p99 ms per photo (submission to result, queueing included),
 * and the event loop's delay p99 over the pass (monitorEventLoopDelay, 1 ms resolution).
 *
 *   npm run bench:image -- --photos DIR --photo-runs 3 --photos-only
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** Where Debian's mate-backgrounds package puts its photos. */
export const DEFAULT_PHOTOS = '/usr/share/backgrounds/mate';
const WIDTH = 256;
const QUALITY = 80;

type Format = 'jpeg' | 'webp';
type Kind = 'tessera' | 'sharp' | 'main';

interface PassResult {
  photos: number;
  seconds: number;
  p50: number;
  p99: number;
  loopP99: number;
  bytesOut: number;
}

/** Every .jpg/.jpeg under `dir`, sorted, recursively. */
export function findPhotos(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.jpe?g$/i.test(name)) out.push(path);
    }
  };
  walk(dir);
  return out;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? NaN;
};

/** Runs `jobs` with at most `inFlight` at once; per-job latency from submission to settlement. */
async function pass(jobs: Array<() => Promise<number>>, inFlight: number): Promise<PassResult> {
  const latencies: number[] = [];
  let bytesOut = 0;
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const start = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      // Each request starts in its own turn of the event loop, as one arriving on a socket would.
      await new Promise((resolve) => setImmediate(resolve));
      if (next >= jobs.length) break;
      const job = jobs[next++]!;
      const t = performance.now();
      bytesOut += await job();
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const seconds = (performance.now() - start) / 1000;
  // Let the histogram's timer fire once more, so a loop blocked until the end is counted.
  await new Promise((resolve) => setTimeout(resolve, 5));
  histogram.disable();
  latencies.sort((a, b) => a - b);
  return { photos: jobs.length, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), loopP99: histogram.percentile(99) / 1e6, bytesOut };
}

/** Child side: one contender, one warm-up pass on photos spread over the folder, then one measured pass over all. */
async function child(kind: Kind, threads: number, format: Format, dir: string): Promise<void> {
  const photos = findPhotos(dir).map((path) => new Uint8Array(readFileSync(path)));
  const inFlight = 2 * threads;
  let job: (bytes: Uint8Array) => Promise<number>;
  let close = async (): Promise<void> => {};
  if (kind === 'sharp') {
    const sharp = (await import('sharp')).default;
    sharp.cache(false);
    sharp.concurrency(1);
    job = async (bytes) => {
      const s = sharp(bytes).resize({ width: WIDTH, kernel: 'lanczos3' });
      const out = await (format === 'webp' ? s.webp({ quality: QUALITY }) : s.jpeg({ quality: QUALITY })).toBuffer();
      return out.length;
    };
  } else if (kind === 'tessera') {
    const { createPool } = await import('../src/index.ts');
    const pool = createPool<typeof import('../workers/image.ts')>({ module: new URL('../workers/image.ts', import.meta.url), minThreads: threads, maxThreads: threads });
    await pool.ready();
    job = async (bytes) => (await pool.run('resize', { image: bytes, width: WIDTH, format: format as 'jpeg', quality: QUALITY })).data.length;
    close = () => pool.destroy();
  } else {
    const { resize } = await import('../workers/image.ts');
    job = async (bytes) => (await resize({ image: bytes, width: WIDTH, format: format as 'jpeg', quality: QUALITY })).data.length;
  }
  // Warm-up: 2 x in-flight photos spread over the folder, so every thread has met each decode path
  // (progressive, and baseline through shrink-on-load, whose libvips starts on first use) before
  // the measured pass; sharp gets the same warm-up.
  const warm = Array.from({ length: Math.min(photos.length, 2 * inFlight) }, (_, i) => photos[Math.floor((i * photos.length) / Math.min(photos.length, 2 * inFlight))]!);
  await pass(warm.map((p) => () => job(p)), inFlight);
  const result = await pass(photos.map((p) => () => job(p)), inFlight);
  await close();
  process.stdout.write(`PHOTO-RESULT ${JSON.stringify(result)}\n`);
}

/** Does the image task module accept `format: 'webp'`? Asked of the task itself, on a 16x16 image. */
async function tasksSupportWebp(): Promise<boolean> {
  const { resize } = await import('../workers/image.ts');
  const image = { data: new Uint8Array(16 * 16 * 4).fill(200), width: 16, height: 16 };
  try {
    const out = await resize({ image, width: 8, format: 'webp' as 'jpeg' });
    return out.format === ('webp' as string);
  } catch {
    return false;
  }
}

function runChild(kind: Kind, threads: number, format: Format, dir: string): Promise<PassResult> {
  const self = fileURLToPath(import.meta.url);
  const args = ['--import', 'tsx', self, '--photo-child', kind, '--threads', String(threads), '--format', format, '--photos', dir];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { env: { ...process.env, UV_THREADPOOL_SIZE: String(threads) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('PHOTO-RESULT '));
      if (code !== 0 || line === undefined) reject(new Error(`photo child ${kind} ${threads} ${format} exited with ${code}`));
      else resolve(JSON.parse(line.slice('PHOTO-RESULT '.length)) as PassResult);
    });
  });
}

/** Parent side: prints the real-photo table (markdown). Returns false when there were no photos. */
export async function photoScenario(options: { dir: string; runs: number; threads: number[] }): Promise<boolean> {
  const photos = findPhotos(options.dir);
  if (photos.length === 0) {
    console.log(`photos: no JPEG under ${options.dir}; skipped. Install some with \`sudo apt-get install -y mate-backgrounds\` (Debian/Ubuntu), or pass --photos DIR.`);
    return false;
  }
  const { default: sharp } = await import('sharp');
  const webp = await tasksSupportWebp();
  const formats: Format[] = webp ? ['jpeg', 'webp'] : ['jpeg'];
  const contenders: Array<{ name: string; kind: Kind; threads: number }> = [];
  for (const t of options.threads) {
    contenders.push({ name: `tessera, ${t} thread${t > 1 ? 's' : ''}`, kind: 'tessera', threads: t });
    contenders.push({ name: `sharp, ${t} thread${t > 1 ? 's' : ''}`, kind: 'sharp', threads: t });
  }
  contenders.push({ name: 'main thread (resize task called directly)', kind: 'main', threads: 1 });
  const megapixels = photos.reduce((sum, path) => {
    const bytes = readFileSync(path);
    // SOFn marker: height and width follow the precision byte.
    for (let i = 2; i < bytes.length - 9; ) {
      if (bytes[i] !== 0xff) return sum;
      const marker = bytes[i + 1]!;
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return sum + (bytes.readUInt16BE(i + 5) * bytes.readUInt16BE(i + 7)) / 1e6;
      i += 2 + bytes.readUInt16BE(i + 2);
    }
    return sum;
  }, 0);
  const results = new Map<string, PassResult[]>();
  for (let r = 0; r < options.runs; r++) {
    for (const format of formats) {
      for (const c of contenders) {
        const key = `${c.name}|${format}`;
        const list = results.get(key) ?? [];
        list.push(await runChild(c.kind, c.threads, format, options.dir));
        results.set(key, list);
      }
    }
  }
  console.log(
    `photos: ${photos.length} JPEGs from ${options.dir} (${megapixels.toFixed(1)} MP in all), each to ${WIDTH} px wide, Lanczos-3, quality ${QUALITY}; ` +
      `${options.runs} runs interleaved, each contender in a fresh process, medians [min–max]; sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}.`,
  );
  console.log(`In flight: 2 x threads (the main thread runs one at a time). p50/p99: per photo, submission to result. Event loop: monitorEventLoopDelay p99 over the pass (1 ms resolution).`);
  if (!webp) console.log("WebP: the image tasks do not accept format 'webp' yet; WebP rows skipped.");
  console.log('| contender | output | photos/s | vs sharp, same threads | p50 ms | p99 ms | event-loop p99 ms |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const format of formats) {
    for (const c of contenders) {
      const list = results.get(`${c.name}|${format}`)!;
      const rates = list.map((x) => x.photos / x.seconds);
      const rate = median(rates);
      const sharpList = results.get(`sharp, ${c.threads} thread${c.threads > 1 ? 's' : ''}|${format}`);
      // Ratios within a run (same machine load), then the median of those.
      const ratio = c.kind === 'sharp' || sharpList === undefined ? undefined : median(list.map((x, i) => x.photos / x.seconds / (sharpList[i]!.photos / sharpList[i]!.seconds)));
      console.log(
        `| ${c.name} | ${format.toUpperCase()} | ${rate.toFixed(2)} [${Math.min(...rates).toFixed(2)}–${Math.max(...rates).toFixed(2)}] | ${ratio === undefined ? '–' : `${ratio.toFixed(2)}x`} | ` +
          `${median(list.map((x) => x.p50)).toFixed(0)} | ${median(list.map((x) => x.p99)).toFixed(0)} | ${median(list.map((x) => x.loopP99)).toFixed(2)} |`,
      );
    }
  }
  return true;
}

const at = process.argv.indexOf('--photo-child');
if (at > 0) {
  const value = (name: string): string => process.argv[process.argv.indexOf(`--${name}`) + 1]!;
  await child(process.argv[at + 1] as Kind, Number(value('threads')), value('format') as Format, value('photos'));
}
