/** The SVG chart of the main figures, drawn by vega-lite/vega (headless, renderer 'none'). */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { Section } from './report.ts';

interface Point {
  contender: string;
  series: string;
  value: number;
  low: number;
  high: number;
}

function points(section: Section | undefined, keys: Record<string, string>): Point[] {
  if (section === undefined) return [];
  const out: Point[] = [];
  for (const row of section.rows) {
    for (const [key, series] of Object.entries(keys)) {
      const s = row.stats[key];
      if (s !== undefined && s.median > 0) out.push({ contender: row.label, series, value: s.median, low: s.min, high: s.max });
    }
  }
  return out;
}

/** Horizontal grouped bars (median) with min-max rules, on a log scale (the figures span 5 decades). */
function bars(title: string, unit: string, data: Point[]): unknown {
  const order = [...new Set(data.map((d) => d.contender))];
  // Bars on a log scale need a start above 0: the power of ten below the smallest figure.
  const base = 10 ** Math.floor(Math.log10(Math.min(...data.map((d) => Math.min(d.low, d.value)))));
  const x = { type: 'log' as const, domainMin: base };
  return {
    title,
    data: { values: data.map((d) => ({ ...d, base })) },
    width: 520,
    height: { step: 13 },
    encoding: {
      y: { field: 'contender', type: 'nominal', sort: order, title: null },
      yOffset: { field: 'series', type: 'nominal' },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', labelLimit: 400 } },
    },
    layer: [
      {
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: { field: 'value', type: 'quantitative', scale: x, title: `${unit} (median, log scale; rules: min–max)` },
          x2: { field: 'base' },
        },
      },
      {
        mark: { type: 'rule', color: 'black' },
        encoding: { x: { field: 'low', type: 'quantitative', scale: x }, x2: { field: 'high' } },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 9 },
        encoding: {
          x: { field: 'high', type: 'quantitative', scale: x },
          text: { field: 'value', type: 'quantitative', format: '.3~s' },
        },
      },
    ],
  };
}

export async function renderChart(sections: Section[], subtitle: string): Promise<string | undefined> {
  const panels: unknown[] = [];
  const overhead = sections.find((s) => s.id === 'overhead');
  const throughput = points(overhead, { burst: 'all submitted at once', window: 'bounded window in flight' });
  if (throughput.length > 0) panels.push(bars('Dispatch throughput, tiny tasks (higher is better)', 'tasks/s', throughput));

  const scaling: Array<{ contender: string; threads: number; speedup: number }> = [];
  for (const section of sections.filter((s) => s.scenario === 'cpu')) {
    const threads = Number(section.id.replace('cpu-', ''));
    for (const row of section.rows) {
      const s = row.stats.speedup;
      if (s !== undefined && row.id !== 'main-thread') scaling.push({ contender: row.label, threads, speedup: s.median });
    }
  }
  if (scaling.length > 0) {
    panels.push({
      title: 'CPU-bound scaling: speedup over the main thread (higher is better)',
      data: { values: scaling },
      width: 520,
      height: 240,
      mark: { type: 'line', point: true, tooltip: true },
      encoding: {
        x: { field: 'threads', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: [...new Set(scaling.map((d) => d.threads))] } },
        y: { field: 'speedup', type: 'quantitative', title: 'speedup (median)' },
        color: { field: 'contender', type: 'nominal', legend: { orient: 'right' } },
      },
    });
  }

  const delay = points(
    sections.find((s) => s.id === 'latency'),
    { p99: 'delay p99', max: 'delay max' },
  );
  if (delay.length > 0) panels.push(bars('Main event-loop delay during the CPU-bound run (lower is better)', 'ms', delay));
  if (panels.length === 0) return undefined;

  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'tessera benchmark', subtitle },
    vconcat: panels,
    resolve: { scale: { color: 'independent', x: 'independent', y: 'independent' } },
    config: { font: 'sans-serif', view: { stroke: null } },
  } as unknown as vl.TopLevelSpec;
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
