import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeTrecRun } from '@fidkd/eval';
import { writeFileAtomic, writeJsonAtomic } from '@fidkd/orchestrator';
import type { BenchmarkResult } from './harness.js';

const pct = (x: number | undefined) => (x === undefined ? '—' : (100 * x).toFixed(1));

/** A markdown table: one row per retriever; R@k, MRR@10, gold R@k and reader EM when present. */
export function markdownTable(results: BenchmarkResult[]): string {
  const ks = Object.keys(results[0]?.recall ?? {});
  const hasGold = results.some((r) => r.gold_recall);
  const hasEm = results.some((r) => r.reader_em !== undefined);
  const head = ['retriever', ...ks.map((k) => `R@${k}`), 'MRR@10', ...(hasGold ? ks.map((k) => `gold R@${k}`) : []), ...(hasEm ? ['reader EM'] : []), 'questions', 'seconds'];
  const rows = results.map((r) => [
    r.retriever, ...ks.map((k) => pct(r.recall[k])), pct(r.mrr_at_10),
    ...(hasGold ? ks.map((k) => pct(r.gold_recall?.[k])) : []), ...(hasEm ? [pct(r.reader_em)] : []),
    String(r.questions), r.seconds.toFixed(1),
  ]);
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** The JSON form (without the runs). */
export function resultsJson(results: BenchmarkResult[]): unknown {
  return { results: results.map(({ run: _run, ...rest }) => rest) };
}

/** Writes results.md, results.json and one `<retriever>.trec` run file per retriever into `dir`. */
export async function writeBenchmarkOutputs(dir: string, results: BenchmarkResult[]): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, 'results.md'), join(dir, 'results.json')];
  writeFileAtomic(files[0]!, markdownTable(results) + '\n');
  writeJsonAtomic(files[1]!, resultsJson(results));
  for (const r of results) {
    const f = join(dir, `${r.retriever.replace(/[^A-Za-z0-9._-]+/g, '_')}.trec`);
    await writeTrecRun(f, r.run, { tag: r.retriever.replace(/[^A-Za-z0-9._-]+/g, '_') });
    files.push(f);
  }
  return files;
}
