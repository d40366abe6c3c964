/**
 * Small helpers for `npm run bench`: timing, percentiles, result rows, the printed table and the
 * JSON file. A row is one measured figure with its target and, when there is one, the figure of
 * a baseline on the same work, and the ratio between them.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';

export interface Target {
  /** "<=" when lower is better (latency, time, memory), ">=" when higher is better (throughput). */
  op: '<=' | '>=';
  value: number;
}

export interface BenchRow {
  metric: string;
  value: number;
  unit: string;
  target?: Target;
  /** The same figure for the baseline, when one was measured. */
  baseline?: number;
  /**
   * Which way is better, for the "vs baseline" column; by default the target's direction, else
   * higher for rates (a unit ending in "/s") and lower for everything else.
   */
  better?: 'lower' | 'higher';
  /** Free-form detail: sample size, what the baseline is… */
  note?: string;
}

export type RowStatus = 'ok' | 'NOT MET' | '—';

export function status(row: BenchRow): RowStatus {
  if (!row.target) return '—';
  const { op, value } = row.target;
  return (op === '<=' ? row.value <= value : row.value >= value) ? 'ok' : 'NOT MET';
}

/** value / baseline: below 1 means ours is smaller (faster, when lower is better). */
export function ratio(row: BenchRow): number | undefined {
  if (row.baseline === undefined || row.baseline === 0) return undefined;
  return row.value / row.baseline;
}

/** Milliseconds elapsed while `fn` runs. */
export async function timeMs<T>(fn: () => Promise<T> | T): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await fn();
  return { ms: performance.now() - start, result };
}

/** Runs `fn` on each input in turn, `rounds` times over, and returns each call's duration in ms. */
export async function sampleLatencies<I>(
  inputs: readonly I[],
  rounds: number,
  fn: (input: I) => Promise<unknown> | unknown,
): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const input of inputs) {
      const start = performance.now();
      await fn(input);
      out.push(performance.now() - start);
    }
  }
  return out;
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (!samples.length) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** p50/p95/p99 rows for one set of latency samples, with the baseline's beside them. */
export function latencyRows(
  name: string,
  samples: readonly number[],
  baseline: readonly number[] | undefined,
  targets: Partial<Record<'p50' | 'p95' | 'p99', number>>,
  note?: string,
): BenchRow[] {
  return (['p50', 'p95', 'p99'] as const).map((p) => {
    const q = Number(p.slice(1));
    return {
      metric: `${name} ${p}`,
      value: percentile(samples, q),
      unit: 'ms',
      target: targets[p] === undefined ? undefined : { op: '<=', value: targets[p] },
      baseline: baseline ? percentile(baseline, q) : undefined,
      note,
    };
  });
}

export function betterWay(row: BenchRow): 'lower' | 'higher' {
  if (row.better) return row.better;
  if (row.target) return row.target.op === '<=' ? 'lower' : 'higher';
  return row.unit.endsWith('/s') ? 'higher' : 'lower';
}

/** "12× better" / "1.3× worse" / "same": ours against the baseline, in the row's better direction. */
export function versus(row: BenchRow): string {
  const x = ratio(row);
  if (x === undefined || x <= 0 || !Number.isFinite(x)) return '—';
  const factor = betterWay(row) === 'lower' ? 1 / x : x;
  if (Math.abs(factor - 1) < 0.05) return 'same';
  const shown = factor >= 1 ? factor : 1 / factor;
  return `${shown.toFixed(shown >= 10 ? 0 : 1)}× ${factor >= 1 ? 'better' : 'worse'}`;
}

/** Least-squares slope of y over x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx ? sxy / sxx : NaN;
}

const fmt = (n: number | undefined, unit = '') => {
  if (n === undefined || Number.isNaN(n)) return '—';
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : Math.abs(n) >= 1 ? 2 : 3;
  return `${n.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
};

/** The rows as an aligned text table. */
export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['metric', 'value', 'target', 'status', 'baseline', 'ratio', 'vs baseline'];
  const lines = rows.map((r) => {
    const x = ratio(r);
    return [
      r.metric,
      fmt(r.value, r.unit),
      r.target ? `${r.target.op} ${fmt(r.target.value, r.unit)}` : '—',
      status(r),
      r.baseline === undefined ? '—' : fmt(r.baseline, r.unit),
      x === undefined ? '—' : `${x.toFixed(x < 0.1 ? 3 : 2)}×`,
      versus(r),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [row(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(row)].join('\n');
}

/** The machine the figures were measured on. */
export function environment() {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    /** 1-minute load average when the results were written (other work on the machine skews them). */
    loadAverage: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

export function writeResults(file: string, meta: Record<string, unknown>, rows: readonly BenchRow[]): void {
  const out = {
    ...meta,
    environment: environment(),
    rows: rows.map((r) => ({ ...r, status: status(r), ratio: ratio(r), versusBaseline: versus(r) })),
  };
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
}

export const rssMb = () => process.memoryUsage().rss / 1024 ** 2;

/**
 * How fast the host runs this process right now: the median time, over `runs`, of a fixed
 * workload (object building, JSON, sha256), in ms (lower is faster). Taken with no load running,
 * it tells a slow host from a slow service when a figure moves between runs of the same code:
 * these shared VMs have been seen to run the same workload 1.7× slower for seconds at a time.
 */
export function hostProbeMs(runs = 5): number {
  const times: number[] = [];
  const block = Buffer.alloc(1 << 20, 7);
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    let sink = 0;
    for (let i = 0; i < 60_000; i++) sink += JSON.stringify({ a: i, b: String(i), c: [i, i + 1] }).length;
    for (let i = 0; i < 8; i++) sink += createHash('sha256').update(block).digest()[0]!;
    times.push(performance.now() - start);
    if (sink < 0) throw new Error('unreachable'); // keeps the work from being optimized away
  }
  return percentile(times, 50);
}
