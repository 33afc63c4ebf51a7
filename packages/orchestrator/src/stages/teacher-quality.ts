import type { FidExample } from './io.js';

/**
 * How well the reader's relevance scores G point at the passage that truly answers, where the data knows it (the
 * synthetic world's `gold_passage_ids`): over questions whose gold passage is among their scored passages, the
 * fraction whose highest G is a gold passage (chance: 1 / n_context). Real data sets have no gold passages: then
 * `questions` is 0 and `gold_at_1` null.
 */
export function teacherGoldAt1(scored: FidExample[]): { gold_at_1: number | null; questions: number } {
  let questions = 0;
  let hits = 0;
  for (const q of scored) {
    const gold = q.gold_passage_ids;
    if (!gold?.length || !q.ctxs.some((p) => gold.includes(p.id))) continue;
    questions++;
    let best = 0;
    for (let j = 1; j < q.ctxs.length; j++) if (q.ctxs[j]!.score! > q.ctxs[best]!.score!) best = j;
    if (gold.includes(q.ctxs[best]!.id)) hits++;
  }
  return { gold_at_1: questions ? hits / questions : null, questions };
}
