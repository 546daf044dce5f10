// Runs the benchmark harness with test sizes so it cannot rot. Asserts the SHAPE of its output only,
// never timings (other work shares the machine).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONTENDERS = ['tessera', 'piscina', 'raw-round-robin', 'main-thread'];

interface Stat {
  median: number;
  min: number;
  max: number;
  samples: number[];
  ratio?: number;
}
interface Report {
  meta: { machine: { node: string; cpuModel: string; cores: number }; calibration: { iterations: number } };
  resultsAgree: boolean;
  sections: Array<{ id: string; scenario: string; metrics: Array<{ key: string }>; rows: Array<{ id: string; skipped?: string; stats: Record<string, Stat | undefined> }> }>;
  samples: Array<{ need: string; contender: string; error?: string; failure?: string; timeoutMs?: number; output?: { result: unknown } }>;
}

describe('bench harness (tiny sizes)', () => {
  let out: string | undefined;
  let hungOut: string | undefined;
  afterAll(async () => {
    for (const dir of [out, hungOut]) if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('writes JSON with a sample per contender and job, markdown, and an SVG chart', async () => {
    out = await mkdtemp(join(tmpdir(), 'tessera-bench-'));
    const args = ['--import', 'tsx', 'bench/run.ts', '--tiny', '--out', out, '--contenders', CONTENDERS.join(',')];
    const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: ROOT, env: { ...process.env, BENCH_TINY: '1' }, timeout: 120_000 });
    expect(stdout).toContain('Dispatch overhead');

    const files = await readdir(out);
    const json = files.find((f) => f.endsWith('.json'));
    expect(json).toBeDefined();
    const report = JSON.parse(await readFile(join(out, json!), 'utf8')) as Report;
    expect(report.meta.machine.node).toBe(process.version);
    expect(report.meta.machine.cores).toBeGreaterThan(0);
    expect(report.meta.calibration.iterations).toBeGreaterThan(0);
    expect(report.resultsAgree).toBe(true);
    expect(report.samples.filter((s) => s.error !== undefined)).toEqual([]);

    for (const need of ['burst', 'stream', 'cpuScaling']) {
      for (const id of CONTENDERS) expect(report.samples.some((s) => s.need === need && s.contender === id && s.output), `${need} ${id}`).toBe(true);
    }
    expect(report.samples.some((s) => s.need === 'burstPriority' && s.contender === 'tessera')).toBe(true);

    expect(new Set(report.sections.map((s) => s.scenario))).toEqual(new Set(['overhead', 'cpu', 'latency', 'memory']));
    for (const section of report.sections) {
      for (const row of section.rows.filter((r) => r.skipped === undefined && CONTENDERS.includes(r.id))) {
        for (const { key } of section.metrics) {
          const stat = row.stats[key];
          expect(stat, `${section.id} ${row.id} ${key}`).toBeDefined();
          for (const v of [stat!.median, stat!.min, stat!.max, stat!.ratio!]) {
            expect(Number.isFinite(v) && v >= 0, `${section.id} ${row.id} ${key} = ${v}`).toBe(true);
          }
          // Positive except figures that can honestly be 0 (an idle loop's delay percentile, a window not run).
          if (!['p50', 'p99', 'max', 'elu'].includes(key)) expect(stat!.median, `${section.id} ${row.id} ${key}`).toBeGreaterThan(0);
        }
      }
      const tessera = section.rows.find((r) => r.id === 'tessera');
      for (const { key } of section.metrics) {
        if (tessera?.stats[key] && tessera.stats[key]!.median > 0) expect(tessera.stats[key]!.ratio).toBeCloseTo(1, 10);
      }
    }

    expect(await readFile(join(out, 'latest.md'), 'utf8')).toMatch(/\| contender \|/);
    expect((await readFile(join(out, 'chart.svg'), 'utf8')).startsWith('<svg')).toBe(true);
  }, 120_000);

  it('kills a contender that hangs, marks its row "timed out" and goes on with exit code 0', async () => {
    hungOut = await mkdtemp(join(tmpdir(), 'tessera-bench-hung-'));
    const args = ['--import', 'tsx', 'bench/run.ts', '--tiny', '--scenario', 'overhead', '--out', hungOut, '--contenders', 'tessera,piscina'];
    // BENCH_TEST_HANG makes every child of that contender hang (bench/runner.ts); the tiny jobs' time limit is about 20 s.
    const { stdout } = await promisify(execFile)(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, BENCH_TINY: '1', BENCH_TEST_HANG: 'piscina' },
      timeout: 100_000,
    });
    expect(stdout).toMatch(/piscina \(timed out\)/);
    const json = (await readdir(hungOut)).find((f) => f.endsWith('.json'));
    const report = JSON.parse(await readFile(join(hungOut, json!), 'utf8')) as Report;
    const piscina = report.samples.filter((s) => s.contender === 'piscina');
    expect(piscina.length).toBeGreaterThan(0);
    for (const s of piscina) {
      expect(s.failure).toBe('timed out');
      expect(s.timeoutMs).toBeLessThan(60_000);
    }
    expect(report.samples.filter((s) => s.contender === 'tessera' && s.output).length).toBe(2);
  }, 120_000);

  it('bench/soak.ts runs, measures the heap after GC and passes (a short run)', async () => {
    const args = ['--expose-gc', '--import', 'tsx', 'bench/soak.ts', '--runs', '20000', '--warmup', '2000', '--checkpoints', '2'];
    const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: ROOT, timeout: 60_000 });
    expect(stdout).toMatch(/runs:\s+20,000 in [\d.]+ s: [\d,]+ runs\/s/);
    expect(stdout).toMatch(/growth:\s+[+-][\d.]+ MiB \(limit 10 MiB\)/);
    expect(stdout).toMatch(/completed 22,000, failed 0/);
    expect(stdout).toContain('PASS');
  }, 60_000);
});
