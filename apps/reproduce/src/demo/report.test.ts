import { buildResults, recallPlotSvg, reportMarkdown, resultsTable } from './report.js';

const it0 = { 'dev.recall@1': 0.2, 'dev.recall@5': 0.4, 'dev.recall@20': 0.8, 'dev.em': 0.1, 'test.recall@5': 0.5 };
const it1 = { 'dev.recall@1': 0.3, 'dev.recall@5': 0.6, 'dev.recall@20': 0.9, 'dev.em': 0.2 };
const base = { 'dev.recall@1': 0.25, 'dev.recall@5': 0.45, 'dev.recall@20': 0.85 };

test('results.json has exactly the issue shape: dev recall fractions, BM25 as iteration 0, the baseline', () => {
  const r = buildResults([{ iteration: 0, metrics: it0 }, { iteration: 1, metrics: it1 }], base, [1, 5, 20]);
  expect(r).toEqual({
    iterations: [
      { iteration: 0, retriever: 'bm25', recall: { 1: 0.2, 5: 0.4, 20: 0.8 }, reader_em: 0.1 },
      { iteration: 1, retriever: 'distilled', recall: { 1: 0.3, 5: 0.6, 20: 0.9 }, reader_em: 0.2 },
    ],
    baselines: { has_answer: { recall: { 1: 0.25, 5: 0.45, 20: 0.85 } } },
  });
  expect(() => buildResults([{ iteration: 0, metrics: { 'dev.recall@1': 1 } }], undefined, [1, 5])).toThrow(/dev.recall@5/);
});

test('the table, the SVG plot and report.md show every iteration and the baseline', () => {
  const r = buildResults([{ iteration: 0, metrics: it0 }, { iteration: 1, metrics: it1 }], base, [1, 5, 20]);
  const table = resultsTable(r, ['1', '5', '20']);
  expect(table.split('\n')).toHaveLength(5);
  expect(table).toContain('| 1 | distilled | 30.0 | 60.0 | 90.0 | 20.0 |');
  expect(table).toContain('| — | has_answer baseline | 25.0 | 45.0 | 85.0 | — |');
  const svg = recallPlotSvg(r, ['1', '5', '20']);
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.trim().endsWith('</svg>')).toBe(true);
  expect(svg.match(/<polyline /g)).toHaveLength(3);
  expect(svg.match(/stroke-dasharray/g)!.length).toBe(6); // a dashed baseline line + legend per k
  // R@5 at iteration 1 (0.6) sits at y = T + ph·(1 − 0.6) = 40 + 310·0.4
  expect(svg).toContain(`${(60 + 410).toFixed(1)},${(40 + 310 * 0.4).toFixed(1)}`);
  const md = reportMarkdown(r, ['1', '5', '20'], { seed: 3, loss: 'kl', iterations: 1, seconds: 90, backend: 'cpu', settings: '{}' });
  expect(md).toContain('R@5: +20.0 points vs BM25 after 1 iteration(s); +15.0 points vs the has_answer baseline.');
  expect(md).toContain('![R@k per iteration](recall.svg)');
  expect(md).toContain('backend cpu, wall time 1.5 min.');
  // a rerun that skips every stage says so instead of a bare "wall time 0.0 min"
  const rerun = reportMarkdown(r, ['1', '5', '20'], {
    seed: 3, loss: 'kl', iterations: 1, seconds: 2, backend: 'cpu', settings: '{}',
    timings: [{ key: 'prepare/world', seconds: 30, skipped: true }, { key: 'iter-0/train-reader', seconds: 270, skipped: true }],
  });
  expect(rerun).toContain('wall time 0.0 min for this invocation, which reused 2 of 2 stages done before (5.0 min when they ran).');
});
