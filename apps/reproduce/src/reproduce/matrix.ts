import { UserError } from '../ui/errors.js';
import { readJsonFile } from '../config-files.js';

/** One expected result of the reproduction matrix. */
export interface MatrixEntry {
  config: string;
  split: string;
  /** metric name (`recall@k`, `em`) → expected fraction, or null when no source claims one. */
  expected: Record<string, number | null>;
  /** Absolute tolerance (fraction). */
  tolerance: number;
  source: string;
}

/** A comparison row. */
export interface MatrixComparison {
  metric: string;
  expected: number;
  got: number | undefined;
  delta: number | undefined;
  ok: boolean;
}

/** Reads the reproduction matrix (the shipped configs/reproduction-matrix.json, or `--matrix`) and validates it. */
export function readMatrix(file: string): MatrixEntry[] {
  const raw = readJsonFile(file, 'reproduction matrix (--matrix)') as { entries?: unknown };
  if (!raw || !Array.isArray(raw.entries)) throw new UserError(`reproduction matrix (--matrix) ${file}: expected { "entries": [ … ] }`);
  raw.entries.forEach((e: unknown, i: number) => {
    const x = e as MatrixEntry;
    if (typeof x.config !== 'string' || typeof x.split !== 'string' || typeof x.tolerance !== 'number' || typeof x.expected !== 'object') {
      throw new UserError(`reproduction matrix (--matrix) ${file}: entries[${i}] needs "config", "split", "expected" and "tolerance"`);
    }
  });
  return raw.entries as MatrixEntry[];
}

/** Compares final metrics (`<split>.recall@k`, `<split>.em`) with a matrix entry. */
export function compareWithMatrix(entry: MatrixEntry, metrics: Record<string, number>): MatrixComparison[] {
  const rows: MatrixComparison[] = [];
  for (const [metric, expected] of Object.entries(entry.expected)) {
    if (expected === null) continue;
    const got = metrics[`${entry.split}.${metric}`];
    const delta = got === undefined ? undefined : got - expected;
    rows.push({ metric: `${entry.split}.${metric}`, expected, got, delta, ok: delta !== undefined && Math.abs(delta) <= entry.tolerance + 1e-12 });
  }
  return rows;
}

/** The comparison as a markdown table. */
export function comparisonTable(rows: MatrixComparison[], tolerance: number): string {
  const f = (x: number | undefined) => (x === undefined ? 'missing' : (100 * x).toFixed(1));
  return [
    `| metric | expected | got | Δ (points) | within ±${(100 * tolerance).toFixed(1)} |`,
    '|---|---:|---:|---:|:---:|',
    ...rows.map((r) => `| ${r.metric} | ${f(r.expected)} | ${f(r.got)} | ${r.delta === undefined ? '—' : (100 * r.delta).toFixed(1)} | ${r.ok ? 'yes' : 'no'} |`),
  ].join('\n');
}
