/**
 * The demo's outputs: results.json (the issue's shape), report.md (a table of R@k per iteration with BM25 as
 * iteration 0, reader EM, the has_answer baseline) and an SVG plot of R@k per iteration (hand-written SVG).
 */

/** How well the teacher G of a retriever's training points at the gold passage (null where the data has none). */
export interface TeacherResult {
  /** Dev questions whose gold passage is among the reader's n_context: fraction whose highest G is the gold passage. */
  gold_at_1: number | null;
  questions: number;
}

/** One row of results.json. */
export interface IterationResult {
  iteration: number;
  retriever: 'bm25' | 'distilled';
  recall: Record<string, number>;
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

/** results.json. Recall values are fractions of the dev questions. */
export interface DemoResults {
  iterations: IterationResult[];
  baselines: Partial<Record<BaselineKey, { recall: Record<string, number> }>>;
}

/**
 * Builds results.json from the evaluate-stage metrics (`dev.recall@k`, `dev.em`), the score stages' teacher
 * metrics (`dev.gold_at_1`, `dev.gold_questions`) and the baseline branches' evaluate metrics (the pipeline names
 * the has_answer branch 'baseline').
 */
export function buildResults(
  iterations: Array<{ iteration: number; metrics: Record<string, number>; teacher?: Record<string, number> }>,
  baselines: Partial<Record<string, Record<string, number>>>,
  ks: number[],
  split = 'dev',
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
  const teacherOf = new Map(iterations.map((it) => [it.iteration, it.teacher]));
  const out: DemoResults = {
    iterations: iterations.map(({ iteration, metrics }) => {
      const t = iteration > 0 ? teacherOf.get(iteration - 1) : undefined;
      return {
        iteration,
        retriever: iteration === 0 ? 'bm25' : 'distilled',
        recall: recall(metrics),
        reader_em: metrics[`${split}.em`] ?? null,
        teacher: iteration === 0 ? null : { gold_at_1: t?.[`${split}.gold_at_1`] ?? null, questions: t?.[`${split}.gold_questions`] ?? 0 },
      };
    }),
    baselines: {},
  };
  for (const key of Object.keys(BASELINE_LABELS) as BaselineKey[]) {
    const m = baselines[key === 'has_answer' ? 'baseline' : key];
    if (m) out.baselines[key] = { recall: recall(m) };
  }
  return out;
}

const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : (100 * x).toFixed(1));

