import { PYTHON_PUNCTUATION, pythonSplit } from './python-text.js';

const PUNCTUATION = new Set(PYTHON_PUNCTUATION);

/**
 * A word character as Python's `regex` module defines `\w` for Unicode strings (UTS #18 Annex C):
 * Alphabetic, Mark, Decimal_Number, Connector_Punctuation, Join_Control. JavaScript's `\b` is ASCII-only even
 * with the `u` flag, so the article boundaries are written as look-arounds on this class.
 */
const WORD_CHAR = String.raw`[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]`;
const ARTICLES = new RegExp(String.raw`(?<!${WORD_CHAR})(?:a|an|the)(?!${WORD_CHAR})`, 'gu');

/**
 * SQuAD answer normalisation as in FiD `src/evaluation.py`: lower-case, drop ASCII punctuation
 * (`string.punctuation`), replace the whole words a / an / the by a space (Python `regex` word boundaries,
 * so `anÉ` is one word), then collapse Python whitespace (`' '.join(s.split())`).
 */
export function normalizeAnswer(s: string): string {
  const lower = s.toLowerCase();
  let noPunct = '';
  for (const ch of lower) if (!PUNCTUATION.has(ch)) noPunct += ch;
  return pythonSplit(noPunct.replace(ARTICLES, ' ')).join(' ');
}

/**
 * Exact match (FiD `ems`): true iff the normalised prediction equals the normalised form of at least one
 * ground truth. An empty ground-truth list gives false.
 */
export function exactMatch(prediction: string, groundTruths: readonly string[]): boolean {
  const p = normalizeAnswer(prediction);
  return groundTruths.some((gt) => normalizeAnswer(gt) === p);
}
