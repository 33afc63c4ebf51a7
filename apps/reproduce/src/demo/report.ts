/**
 * The outputs of a whole run, `fidkd demo` and `fidkd reproduce` alike: results.json, report.md (a table per
 * iteration with D⁰ — BM25 in the demo — as iteration 0: R@k by answer string, gold-passage R@k, reader EM, the
 * teacher's gold@1; then the baselines) and an SVG plot (hand-written): retrieval per iteration beside the answers
 * (reader EM) and the teacher.
 */
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '@fidkd/orchestrator';

/** How well the teacher G of a retriever's training points at the gold passage (null where the data has none). */
export interface TeacherResult {
  /** Dev questions whose gold passage is among the reader's n_context: fraction whose highest G is the gold passage. */
  gold_at_1: number | null;
  questions: number;
}

/** One row of results.json. */
export interface IterationResult {
  iteration: number;
  /** Iteration 0: `bm25` (the demo's D⁰) or `initial` (the D⁰ of a config's question files); then `distilled`. */
  retriever: 'bm25' | 'initial' | 'distilled';
  /** R@k by DPR has_answer (an answer string among the top k). */
  recall: Record<string, number>;
  /** R@k of the gold passage (the passage that states the fact); null on data that does not know its gold passages. */
  gold_recall: Record<string, number> | null;
  reader_em: number | null;
  /** Distilled rows: the scores of the reader that taught this row's retriever (iteration t − 1's reader). */
  teacher: TeacherResult | null;
}

/** The baseline branches the demo can report. */
export const BASELINE_LABELS = {
  has_answer: 'has_answer baseline',
  shuffled_teacher: 'shuffled teacher',
  oracle_teacher: 'oracle teacher',
} as const;
export type BaselineKey = keyof typeof BASELINE_LABELS;

/** A baseline row of results.json. */
export interface BaselineResult {
  recall: Record<string, number>;
  gold_recall: Record<string, number> | null;
}

/** results.json. Recall values are fractions of the dev questions. */
export interface DemoResults {
  iterations: IterationResult[];
  baselines: Partial<Record<BaselineKey, BaselineResult>>;
}

/**
 * Builds results.json from the evaluate-stage metrics (`dev.recall@k`, `dev.gold_recall@k`, `dev.em`), the score stages' teacher
 * metrics (`dev.gold_at_1`, `dev.gold_questions`) and the baseline branches' evaluate metrics (the pipeline names
 * the has_answer branch 'baseline').
 */
export function buildResults(
  iterations: Array<{ iteration: number; metrics: Record<string, number>; teacher?: Record<string, number> }>,
  baselines: Partial<Record<string, Record<string, number>>>,
  ks: number[],
  split = 'dev',
  initial: 'bm25' | 'initial' = 'bm25',
): DemoResults {
  const recall = (m: Record<string, number>): Record<string, number> => {
    const r: Record<string, number> = {};
    for (const k of ks) {
      const v = m[`${split}.recall@${k}`];
      if (v === undefined) throw new Error(`evaluation metrics lack ${split}.recall@${k}`);
      r[String(k)] = v;
    }
    return r;
  };
  // every k or none: a file either knows its gold passages or does not
  const goldRecall = (m: Record<string, number>): Record<string, number> | null =>
    ks.every((k) => m[`${split}.gold_recall@${k}`] !== undefined) ? Object.fromEntries(ks.map((k) => [String(k), m[`${split}.gold_recall@${k}`]!])) : null;
  const teacherOf = new Map(iterations.map((it) => [it.iteration, it.teacher]));
  const out: DemoResults = {
    iterations: iterations.map(({ iteration, metrics }) => {
      const t = iteration > 0 ? teacherOf.get(iteration - 1) : undefined;
      return {
        iteration,
        retriever: iteration === 0 ? initial : 'distilled',
        recall: recall(metrics),
        gold_recall: goldRecall(metrics),
        reader_em: metrics[`${split}.em`] ?? null,
        teacher: iteration === 0 ? null : { gold_at_1: t?.[`${split}.gold_at_1`] ?? null, questions: t?.[`${split}.gold_questions`] ?? 0 },
      };
    }),
    baselines: {},
  };
  for (const key of Object.keys(BASELINE_LABELS) as BaselineKey[]) {
    const m = baselines[key === 'has_answer' ? 'baseline' : key];
    if (m) out.baselines[key] = { recall: recall(m), gold_recall: goldRecall(m) };
  }
  return out;
}

const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : (100 * x).toFixed(1));

/**
 * The markdown table: one row per iteration (R@k, gold-passage R@k, reader EM, the teacher's gold@1), then the
 * baseline rows. The gold columns are left out when no row knows its gold passages (real data).
 */
