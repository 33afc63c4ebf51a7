import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeTrecRun } from '@fidkd/eval';
import { writeFileAtomic, writeJsonAtomic } from '@fidkd/orchestrator';
import type { BackendRecord } from '@fidkd/core';
import type { BenchmarkResult } from './harness.js';

const pct = (x: number | undefined) => (x === undefined ? '—' : (100 * x).toFixed(1));

/** A markdown table: one row per retriever; R@k, MRR@k, gold R@k and reader EM when present, setup and retrieval seconds. */
export function markdownTable(results: BenchmarkResult[]): string {
  const ks = Object.keys(results[0]?.recall ?? {});
  const hasGold = results.some((r) => r.gold_recall);
  const hasEm = results.some((r) => r.reader_em !== undefined);
  const head = [
    'retriever', ...ks.map((k) => `R@${k}`), `MRR@${results[0]?.mrr_k ?? 10}`, ...(hasGold ? ks.map((k) => `gold R@${k}`) : []),
    ...(hasEm ? ['reader EM'] : []), 'questions', 'setup s', 'retrieval s',
  ];
  const rows = results.map((r) => [
    r.retriever, ...ks.map((k) => pct(r.recall[k])), pct(r.mrr),
    ...(hasGold ? ks.map((k) => pct(r.gold_recall?.[k])) : []), ...(hasEm ? [pct(r.reader_em)] : []),
    String(r.questions), r.setup_seconds === undefined ? '—' : r.setup_seconds.toFixed(1), r.seconds.toFixed(1),
  ]);
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** The JSON form (without the runs), with the tfjs backend (and WebGPU adapter) the dense models ran on when given. */
export function resultsJson(results: BenchmarkResult[], backend?: BackendRecord): unknown {
  return { results: results.map(({ run: _run, ...rest }) => rest), ...(backend ? { backend } : {}) };
}

/**
 * The run-file name of each retriever: its label without directories (`./my/tfidf.mjs` → `tfidf.mjs`), reduced
 * to `[A-Za-z0-9._-]`, never starting with a dot (no hidden files), made unique by a `-2`, `-3` … suffix.
 */
export function runFileStems(labels: string[]): string[] {
  const used = new Set<string>();
  return labels.map((label) => {
    const base = label.split(/[\\/]/).filter(Boolean).pop() ?? '';
    const stem = base.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'retriever';
    let unique = stem;
    for (let i = 2; used.has(unique); i++) unique = `${stem}-${i}`;
    used.add(unique);
    return unique;
  });
}

/** Writes results.md, results.json and one `<retriever>.trec` run file per retriever (see runFileStems) into `dir`. */
export async function writeBenchmarkOutputs(dir: string, results: BenchmarkResult[], backend?: BackendRecord): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, 'results.md'), join(dir, 'results.json')];
  writeFileAtomic(files[0]!, markdownTable(results) + '\n');
  writeJsonAtomic(files[1]!, resultsJson(results, backend));
  const stems = runFileStems(results.map((r) => r.retriever));
  for (const [i, r] of results.entries()) {
    const f = join(dir, `${stems[i]}.trec`);
    await writeTrecRun(f, r.run, { tag: stems[i]! });
    files.push(f);
  }
  return files;
}
