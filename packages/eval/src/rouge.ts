import { type Tokens, toTokens } from './tokens.js';

/** Options of {@link rougeL}. */
export interface RougeLOptions {
  /**
   * β of the F-measure F = (1+β²)·P·R / (R + β²·P). Default 1.2, the value of the COCO caption evaluation
   * code (`pycocoevalcap`) that MS MARCO / NarrativeQA scores are computed with; 1 gives the F1 of Google's
   * `rouge-score` for a single reference (with several it keeps the reference of best F, not the best P and R).
   */
  beta?: number;
}

/** A ROUGE-L score with its precision and recall. */
export interface RougeLResult {
  precision: number;
  recall: number;
  f: number;
}

/** Length of the longest common subsequence (O(|a|·|b|) time, O(|b|) memory). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/**
 * Sentence-level ROUGE-L (Lin, 2004): P = LCS/|candidate|, R = LCS/|reference|, F_β. With several references,
 * P and R are each the maximum over references before F is formed (as `pycocoevalcap`'s Rouge does).
 */
export function rougeL(candidate: Tokens, references: readonly Tokens[], options: RougeLOptions = {}): RougeLResult {
  const beta = options.beta ?? 1.2;
  if (!(beta > 0)) throw new RangeError(`ROUGE-L: beta must be > 0, got ${beta}`);
  if (references.length === 0) throw new RangeError('ROUGE-L: no reference');
  const cand = toTokens(candidate);
  let precision = 0;
  let recall = 0;
  for (const r of references) {
    const ref = toTokens(r);
    const lcs = lcsLength(cand, ref);
    if (cand.length > 0) precision = Math.max(precision, lcs / cand.length);
    if (ref.length > 0) recall = Math.max(recall, lcs / ref.length);
  }
  const b2 = beta * beta;
  const f = precision > 0 && recall > 0 ? ((1 + b2) * precision * recall) / (recall + b2 * precision) : 0;
  return { precision, recall, f };
}

/** Corpus ROUGE-L: the mean of the sentence F-measures (as `pycocoevalcap` reports it). */
export function corpusRougeL(candidates: readonly Tokens[], references: readonly (readonly Tokens[])[], options: RougeLOptions = {}): number {
  if (candidates.length !== references.length) {
    throw new RangeError(`ROUGE-L: ${candidates.length} candidates but ${references.length} reference lists`);
  }
  if (candidates.length === 0) throw new RangeError('ROUGE-L: no candidates');
  let sum = 0;
  candidates.forEach((c, i) => {
    sum += rougeL(c, references[i] ?? [], options).f;
  });
  return sum / candidates.length;
}