export function resultsTable(r: DemoResults, ks: string[]): string {
  const withGold = [...r.iterations, ...Object.values(r.baselines)].some((x) => x?.gold_recall);
  const cols = (x: Pick<IterationResult, 'recall' | 'gold_recall'>): string =>
    [...ks.map((k) => pct(x.recall[k])), ...(withGold ? ks.map((k) => pct(x.gold_recall?.[k])) : [])].join(' | ');
  const names = [...ks.map((k) => `R@${k}`), ...(withGold ? ks.map((k) => `gold R@${k}`) : [])];
  const head = `| iteration | retriever | ${names.join(' | ')} | reader EM | teacher gold@1 |`;
  const sep = `|---|---|${names.map(() => '---:').join('|')}|---:|---:|`;
  const rows = r.iterations.map((it) => `| ${it.iteration} | ${it.retriever} | ${cols(it)} | ${pct(it.reader_em)} | ${pct(it.teacher?.gold_at_1)} |`);
  for (const key of Object.keys(BASELINE_LABELS) as BaselineKey[]) {
    const b = r.baselines[key];
    if (b) rows.push(`| — | ${BASELINE_LABELS[key]} | ${cols(b)} | — | — |`);
  }
  return [head, sep, ...rows].join('\n');
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A line of a plot panel: its value per iteration (null: no point), or a horizontal line (a baseline). */
interface Series {
  label: string;
  color: string;
  /** SVG stroke-dasharray; undefined: solid. */
  dash?: string;
  values?: Array<[number, number | null]>;
  level?: number;
}

/** One panel of the plot: axes 0–100 %, iterations on x, its lines and their legend below the panel. */
function plotPanel(parts: string[], o: { x0: number; width: number; title: string; ylabel: string; iterations: number[]; series: Series[]; columns: number; d0: string }): void {
  const T = 40, ph = 300, L = o.x0 + 55, pw = o.width - 75;
  const maxIt = Math.max(1, ...o.iterations);
  const x = (i: number) => L + (pw * i) / maxIt;
  const y = (v: number) => T + ph * (1 - v);
  parts.push(`<text x="${L + pw / 2}" y="24" text-anchor="middle" font-size="14">${esc(o.title)}</text>`);
  for (let v = 0; v <= 1.0001; v += 0.2) {
    parts.push(`<line x1="${L}" y1="${y(v).toFixed(1)}" x2="${L + pw}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${L - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Math.round(v * 100)}%</text>`);
  }
  for (const i of o.iterations) {
    parts.push(`<line x1="${x(i).toFixed(1)}" y1="${T + ph}" x2="${x(i).toFixed(1)}" y2="${T + ph + 5}" stroke="#333"/>`);
    parts.push(`<text x="${x(i).toFixed(1)}" y="${T + ph + 20}" text-anchor="middle">${i === 0 ? `0 (${o.d0})` : i}</text>`);
  }
  parts.push(`<line x1="${L}" y1="${T + ph}" x2="${L + pw}" y2="${T + ph}" stroke="#333"/><line x1="${L}" y1="${T}" x2="${L}" y2="${T + ph}" stroke="#333"/>`);
  parts.push(`<text x="${L + pw / 2}" y="${T + ph + 40}" text-anchor="middle">iteration</text>`);
  parts.push(`<text transform="translate(${o.x0 + 14} ${T + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.ylabel)}</text>`);
  o.series.forEach((s, j) => {
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    if (s.level !== undefined) {
      parts.push(`<line x1="${L}" y1="${y(s.level).toFixed(1)}" x2="${L + pw}" y2="${y(s.level).toFixed(1)}" stroke="${s.color}"${dash} stroke-width="1.5"/>`);
    } else {
      const pts = (s.values ?? []).filter((p): p is [number, number] => p[1] !== null);
      parts.push(`<polyline fill="none" stroke="${s.color}"${dash} stroke-width="2" points="${pts.map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`);
      for (const [i, v] of pts) parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
    }
    // legend under the panel, `columns` entries a row
    const lx = L - 40 + (j % o.columns) * ((pw + 40) / o.columns), ly = T + ph + 62 + Math.floor(j / o.columns) * 18;
    parts.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 25}" y2="${ly}" stroke="${s.color}"${dash} stroke-width="2"/><text x="${lx + 31}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const BASELINE_STYLES: Array<[BaselineKey, string, string]> = [['has_answer', '6 4', 'has_answer'], ['shuffled_teacher', '2 3', 'shuffled G']];

/**
 * The SVG plot: left, R@k by answer string per iteration (one line per k; the has_answer baseline dashed, the
 * shuffled teacher dotted); right, what the retrieval is for — the reader's exact match per iteration, beside the
 * gold-passage R@k (middle k) with the baselines' and the teacher's gold@1 (where the data knows gold passages).
 */
export function recallPlotSvg(r: DemoResults, ks: string[], title = 'Retrieval and answers per iteration (dev)'): string {
  const W = 1000, P = 500;
  const its = r.iterations.map((i) => i.iteration);
  const d0 = r.iterations[0]?.retriever === 'initial' ? 'D⁰' : 'BM25';
  const per = (f: (it: IterationResult) => number | null | undefined): Array<[number, number | null]> => r.iterations.map((it) => [it.iteration, f(it) ?? null]);
  const left: Series[] = [];
  ks.forEach((k, j) => {
    const color = COLORS[j % COLORS.length]!;
    left.push({ label: `R@${k} distilled`, color, values: per((it) => it.recall[k]) });
    for (const [key, dash, label] of BASELINE_STYLES) {
      const b = r.baselines[key]?.recall[k];
      if (b !== undefined) left.push({ label: `R@${k} ${label}`, color, dash, level: b });
    }
  });
  const gk = ks.includes('5') ? '5' : ks[Math.floor(ks.length / 2)]!;
  const right: Series[] = [{ label: 'reader EM', color: '#000000', values: per((it) => it.reader_em) }];
  if (r.iterations.some((it) => it.gold_recall)) {
    right.push({ label: `gold R@${gk} distilled`, color: COLORS[1]!, values: per((it) => it.gold_recall?.[gk]) });
    for (const [key, dash, label] of BASELINE_STYLES) {
      const b = r.baselines[key]?.gold_recall?.[gk];
      if (b !== undefined) right.push({ label: `gold R@${gk} ${label}`, color: COLORS[1]!, dash, level: b });
    }
  }
  if (r.iterations.some((it) => typeof it.teacher?.gold_at_1 === 'number')) {
    right.push({ label: 'teacher gold@1', color: COLORS[4]!, dash: '8 3 2 3', values: per((it) => it.teacher?.gold_at_1) });
  }
  // left: a legend row per k (distilled, then its baselines); right: two columns
  const leftColumns = Math.max(1, Math.round(left.length / ks.length));
  const rows = Math.max(Math.ceil(left.length / leftColumns), Math.ceil(right.length / 2));
  const H = 400 + rows * 18 + 10;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<title>${esc(title)}</title>`);
  plotPanel(parts, { x0: 0, width: P, title: 'Retrieval: top-k accuracy by answer string', ylabel: 'R@k', iterations: its, series: left, columns: leftColumns, d0 });
  plotPanel(parts, { x0: P, width: P, title: 'Answers: reader exact match, gold passage', ylabel: '%', iterations: its, series: right, columns: 2, d0 });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** report.md: settings, the table, the plot, timings. */
export function reportMarkdown(r: DemoResults, ks: string[], info: {
  seed: number; loss: string; iterations: number; seconds: number; backend: string; settings: string; timings?: Array<{ key: string; seconds: number; skipped?: boolean }>;
  /** The report's heading (default: the demo's). */
  title?: string;
}): string {
  const last = r.iterations[r.iterations.length - 1];
  const first = r.iterations[0];
  const bm25 = first?.retriever !== 'initial';
  const d0 = bm25 ? 'BM25' : 'D⁰';
  // A rerun or a resume reuses stages done before: this invocation's time alone would understate the run.
  const reused = info.timings?.filter((t) => t.skipped) ?? [];
  const wall = reused.length === 0
    ? `wall time ${(info.seconds / 60).toFixed(1)} min`
    : `wall time ${(info.seconds / 60).toFixed(1)} min for this invocation, which reused ${reused.length} of ${info.timings!.length} stages ` +
      `done before (${(reused.reduce((a, t) => a + t.seconds, 0) / 60).toFixed(1)} min when they ran)`;
  const lines = [
    `# ${info.title ?? 'fidkd demo: distilling the reader into the retriever on the synthetic world'}`,
    '',
    `seed ${info.seed}, loss ${info.loss}, ${info.iterations} iteration(s), backend ${info.backend}, ${wall}.`,
    `Top-k accuracy (R@k, %) of the dev questions by DPR has_answer; gold R@k (%): the passage that states the asked fact among the top k (where the data knows it); iteration 0 is ${bm25 ? 'BM25 (D⁰)' : 'D⁰, the passages of the question files'}; reader EM (%) of the reader trained on that iteration's passages; teacher gold@1 (%): how often the scores G that trained the row's retriever put the gold passage first.`,
    '',
    resultsTable(r, ks),
    '',
    '![Retrieval and answers per iteration](recall.svg)',
    '',
  ];
  if (first && last && last !== first) {
    const k = ks.includes('5') ? '5' : ks[0]!;
    const gain = 100 * ((last.recall[k] ?? 0) - (first.recall[k] ?? 0));
    const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
    const vs = (Object.keys(BASELINE_LABELS) as BaselineKey[]).flatMap((key) => {
      const b = r.baselines[key]?.recall[k];
      return b === undefined ? [] : [`${signed(100 * ((last.recall[k] ?? 0) - b))} points vs the ${BASELINE_LABELS[key]}`];
    });
    lines.push(`R@${k}: ${signed(gain)} points vs ${d0} after ${last.iteration} iteration(s)${vs.length ? `; ${vs.join('; ')}` : ''}.`);
    if (last.gold_recall && first.gold_recall) {
      const gvs = (Object.keys(BASELINE_LABELS) as BaselineKey[]).flatMap((key) => {
        const b = r.baselines[key]?.gold_recall?.[k];
        return b === undefined ? [] : [`${signed(100 * ((last.gold_recall![k] ?? 0) - b))} points vs the ${BASELINE_LABELS[key]}`];
      });
      lines.push('', `gold R@${k}: ${signed(100 * ((last.gold_recall[k] ?? 0) - (first.gold_recall[k] ?? 0)))} points vs ${d0}${gvs.length ? `; ${gvs.join('; ')}` : ''}.`);
    }
    if (last.reader_em !== null && first.reader_em !== null) {
      lines.push('', `Reader EM: ${pct(first.reader_em)} % on ${bm25 ? 'BM25\'s passages' : 'D⁰'} → ${pct(last.reader_em)} % on iteration ${last.iteration}'s (${signed(100 * (last.reader_em - first.reader_em))} points).`);
    }
    const g = last.teacher?.gold_at_1;
    if (g !== null && g !== undefined) {
      lines.push('', `Teacher: the reader's highest relevance score G is on the gold passage for ${pct(g)} % of the ${last.teacher!.questions} dev questions whose gold passage it reads (chance: 1 / n_context).`);
    }
    lines.push('');
  }
  if (info.timings?.length) {
    const total = info.timings.reduce((a, t) => a + t.seconds, 0);
    lines.push('## Stage timings', '', `Sum of stage times ${(total / 60).toFixed(1)} min (as recorded in the manifests, so a resumed run shows each stage's own run).`, '', '| stage | seconds |', '|---|---:|');
    for (const t of info.timings) lines.push(`| ${t.key} | ${t.seconds.toFixed(1)} |`);
    lines.push('');
  }
  lines.push('## Settings', '', '```json', info.settings, '```', '');
  return lines.join('\n');
}

/** What {@link writeRunReport} needs besides the results: the run's description for report.md. */
export interface RunReportInfo {
  title?: string;
  seed: number;
  seconds: number;
  /** The backend the run took, as report.md names it. */
  backend: string;
  /** The backend as results.json records it (name, adapter): selectBackend's `record`. */
  backendRecord?: unknown;
  /** The settings shown in report.md (JSON). */
  settings: string;
  timings?: Array<{ key: string; seconds: number; skipped?: boolean }>;
  /** Iteration 0's retriever: `bm25` (the demo) or `initial` (a config's question files). */
  initial?: 'bm25' | 'initial';
}

/**
 * Writes results.json, recall.svg and report.md of a finished run (the pipeline's evaluate, score and baseline
 * metrics) into `out`, each atomically; returns the results table (markdown) for the terminal.
 */
export function writeRunReport(
  out: string,
  result: { iterations: Array<{ iteration: number; metrics: Record<string, number>; teacher?: Record<string, number> }>; baselines: Partial<Record<string, Record<string, number>>> },
  pipeline: { iterations: number; retriever: { loss: string }; evaluate: { k: number[] } },
  info: RunReportInfo,
): string {
  const ks = pipeline.evaluate.k.map(String);
  const results = buildResults(result.iterations, result.baselines, pipeline.evaluate.k, 'dev', info.initial);
  writeJsonAtomic(join(out, 'results.json'), info.backendRecord === undefined ? results : { ...results, backend: info.backendRecord });
  writeFileAtomic(join(out, 'recall.svg'), recallPlotSvg(results, ks));
  writeFileAtomic(join(out, 'report.md'), reportMarkdown(results, ks, { ...info, loss: pipeline.retriever.loss, iterations: pipeline.iterations }));
  return resultsTable(results, ks);
}
