import { buildResults, recallPlotSvg, reportMarkdown, resultsTable } from './report.js';

const gold = (a: number, b: number, c: number) => ({ 'dev.gold_recall@1': a, 'dev.gold_recall@5': b, 'dev.gold_recall@20': c });
const it0 = { 'dev.recall@1': 0.2, 'dev.recall@5': 0.4, 'dev.recall@20': 0.8, 'dev.em': 0.1, 'test.recall@5': 0.5, ...gold(0.1, 0.3, 0.7) };
const it1 = { 'dev.recall@1': 0.3, 'dev.recall@5': 0.6, 'dev.recall@20': 0.9, 'dev.em': 0.2, ...gold(0.25, 0.55, 0.85) };
const base = { 'dev.recall@1': 0.25, 'dev.recall@5': 0.45, 'dev.recall@20': 0.85, ...gold(0.2, 0.5, 0.8) };

const teacher0 = { questions: 1200, 'dev.gold_at_1': 0.75, 'dev.gold_questions': 160 };
const shuffled = { 'dev.recall@1': 0.22, 'dev.recall@5': 0.5, 'dev.recall@20': 0.86 };
const iterations = [{ iteration: 0, metrics: it0, teacher: teacher0 }, { iteration: 1, metrics: it1 }];

test('results.json: dev recall fractions, BM25 as iteration 0, the teacher of each distilled row, the baselines', () => {
  const r = buildResults(iterations, { baseline: base, shuffled_teacher: shuffled }, [1, 5, 20]);
  expect(r).toEqual({
    iterations: [
      { iteration: 0, retriever: 'bm25', recall: { 1: 0.2, 5: 0.4, 20: 0.8 }, gold_recall: { 1: 0.1, 5: 0.3, 20: 0.7 }, reader_em: 0.1, teacher: null },
      { iteration: 1, retriever: 'distilled', recall: { 1: 0.3, 5: 0.6, 20: 0.9 }, gold_recall: { 1: 0.25, 5: 0.55, 20: 0.85 }, reader_em: 0.2, teacher: { gold_at_1: 0.75, questions: 160 } },
    ],
    baselines: {
      has_answer: { recall: { 1: 0.25, 5: 0.45, 20: 0.85 }, gold_recall: { 1: 0.2, 5: 0.5, 20: 0.8 } },
      shuffled_teacher: { recall: { 1: 0.22, 5: 0.5, 20: 0.86 }, gold_recall: null },
    },
  });
  // real data: the score stage reports no gold metrics → gold_at_1 null; the evaluation none → gold_recall null
  const plain = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([k]) => !k.includes('gold')));
  const real = buildResults([{ iteration: 0, metrics: plain(it0), teacher: { questions: 10 } }, { iteration: 1, metrics: plain(it1) }], {}, [5]);
  expect(real.iterations[1]!.teacher).toEqual({ gold_at_1: null, questions: 0 });
  expect(real.iterations.map((it) => it.gold_recall)).toEqual([null, null]);
  expect(resultsTable(real, ['5'])).not.toContain('gold R@');
  expect(real.baselines).toEqual({});
  expect(() => buildResults([{ iteration: 0, metrics: { 'dev.recall@1': 1 } }], {}, [1, 5])).toThrow(/dev.recall@5/);
});

test('the table, the SVG plot and report.md show every iteration, the teacher and the baselines', () => {
  const r = buildResults(iterations, { baseline: base, shuffled_teacher: shuffled }, [1, 5, 20]);
  const table = resultsTable(r, ['1', '5', '20']);
  expect(table.split('\n')).toHaveLength(6);
  expect(table.split('\n')[0]).toBe('| iteration | retriever | R@1 | R@5 | R@20 | gold R@1 | gold R@5 | gold R@20 | reader EM | teacher gold@1 |');
  expect(table).toContain('| 1 | distilled | 30.0 | 60.0 | 90.0 | 25.0 | 55.0 | 85.0 | 20.0 | 75.0 |');
  expect(table).toContain('| — | has_answer baseline | 25.0 | 45.0 | 85.0 | 20.0 | 50.0 | 80.0 | — | — |');
  expect(table).toContain('| — | shuffled teacher | 22.0 | 50.0 | 86.0 | — | — | — | — | — |');
  const svg = recallPlotSvg(r, ['1', '5', '20']);
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.trim().endsWith('</svg>')).toBe(true);
  // left: one line per k; right: reader EM, gold R@5, teacher gold@1
  expect(svg.match(/<polyline /g)).toHaveLength(6);
  // has_answer: a dashed line + legend per k on the left, and for gold R@5 on the right
  expect(svg.match(/stroke-dasharray="6 4"/g)!.length).toBe(8);
  expect(svg.match(/stroke-dasharray="2 3"/g)!.length).toBe(6); // shuffled teacher: dotted (no gold recall here)
  // left panel: R@5 at iteration 1 (0.6) at x = 55 + 425, y = 40 + 300·(1 − 0.6)
  expect(svg).toContain(`${(55 + 425).toFixed(1)},${(40 + 300 * 0.4).toFixed(1)}`);
  // right panel: reader EM at iteration 1 (0.2) at x = 500 + 55 + 425, y = 40 + 300·0.8
  expect(svg).toContain(`${(980).toFixed(1)},${(40 + 300 * 0.8).toFixed(1)}`);
  expect(svg).toContain('>reader EM</text>');
  expect(svg).toContain('>teacher gold@1</text>');
  const md = reportMarkdown(r, ['1', '5', '20'], { seed: 3, loss: 'kl', iterations: 1, seconds: 90, backend: 'cpu', settings: '{}' });
  expect(md).toContain('R@5: +20.0 points vs BM25 after 1 iteration(s); +15.0 points vs the has_answer baseline; +10.0 points vs the shuffled teacher.');
  expect(md).toContain('gold passage for 75.0 % of the 160 dev questions');
  expect(md).toContain('![Retrieval and answers per iteration](recall.svg)');
  expect(md).toContain('gold R@5: +25.0 points vs BM25; +5.0 points vs the has_answer baseline.');
  expect(md).toContain('Reader EM: 10.0 % on BM25\'s passages → 20.0 % on iteration 1\'s (+10.0 points).');
  expect(md).toContain('backend cpu, wall time 1.5 min.');
  // a rerun that skips every stage says so instead of a bare "wall time 0.0 min"
  const rerun = reportMarkdown(r, ['1', '5', '20'], {
    seed: 3, loss: 'kl', iterations: 1, seconds: 2, backend: 'cpu', settings: '{}',
    timings: [{ key: 'prepare/world', seconds: 30, skipped: true }, { key: 'iter-0/train-reader', seconds: 270, skipped: true }],
  });
  expect(rerun).toContain('wall time 0.0 min for this invocation, which reused 2 of 2 stages done before (5.0 min when they ran).');
});