/** The markdown table: one row per iteration (with its teacher's gold@1), then the baseline rows. */
export function resultsTable(r: DemoResults, ks: string[]): string {
  const head = `| iteration | retriever | ${ks.map((k) => `R@${k}`).join(' | ')} | reader EM | teacher gold@1 |`;
  const sep = `|---|---|${ks.map(() => '---:').join('|')}|---:|---:|`;
  const rows = r.iterations.map((it) => `| ${it.iteration} | ${it.retriever} | ${ks.map((k) => pct(it.recall[k])).join(' | ')} | ${pct(it.reader_em)} | ${pct(it.teacher?.gold_at_1)} |`);
  for (const key of Object.keys(BASELINE_LABELS) as BaselineKey[]) {
    const b = r.baselines[key];
    if (b) rows.push(`| — | ${BASELINE_LABELS[key]} | ${ks.map((k) => pct(b.recall[k])).join(' | ')} | — | — |`);
  }
  return [head, sep, ...rows].join('\n');
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** An SVG line chart of R@k (one line per k) over iterations; the has_answer baseline dashed, the shuffled teacher dotted. */
export function recallPlotSvg(r: DemoResults, ks: string[], title = 'Retrieval accuracy per iteration (dev)'): string {
  const W = 640, H = 400, L = 60, R = 170, T = 40, B = 50;
  const pw = W - L - R, ph = H - T - B;
  const its = r.iterations.map((i) => i.iteration);
  const maxIt = Math.max(1, ...its);
  const x = (i: number) => L + (pw * i) / maxIt;
  const y = (v: number) => T + ph * (1 - v);
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2 - R / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`);
  for (let v = 0; v <= 1.0001; v += 0.2) {
    parts.push(`<line x1="${L}" y1="${y(v).toFixed(1)}" x2="${L + pw}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${L - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Math.round(v * 100)}%</text>`);
  }
  for (const i of its) {
    parts.push(`<line x1="${x(i).toFixed(1)}" y1="${T + ph}" x2="${x(i).toFixed(1)}" y2="${T + ph + 5}" stroke="#333"/>`);
    parts.push(`<text x="${x(i).toFixed(1)}" y="${T + ph + 20}" text-anchor="middle">${i === 0 ? '0 (BM25)' : i}</text>`);
  }
  parts.push(`<line x1="${L}" y1="${T + ph}" x2="${L + pw}" y2="${T + ph}" stroke="#333"/><line x1="${L}" y1="${T}" x2="${L}" y2="${T + ph}" stroke="#333"/>`);
  parts.push(`<text x="${L + pw / 2}" y="${H - 10}" text-anchor="middle">iteration</text>`);
  parts.push(`<text transform="translate(16 ${T + ph / 2}) rotate(-90)" text-anchor="middle">top-k accuracy</text>`);
  ks.forEach((k, j) => {
    const color = colors[j % colors.length]!;
    const pts = r.iterations.map((it) => `${x(it.iteration).toFixed(1)},${y(it.recall[k] ?? 0).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    for (const it of r.iterations) parts.push(`<circle cx="${x(it.iteration).toFixed(1)}" cy="${y(it.recall[k] ?? 0).toFixed(1)}" r="3.5" fill="${color}"/>`);
    const ly = T + 10 + j * 20;
    parts.push(`<line x1="${L + pw + 15}" y1="${ly}" x2="${L + pw + 40}" y2="${ly}" stroke="${color}" stroke-width="2"/><text x="${L + pw + 46}" y="${ly + 4}">R@${esc(k)} distilled</text>`);
    const styles: Array<[BaselineKey, string, string]> = [['has_answer', '6 4', 'has_answer'], ['shuffled_teacher', '2 3', 'shuffled G']];
    styles.forEach(([key, dash, label], m) => {
      const b = r.baselines[key]?.recall[k];
      if (b === undefined) return;
      parts.push(`<line x1="${L}" y1="${y(b).toFixed(1)}" x2="${L + pw}" y2="${y(b).toFixed(1)}" stroke="${color}" stroke-dasharray="${dash}" stroke-width="1.5"/>`);
      const by = T + 10 + ((1 + m) * ks.length + j) * 20;
      parts.push(`<line x1="${L + pw + 15}" y1="${by}" x2="${L + pw + 40}" y2="${by}" stroke="${color}" stroke-dasharray="${dash}" stroke-width="1.5"/><text x="${L + pw + 46}" y="${by + 4}">R@${esc(k)} ${label}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** report.md: settings, the table, the plot, timings. */
export function reportMarkdown(r: DemoResults, ks: string[], info: { seed: number; loss: string; iterations: number; seconds: number; backend: string; settings: string; timings?: Array<{ key: string; seconds: number; skipped?: boolean }> }): string {
  const last = r.iterations[r.iterations.length - 1];
  const first = r.iterations[0];
  // A rerun or a resume reuses stages done before: this invocation's time alone would understate the run.
  const reused = info.timings?.filter((t) => t.skipped) ?? [];
  const wall = reused.length === 0
    ? `wall time ${(info.seconds / 60).toFixed(1)} min`
    : `wall time ${(info.seconds / 60).toFixed(1)} min for this invocation, which reused ${reused.length} of ${info.timings!.length} stages ` +
      `done before (${(reused.reduce((a, t) => a + t.seconds, 0) / 60).toFixed(1)} min when they ran)`;
  const lines = [
    '# fidkd demo: distilling the reader into the retriever on the synthetic world',
    '',
    `seed ${info.seed}, loss ${info.loss}, ${info.iterations} iteration(s), backend ${info.backend}, ${wall}.`,
    'Top-k accuracy (R@k, %) of the dev questions by DPR has_answer; iteration 0 is BM25 (D⁰); reader EM (%) of the reader trained on that iteration\'s passages; teacher gold@1 (%): how often the scores G that trained the row\'s retriever put the gold passage first.',
    '',
    resultsTable(r, ks),
    '',
    '![R@k per iteration](recall.svg)',
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
    lines.push(`R@${k}: ${signed(gain)} points vs BM25 after ${last.iteration} iteration(s)${vs.length ? `; ${vs.join('; ')}` : ''}.`);
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
