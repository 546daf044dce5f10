/** Turns samples into sections of figures (median, min-max, ratio to tessera) and renders them. */
import type { ScenarioId } from './config.ts';

export interface MetricDef {
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  format: (value: number) => string;
}

export interface RowData {
  id: string;
  label: string;
  /** Shown after the label, e.g. a smaller task count. */
  note?: string;
  /** Why this row has no figures. */
  skipped?: string;
  /** Every sample of every metric. */
  values: Record<string, number[]>;
}

export interface SectionData {
  id: string;
  scenario: ScenarioId;
  title: string;
  note: string;
  metrics: MetricDef[];
  rows: RowData[];
}

export interface Stat {
  median: number;
  min: number;
  max: number;
  samples: number[];
  /** median ÷ tessera's median of the same metric; undefined without a tessera figure. */
  ratio: number | undefined;
}

export interface Section extends Omit<SectionData, 'rows' | 'metrics'> {
  metrics: Array<Omit<MetricDef, 'format'>>;
  rows: Array<Omit<RowData, 'values'> & { stats: Record<string, Stat | undefined> }>;
  formatters: Record<string, (value: number) => string>;
}

export const BASELINE = 'tessera';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function computeSection(data: SectionData): Section {
  const statOf = (values: number[] | undefined): Omit<Stat, 'ratio'> | undefined =>
    values === undefined || values.length === 0
      ? undefined
      : { median: median(values), min: Math.min(...values), max: Math.max(...values), samples: values };
  const base = data.rows.find((r) => r.id === BASELINE);
  const rows = data.rows.map((row) => {
    const stats: Record<string, Stat | undefined> = {};
    for (const m of data.metrics) {
      const s = statOf(row.values[m.key]);
      const b = statOf(base?.values[m.key]);
      stats[m.key] = s && { ...s, ratio: b && b.median !== 0 ? s.median / b.median : undefined };
    }
    const { values: _values, ...rest } = row;
    return { ...rest, stats };
  });
  return {
    id: data.id,
    scenario: data.scenario,
    title: data.title,
    note: data.note,
    metrics: data.metrics.map(({ format: _format, ...m }) => m),
    rows,
    formatters: Object.fromEntries(data.metrics.map((m) => [m.key, m.format])),
  };
}

