/**
 * Retrieval metrics over per-question hit lists: `hits[q][i]` is true when the i-th ranked passage of question q
 * has the answer (see {@link hasAnswer}). A question with fewer than k passages is scored on those it has, as
 * DPR's evaluation does.
 */

function checkHits(hits: readonly (readonly boolean[])[]): void {
  if (hits.length === 0) throw new RangeError('retrieval metrics: no questions (hits is empty)');
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`retrieval metrics: k must be a positive integer, got ${k}`);
}

/**
 * Top-k retrieval accuracy (R@k in the paper): for each k, the fraction of questions with at least one hit
 * among their first k passages.
 */
export function topKAccuracy(hits: readonly (readonly boolean[])[], ks: readonly number[]): Record<number, number> {
  checkHits(hits);
  ks.forEach(checkK);
  // rank of the first hit per question (Infinity when none) answers every k at once
  const firstHit = hits.map((h) => {
    const i = h.indexOf(true);
    return i < 0 ? Infinity : i;
  });
  const out: Record<number, number> = {};
  for (const k of ks) out[k] = firstHit.filter((r) => r < k).length / hits.length;
  return out;
}

/** Mean reciprocal rank at k: mean over questions of 1/rank of the first hit within the top k (0 if none). */
export function mrrAtK(hits: readonly (readonly boolean[])[], k: number): number {
  checkHits(hits);
  checkK(k);
  let sum = 0;
  for (const h of hits) {
    const i = h.indexOf(true);
    if (i >= 0 && i < k) sum += 1 / (i + 1);
  }
  return sum / hits.length;
}
