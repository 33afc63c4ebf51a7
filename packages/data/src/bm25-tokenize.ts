/**
 * Lucene's default English stop set (EnglishAnalyzer / StandardAnalyzer's ENGLISH_STOP_WORDS_SET), as used by
 * Anserini / pyserini when they build the BM25 runs FiD starts from.
 */
export const LUCENE_ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is', 'it', 'no', 'not',
  'of', 'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they', 'this', 'to', 'was', 'will',
  'with',
]);

const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/**
 * The default BM25 analyzer: NFKC, lower-case, runs of letters/numbers/marks, Lucene's English stop words removed.
 * (No stemming: Anserini's default also applies Porter; pass your own `tokenize` to Bm25Index for that.)
 */
export function bm25Tokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.normalize('NFKC').toLowerCase().matchAll(WORD)) {
    if (!LUCENE_ENGLISH_STOP_WORDS.has(m[0])) out.push(m[0]);
  }
  return out;
}