/** 3 significant digits with k/M suffixes: 237k, 1.23M, 45.6. */
export function sig(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toPrecision(3)}k`;
  if (abs >= 100) return value.toFixed(0);
  return value.toPrecision(3);
}

function cell(section: Section, stat: Stat | undefined, key: string): string {
  if (stat === undefined) return '–';
  const f = section.formatters[key]!;
  const range = stat.samples.length > 1 ? ` [${f(stat.min)}–${f(stat.max)}]` : '';
  const ratio = stat.ratio === undefined ? '' : ` ${stat.ratio.toFixed(2)}×`;
  return `${f(stat.median)}${range}${ratio}`;
}

function header(m: Omit<MetricDef, 'format'>): string {
  return `${m.label} (${m.unit}) ${m.better === 'higher' ? '↑' : '↓'}`;
}

function grid(section: Section): string[][] {
  const head = ['contender', ...section.metrics.map(header)];
  const body = section.rows.map((row) => {
    const label = row.note ? `${row.label} (${row.note})` : row.label;
    if (row.skipped !== undefined) return [label, `skipped: ${row.skipped}`, ...section.metrics.slice(1).map(() => '')];
    return [label, ...section.metrics.map((m) => cell(section, row.stats[m.key], m.key))];
  });
  return [head, ...body];
}

export const LEGEND =
  'Cells: median [min–max] over the repetitions, then the ratio to tessera (contender median ÷ tessera median; ↑ higher is better, ↓ lower is better).';

export function renderText(sections: Section[]): string {
  const out: string[] = [];
  for (const section of sections) {
    const rows = grid(section);
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
    const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
    out.push(`\n${section.title}`, `  ${section.note}`, line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows.slice(1)) out.push(line(r));
  }
  out.push('', LEGEND);
  return out.join('\n');
}

export function renderMarkdown(sections: Section[]): string {
  const out: string[] = [];
  for (const section of sections) {
    const rows = grid(section);
    out.push(`#### ${section.title}`, '', section.note, '');
    out.push(`| ${rows[0]!.join(' | ')} |`, `|${rows[0]!.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
    for (const r of rows.slice(1)) out.push(`| ${r.join(' | ')} |`);
    out.push('');
  }
  out.push(LEGEND, '');
  return out.join('\n');
}

/** One figure of this checkout's tessera against the baseline build's (`--baseline DIR`). */
export interface BuildComparison {
  section: string;
  row: string;
  metric: string;
  unit: string;
  better: 'higher' | 'lower';
  current: Stat;
  baseline: Stat;
  /** current median ÷ baseline median. */
  ratio: number;
  /** Where the current median falls against the baseline's min–max, in the direction that is better. */
  verdict: 'within' | 'better' | 'worse';
}

/**
 * Pairs every row of `currentId` (and its priority row) with the same row of `baselineId`, figure by
 * figure. A current median outside the baseline's min–max on the wrong side is "worse": with the
 * contenders interleaved in one run, that is beyond the noise this run saw.
 */
export function compareBuilds(sections: Section[], currentId: string, baselineId: string): BuildComparison[] {
  const out: BuildComparison[] = [];
  for (const section of sections) {
    for (const row of section.rows) {
      if (row.id !== currentId && !row.id.startsWith(`${currentId}-`)) continue;
      if (row.id.startsWith(baselineId)) continue;
      const twin = section.rows.find((r) => r.id === baselineId + row.id.slice(currentId.length));
      if (twin === undefined) continue;
      for (const m of section.metrics) {
        const current = row.stats[m.key];
        const baseline = twin.stats[m.key];
        if (current === undefined || baseline === undefined || baseline.median === 0) continue;
        const above = current.median > baseline.max;
        const below = current.median < baseline.min;
        const verdict = !above && !below ? 'within' : above === (m.better === 'higher') ? 'better' : 'worse';
        out.push({ section: section.title, row: row.label, metric: m.label, unit: m.unit, better: m.better, current, baseline, ratio: current.median / baseline.median, verdict });
      }
    }
  }
  return out;
}

function comparisonGrid(comparisons: BuildComparison[], sections: Section[]): string[][] {
  const fmt = (c: BuildComparison, v: number): string => {
    const s = sections.find((x) => x.title === c.section);
    const key = s?.metrics.find((m) => m.label === c.metric)?.key;
    return key !== undefined ? s!.formatters[key]!(v) : sig(v);
  };
  const range = (c: BuildComparison, s: Stat): string => `${fmt(c, s.median)} [${fmt(c, s.min)}–${fmt(c, s.max)}]`;
  const head = ['figure', 'current', 'baseline', 'current ÷ baseline', 'against the baseline range'];
  const body = comparisons.map((c) => [
    `${c.row}: ${c.metric} (${c.unit}) ${c.better === 'higher' ? '↑' : '↓'}`,
    range(c, c.current),
    range(c, c.baseline),
    `${c.ratio.toFixed(2)}×`,
    c.verdict === 'within' ? 'within' : c.verdict === 'better' ? 'better (outside, good side)' : 'WORSE (outside, bad side)',
  ]);
  return [head, ...body];
}

export const COMPARISON_LEGEND =
  'current and baseline: median [min–max] over the repetitions; current ÷ baseline: the medians\' ratio; WORSE: the current median lies outside the baseline\'s min–max on the bad side.';

export function renderComparisonText(comparisons: BuildComparison[], sections: Section[], title: string): string {
  const rows = comparisonGrid(comparisons, sections);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [`\n${title}`, line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line), '', COMPARISON_LEGEND].join('\n');
}

export function renderComparisonMarkdown(comparisons: BuildComparison[], sections: Section[], title: string): string {
  const rows = comparisonGrid(comparisons, sections);
  return [
    `#### ${title}`,
    '',
    `| ${rows[0]!.join(' | ')} |`,
    `|${rows[0]!.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`),
    '',
    COMPARISON_LEGEND,
    '',
  ].join('\n');
}
