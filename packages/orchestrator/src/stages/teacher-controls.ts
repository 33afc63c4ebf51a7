import type { FidExample } from './io.js';
import { permutation } from './seeded.js';

/**
 * Controls of the teacher signal, for the baselines that separate what the reader teaches from what the rest of
 * the retriever recipe gives (in-batch negatives, pretraining):
 * - 'shuffled': each question's G permuted at random among its first n passages — same values, no information on
 *   which passage they belong to;
 * - 'oracle': G = 10 on the passages the data marks as gold (`gold_passage_ids`, synthetic world only), 0 elsewhere
 *   — what a perfect reader would teach, to check that a world can show the method at all. Questions none of whose
 *   first n passages is gold are left out (as the has_answer baseline leaves out questions without a positive):
 *   a uniform target there would teach the retriever to tell their passages apart less.
 * Returns new question objects; the input is not modified.
 */
export type TeacherControl = 'shuffled' | 'oracle';

export function applyTeacherControl(questions: FidExample[], control: TeacherControl, n: number, seed: number, source: string): FidExample[] {
  const kept = control === 'oracle' ? questions.filter((q) => q.ctxs.slice(0, n).some((p) => q.gold_passage_ids?.includes(p.id) ?? true)) : questions;
  return kept.map((q, i) => {
    const ctxs = q.ctxs.slice(0, n).map((p) => ({ ...p }));
    if (control === 'shuffled') {
      const perm = permutation(ctxs.length, (seed * 31 + i) >>> 0);
      const scores = ctxs.map((p) => p.score);
      ctxs.forEach((p, j) => (p.score = scores[perm[j]!]));
    } else {
      const gold = q.gold_passage_ids;
      if (!gold) throw new Error(`${source}: question ${q.id} has no gold_passage_ids: the oracle teacher needs data that knows its gold passages (the synthetic world)`);
      for (const p of ctxs) p.score = gold.includes(p.id) ? 10 : 0;
    }
    return { ...q, ctxs };
  });
}
