import { type Tokens, toTokens } from './tokens.js';

/** Options of {@link corpusBleu} / {@link sentenceBleu}. */
export interface BleuOptions {
  /** Highest n-gram order N, with uniform weights 1/N: 1 gives BLEU-1, 4 (default) BLEU-4. */
  maxOrder?: number;
}

/** A BLEU score with the figures it is made of. */
export interface BleuResult {
  /** BP · exp(Σₙ log pₙ / N), in [0, 1]; 0 when some pₙ is 0 (no smoothing). */
  bleu: number;
  /** Modified (clipped) n-gram precisions p₁ … p_N. */
  precisions: number[];
  /** 1 if c > r, else exp(1 − r/c) (0 when c = 0). */
  brevityPenalty: number;
  /** c: total hypothesis length. */
  hypothesisLength: number;
  /** r: total effective reference length (per segment, the reference length closest to the hypothesis's). */
  referenceLength: number;
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  // The key is the JSON of the n-gram: unambiguous for any token (a separator character could occur in one).
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = JSON.stringify(tokens.slice(i, i + n));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Corpus BLEU (Papineni et al., 2002): clipped n-gram counts and hypothesis n-gram counts are summed over all
 * segments before dividing; the brevity penalty compares the total hypothesis length c with the total
 * effective reference length r, where each segment contributes the length of its reference closest to the
 * hypothesis length (ties to the shorter one, as NLTK `corpus_bleu` and `multi-bleu.perl`). No smoothing.
 * Equal to NLTK's `corpus_bleu` when every hypothesis has at least `maxOrder` tokens (NLTK counts one phantom
 * n-gram per order a shorter hypothesis lacks).
 */
export function corpusBleu(hypotheses: readonly Tokens[], references: readonly (readonly Tokens[])[], options: BleuOptions = {}): BleuResult {
  const maxOrder = options.maxOrder ?? 4;
  if (!Number.isInteger(maxOrder) || maxOrder < 1) throw new RangeError(`BLEU: maxOrder must be a positive integer, got ${maxOrder}`);
  if (hypotheses.length !== references.length) {
    throw new RangeError(`BLEU: ${hypotheses.length} hypotheses but ${references.length} reference lists`);
  }
  const matches = new Array<number>(maxOrder).fill(0);
  const totals = new Array<number>(maxOrder).fill(0);
  let c = 0;
  let r = 0;
  hypotheses.forEach((h, s) => {
    const hyp = toTokens(h);
    const refs = (references[s] ?? []).map(toTokens);
    if (refs.length === 0) throw new RangeError(`BLEU: segment ${s} has no reference`);
    c += hyp.length;
    let best = refs[0]!.length;
    for (const ref of refs) {
      const d = Math.abs(ref.length - hyp.length);
      const bd = Math.abs(best - hyp.length);
      if (d < bd || (d === bd && ref.length < best)) best = ref.length;
    }
    r += best;
    for (let n = 1; n <= maxOrder; n++) {
      const hypCounts = ngramCounts(hyp, n);
      // clip each hypothesis n-gram count by its maximum count in any single reference
      const maxRef = new Map<string, number>();
      for (const ref of refs) {
        for (const [g, k] of ngramCounts(ref, n)) if (hypCounts.has(g)) maxRef.set(g, Math.max(maxRef.get(g) ?? 0, k));
      }
      for (const [g, k] of hypCounts) {
        matches[n - 1]! += Math.min(k, maxRef.get(g) ?? 0);
        totals[n - 1]! += k;
      }
    }
  });
  const precisions = matches.map((m, i) => (totals[i]! > 0 ? m / totals[i]! : 0));
  const brevityPenalty = c === 0 ? 0 : c > r ? 1 : Math.exp(1 - r / c);
  const bleu = precisions.some((p) => p === 0)
    ? 0
    : brevityPenalty * Math.exp(precisions.reduce((s, p) => s + Math.log(p), 0) / maxOrder);
  return { bleu, precisions, brevityPenalty, hypothesisLength: c, referenceLength: r };
}

/** Sentence BLEU: {@link corpusBleu} on a single segment (no smoothing, so 0 when an order has no match). */
export function sentenceBleu(hypothesis: Tokens, references: readonly Tokens[], options: BleuOptions = {}): BleuResult {
  return corpusBleu([hypothesis], [references], options);
}
