/**
 * DPR / FiD `SimpleTokenizer`: runs of letters, numbers and marks are one token; every other character that is
 * neither a separator (\p{Z}) nor a control/format/unassigned code point (\p{C}) is a token of its own.
 */
const TOKEN = /([\p{L}\p{N}\p{M}]+)|([^\p{Z}\p{C}])/gu;

/** Options of {@link simpleTokenize}. */
export interface SimpleTokenizeOptions {
  /**
   * Lower-case every token and apply Unicode NFD to the text first, exactly as DPR's `has_answer` does
   * (`_normalize` then `words(uncased=True)`). Default false: tokens as written, no normalisation.
   */
  uncased?: boolean;
}

/** Tokenises `text` as DPR's SimpleTokenizer (`tokenize(text).words(uncased)`). */
export function simpleTokenize(text: string, options: SimpleTokenizeOptions = {}): string[] {
  const uncased = options.uncased ?? false;
  const source = uncased ? text.normalize('NFD') : text;
  const tokens: string[] = [];
  for (const m of source.matchAll(TOKEN)) tokens.push(uncased ? m[0].toLowerCase() : m[0]);
  return tokens;
}

/**
 * DPR's `has_answer` (string match mode): true iff the NFD + uncased token sequence of some answer occurs
 * contiguously in the token sequence of `text`. An answer with no tokens (e.g. '') matches any text; an empty
 * answer list gives false.
 */
export function hasAnswer(answers: readonly string[], text: string): boolean {
  const textTokens = simpleTokenize(text, { uncased: true });
  for (const answer of answers) {
    const a = simpleTokenize(answer, { uncased: true });
    for (let i = 0; i + a.length <= textTokens.length; i++) {
      let match = true;
      for (let j = 0; j < a.length; j++) {
        if (textTokens[i + j] !== a[j]) {
          match = false;
          break;
        }
      }
      if (match) return true;
    }
  }
  return false;
}
