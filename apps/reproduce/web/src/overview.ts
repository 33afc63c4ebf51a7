/** Overview: R@k, gold-passage R@k and reader EM per iteration, with the baselines, as a chart and a table. */
import { lineChart, type Reference, type Series } from './chart.js';
import type { MetricRow, Site } from './data.js';
import { h, pct } from './dom.js';

const COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#8250df', '#bf8700', '#0a7ea4', '#cf222e', '#57606a'];

/** The metric families the run has (a later run may add keys; unknown ones are only in the table). */
function families(site: Site): Array<{ key: (k: number) => string; label: (k: number) => string; perK: boolean }> {
  const has = (prefix: string): boolean => site.manifest.metrics.some((r) => Object.keys(r.metrics).some((m) => m.startsWith(prefix)));
  const out = [{ key: (k: number) => `recall@${k}`, label: (k: number) => `R@${k}`, perK: true }];
  if (has('gold_recall@')) out.push({ key: (k) => `gold_recall@${k}`, label: (k) => `gold R@${k}`, perK: true });
  if (has('em')) out.push({ key: () => 'em', label: () => 'reader EM', perK: false });
  return out;
}

export function renderOverview(site: Site, view: HTMLElement): void {
  const m = site.manifest;
  const rows = m.metrics;
  const iterations = rows.filter((r) => r.kind === 'iteration');
  const baselines = rows.filter((r) => r.kind === 'baseline');
  const ks = m.run.k;
  let k = ks.includes(5) ? 5 : ks[0]!;
  const chartBox = h('div', { id: 'overview-chart' });
  const kPicker = h('select', { id: 'overview-k', 'aria-label': 'k' }, ...ks.map((x) => h('option', { value: x, selected: x === k }, `k = ${x}`)));
  const drawChart = (): void => {
    const series: Series[] = [];
    const refs: Reference[] = [];
    families(site).forEach((f, i) => {
      const key = f.key(k);
      series.push({
        label: f.label(k), color: COLORS[i]!, dashed: key.startsWith('gold'),
        points: iterations.filter((r) => r.metrics[key] !== undefined).map((r) => ({ x: r.iteration!, y: r.metrics[key]! })),
      });
      if (!f.perK) return;
      baselines.forEach((b, j) => {
        const y = b.metrics[key];
        if (y !== undefined && !key.startsWith('gold')) refs.push({ label: `${b.label} ${f.label(k)}`, color: COLORS[3 + j] ?? '#57606a', y });
      });
    });
    const teacher = iterations.filter((r) => r.teacher?.gold_at_1 !== undefined);
    if (teacher.length) series.push({ label: 'teacher gold@1', color: '#6e7781', points: teacher.map((r) => ({ x: r.iteration!, y: r.teacher!.gold_at_1! })) });
    const xLabels = iterations.map((r) => (r.iteration === 0 ? `0 ${r.label}` : String(r.iteration)));
    chartBox.replaceChildren(lineChart(series, refs, xLabels, 'dev questions (%)'));
  };
  kPicker.addEventListener('change', () => {
    k = Number(kPicker.value);
    drawChart();
  });
  drawChart();
  view.replaceChildren(
    h('section', { class: 'card' },
      h('h2', {}, 'Overview'),
      h('p', { class: 'muted' },
        `${m.run.config_name}, seed ${m.run.seed}: ${m.run.iterations} distillation iteration(s) with the ${m.run.loss} loss; `,
        `${m.questions.count} dev questions, ${m.passages.count} passages, n_context ${m.run.n_context}. `,
        'R@k: a passage among the top k has the answer (DPR has_answer); gold R@k: the passage that states the answer is among them; ',
        'reader EM: exact match of the reader trained on Dᵗ. Dᵗ⁺¹ is retrieved by the retriever distilled from reader t; D⁰ is the first-stage retrieval. ',
        'Hover a point for its value; click a legend entry to hide or show it.'),
      h('div', { class: 'controls' }, kPicker),
      chartBox),
    h('section', { class: 'card' }, h('h3', {}, 'All numbers (% of dev questions)'), metricsTable(rows, ks)),
  );
}

function metricsTable(rows: MetricRow[], ks: number[]): HTMLElement {
  type Column = { label: string; get: (r: MetricRow) => number | undefined };
  const all: Column[] = [
    ...ks.map((k): Column => ({ label: `R@${k}`, get: (r) => r.metrics[`recall@${k}`] })),
    ...ks.map((k): Column => ({ label: `gold R@${k}`, get: (r) => r.metrics[`gold_recall@${k}`] })),
    { label: 'MRR@10', get: (r) => r.metrics['mrr@10'] },
    { label: 'reader EM', get: (r) => r.metrics.em },
    { label: 'teacher gold@1', get: (r) => r.teacher?.gold_at_1 },
  ];
  const cols = all.filter((c) => rows.some((r) => c.get(r) !== undefined));
  return h('table', { class: 'metrics', id: 'metrics-table' },
    h('thead', {}, h('tr', {}, h('th', {}, 'iteration'), h('th', {}, 'passages from'), ...cols.map((c) => h('th', {}, c.label)))),
    h('tbody', {}, ...rows.map((r) => h('tr', { 'data-key': r.key, class: r.kind },
      h('td', {}, r.kind === 'iteration' ? String(r.iteration) : '—'),
      h('td', {}, r.label),
      ...cols.map((c) => {
        const v = c.get(r);
        return h('td', { class: 'num', 'data-value': v === undefined ? undefined : String(v) }, pct(v));
      })))));
}
