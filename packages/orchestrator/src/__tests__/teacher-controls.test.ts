import { applyTeacherControl } from '../stages/teacher-controls.js';
import { teacherGoldAt1 } from '../stages/teacher-quality.js';
import type { FidExample } from '../stages/io.js';

const q = (id: string, scores: number[], gold?: string[]): FidExample => ({
  id, question: `q ${id}`, answers: ['a'], ctxs: scores.map((score, j) => ({ id: `${id}-p${j}`, title: 't', text: 'x', score })),
  ...(gold ? { gold_passage_ids: gold } : {}),
});

test('shuffled: each question keeps its own scores, permuted among its first n passages, deterministically', () => {
  const qs = Array.from({ length: 50 }, (_, i) => q(String(i), [1, 2, 3, 4, 5, 6]));
  const a = applyTeacherControl(qs, 'shuffled', 5, 7, 'train.json');
  const b = applyTeacherControl(qs, 'shuffled', 5, 7, 'train.json');
  expect(a).toEqual(b);
  let moved = 0;
  a.forEach((x, i) => {
    expect(x.ctxs).toHaveLength(5);
    expect(x.ctxs.map((p) => p.id)).toEqual(qs[i]!.ctxs.slice(0, 5).map((p) => p.id)); // passages stay in place
    expect(x.ctxs.map((p) => p.score).sort()).toEqual([1, 2, 3, 4, 5]);
    if (x.ctxs.some((p, j) => p.score !== j + 1)) moved++;
  });
  expect(moved).toBeGreaterThan(45);
  expect(qs[0]!.ctxs.map((p) => p.score)).toEqual([1, 2, 3, 4, 5, 6]); // input untouched
  expect(applyTeacherControl(qs, 'shuffled', 5, 8, 'train.json')).not.toEqual(a);
});

test('oracle: G on the gold passages only; data without gold passages is refused with file and question', () => {
  const out = applyTeacherControl([q('7', [0.3, 0.1, 0.2], ['7-p1']), q('9', [0.3, 0.1, 0.2], ['9-p5'])], 'oracle', 3, 1, 'train.json');
  expect(out.map((x) => x.id)).toEqual(['7']); // question 9's gold passage is not among its passages: left out
  expect(out[0]!.ctxs.map((p) => p.score)).toEqual([0, 10, 0]);
  expect(() => applyTeacherControl([q('8', [1, 2])], 'oracle', 2, 1, '/data/train.json')).toThrow(/\/data\/train.json: question 8 has no gold_passage_ids/);
});

test('teacher gold@1: over questions whose gold passage was scored, the fraction whose highest G is gold', () => {
  const qs = [
    q('a', [0.1, 0.9, 0.2], ['a-p1']), // hit
    q('b', [0.9, 0.1, 0.2], ['b-p1']), // miss
    q('c', [0.1, 0.2, 0.3], ['c-p9']), // gold not among the passages: not counted
    q('d', [0.5, 0.1, 0.7], ['d-p2', 'd-p0']), // hit (two gold passages)
  ];
  expect(teacherGoldAt1(qs)).toEqual({ gold_at_1: 2 / 3, questions: 3 });
  expect(teacherGoldAt1([q('e', [1, 2])])).toEqual({ gold_at_1: null, questions: 0 });
});
