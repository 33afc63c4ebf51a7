/**
 * Training a WordPiece vocabulary on a corpus (the synthetic world needs one; NQ/TriviaQA use the pretrained
 * tokenizers). Same algorithm as the Hugging Face WordPiece trainer (which is its BPE trainer with `##`
 * continuation pieces): split the normalised text into words, start from the characters (`c`, `##c`), and
 * repeatedly merge the most frequent adjacent pair until the vocabulary has `vocabSize` tokens.
 *
 * Implemented here rather than with the `tokenizers` binding because its Node API (0.23.2) exposes no trainer
 * options (vocab size, special tokens) and numbers the alphabet in hash order, so the same corpus could give
 * different ids from run to run. Here ties are broken by the merged string, so training is deterministic.
 * Words are found with the JavaScript port of BertNormalizer + BertPreTokenizer in bert-normalizer.ts (the
 * tokenizer then encodes with the native ones): NFD accent stripping and lower-casing when `lowercase`, control
 * characters dropped, CJK ideographs and punctuation split off as their own words, whitespace separating words.
 */
import { bertNormalize, bertPreTokenize } from './bert-normalizer.js';
import { TokenizerError } from './errors.js';
import { Tokenizer } from './tokenizer.js';

/** The special tokens of a trained vocabulary, ids 0.. in this order (T5 convention: pad 0, eos 1). */
export const DEFAULT_SPECIAL_TOKENS: readonly string[] = ['[PAD]', '</s>', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** Options of {@link trainWordPiece}. */
export interface TrainWordPieceOptions {
  /** Total vocabulary size including the special tokens (the alphabet is always kept, even if larger). */
  vocabSize: number;
  /** Lower-case (and strip accents) before tokenizing, as uncased BERT. Default true. */
  lowercase?: boolean;
  /** Special tokens, given ids 0.. in order. Default {@link DEFAULT_SPECIAL_TOKENS}. Must include `[UNK]`. */
  specialTokens?: readonly string[];
  /** Pairs seen fewer times are never merged. Default 0, as the HF trainer (budget permitting, merge anything). */
  minFrequency?: number;
  /**
   * Characters always in the alphabet (with their `##` forms), so text outside the corpus still encodes without
   * [UNK]. Default: printable ASCII (letters lower-cased when `lowercase`).
   */
  initialAlphabet?: readonly string[];
  /**
   * Whole words always in the vocabulary (right after the alphabet). Default {@link FID_FORMAT_WORDS}, the words of
   * the reader format `question: … title: … context: …`, which appear in every reader row.
   */
  extraWords?: readonly string[];
}

/** The words of the FiD reader format, kept whole in trained vocabularies. */
export const FID_FORMAT_WORDS: readonly string[] = ['question', 'title', 'context'];

function printableAscii(lowercase: boolean): string[] {
  const out: string[] = [];
  for (let c = 0x21; c < 0x7f; c++) {
    const ch = String.fromCharCode(c);
    if (!(lowercase && ch >= 'A' && ch <= 'Z')) out.push(ch);
  }
  return out;
}

/** Longest word the WordPiece model encodes (longer ones become [UNK]); longer words are not trained on. */
const MAX_WORD_CHARS = 100;

/**
 * The words BertNormalizer (clean_text, CJK padding, strip_accents = lowercase, lowercase) + BertPreTokenizer make
 * of `text` (the units WordPiece then splits into pieces), with the plain-JavaScript port of bert-normalizer.ts:
 * calling the native pre-tokenizer per text is ~100× slower.
 */
export function splitWordsLikeBert(text: string, lowercase = true): string[] {
  return bertPreTokenize(bertNormalize(text, { lowercase }));
}

/** Word counts of a corpus, as BertPreTokenizer splits it. */
function countWords(texts: Iterable<string>, lowercase: boolean): Map<string, number> {
  const counts = new Map<string, number>();
  let i = 0;
  for (const text of texts) {
    if (typeof text !== 'string') throw new TokenizerError(`trainWordPiece: text ${i} is ${typeof text}, not a string`);
    for (const w of splitWordsLikeBert(text, lowercase)) counts.set(w, (counts.get(w) ?? 0) + 1);
    i++;
  }
  return counts;
}

/** Max-heap entry of a candidate merge; stale entries (count changed since) are skipped when popped. */
interface Candidate {
  count: number;
  key: number;
  merged: string;
}

const KEY = 0x200000; // pair key = a * KEY + b (token ids stay far below 2^21)

function better(x: Candidate, y: Candidate): boolean {
  return x.count > y.count || (x.count === y.count && x.merged < y.merged);
}

class Heap {
  private readonly a: Candidate[] = [];
  get size(): number {
    return this.a.length;
  }
  push(c: Candidate): void {
    const a = this.a;
    a.push(c);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!better(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Candidate | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && better(a[l]!, a[m]!)) m = l;
        if (r < a.length && better(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** Learn the WordPiece pieces (alphabet, then one token per merge) from word counts. */
function learnPieces(
  counts: Map<string, number>,
  maxPieces: number,
  minFrequency: number,
  initialAlphabet: readonly string[],
  extraWords: readonly string[],
): string[] {
  const words: { syms: number[]; count: number }[] = [];
  const first = new Set<string>(initialAlphabet);
  const rest = new Set<string>(initialAlphabet);
  for (const [w, count] of counts) {
    const chars = [...w];
    if (chars.length === 0 || chars.length > MAX_WORD_CHARS) continue;
    chars.forEach((c, i) => (i === 0 ? first : rest).add(c));
    words.push({ syms: [], count });
  }
  // Alphabet: every character, then its ## form where it occurs inside words; sorted for stable ids.
  const tokens = [...new Set([...first, ...rest])].sort();
  tokens.push(...[...rest].sort().map((c) => `##${c}`));
  for (const w of extraWords) if (!tokens.includes(w)) tokens.push(w);
  const ids = new Map(tokens.map((t, i) => [t, i]));
  let wi = 0;
  for (const w of counts.keys()) {
    const chars = [...w];
    if (chars.length === 0 || chars.length > MAX_WORD_CHARS) continue;
    words[wi++]!.syms = chars.map((c, i) => ids.get(i === 0 ? c : `##${c}`)!);
  }

  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1, changed: Set<number>): void => {
    const { syms, count } = words[w]!;
    for (let i = 0; i + 1 < syms.length; i++) {
      const key = syms[i]! * KEY + syms[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * count);
      changed.add(key);
      if (sign > 0) {
        let s = where.get(key);
        if (!s) where.set(key, (s = new Set()));
        s.add(w);
      }
    }
  };
  const mergedOf = (key: number): string => tokens[Math.floor(key / KEY)]! + tokens[key % KEY]!.slice(2);
  const heap = new Heap();
  const pushChanged = (changed: Set<number>): void => {
    for (const key of changed) {
      const count = pairCount.get(key)!;
      if (count <= 0) {
        pairCount.delete(key);
        where.delete(key);
      } else heap.push({ count, key, merged: mergedOf(key) });
    }
  };
  const initial = new Set<number>();
  for (let w = 0; w < words.length; w++) addPairs(w, 1, initial);
  pushChanged(initial);

  while (tokens.length < maxPieces && heap.size > 0) {
    const best = heap.pop()!;
    if (pairCount.get(best.key) !== best.count) continue; // stale
    if (best.count < minFrequency) break;
    const a = Math.floor(best.key / KEY);
    const b = best.key % KEY;
    let c = ids.get(best.merged);
    if (c === undefined) {
      c = tokens.length;
      tokens.push(best.merged);
      ids.set(best.merged, c);
    }
    const changed = new Set<number>();
    for (const w of [...(where.get(best.key) ?? [])]) {
      const syms = words[w]!.syms;
      let hit = false;
      for (let i = 0; i + 1 < syms.length; i++) if (syms[i] === a && syms[i + 1] === b) hit = true;
      if (!hit) continue;
      addPairs(w, -1, changed);
      const out: number[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          out.push(c);
          i++;
        } else out.push(syms[i]!);
      }
      words[w]!.syms = out;
      addPairs(w, 1, changed);
    }
    pushChanged(changed);
  }
  return tokens;
}

/**
 * Train a WordPiece tokenizer on `texts` and return it (save it with `tokenizer.save(file)`). The result is a
 * BERT-style tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece model with `##` pieces, WordPiece
 * decoder, `[CLS] $A [SEP]` post-processor) whose ids 0.. are the special tokens, then the alphabet (corpus
 * characters plus `initialAlphabet`), then `extraWords`, then the merges in the order they were learned.
 * Deterministic: the same corpus gives the same tokenizer.
 */
export function trainWordPiece(texts: Iterable<string>, options: TrainWordPieceOptions): Tokenizer {
  const { vocabSize, lowercase = true, specialTokens = DEFAULT_SPECIAL_TOKENS, minFrequency = 0 } = options;
  const initialAlphabet = options.initialAlphabet ?? printableAscii(lowercase);
  const extraWords = (options.extraWords ?? FID_FORMAT_WORDS).map((w) => (lowercase ? w.toLowerCase() : w));
  for (const c of initialAlphabet) {
    if ([...c].length !== 1) throw new TokenizerError(`trainWordPiece: initialAlphabet entry ${JSON.stringify(c)} is not one character`);
  }
  if (!Number.isSafeInteger(vocabSize) || vocabSize <= specialTokens.length) {
    throw new TokenizerError(`trainWordPiece: vocabSize must be an integer above the ${specialTokens.length} special tokens, got ${vocabSize}`);
  }
  if (new Set(specialTokens).size !== specialTokens.length) throw new TokenizerError('trainWordPiece: duplicate special tokens');
  const unk = specialTokens.find((t) => t === '[UNK]' || t === '<unk>');
  if (!unk) throw new TokenizerError('trainWordPiece: specialTokens must include [UNK] (or <unk>)');
  const counts = countWords(texts, lowercase);
  if (counts.size === 0) throw new TokenizerError('trainWordPiece: the corpus is empty');

  const specials = new Set(specialTokens);
  const pieces = learnPieces(counts, vocabSize - specialTokens.length, minFrequency, initialAlphabet, extraWords).filter((t) => !specials.has(t));
  const vocab: Record<string, number> = {};
  specialTokens.forEach((t, i) => (vocab[t] = i));
  pieces.forEach((t, i) => (vocab[t] = specialTokens.length + i));

  const id = (t: string): number | undefined => vocab[t];
  const cls = id('[CLS]');
  const sep = id('[SEP]');
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialTokens.map((content, i) => ({
      id: i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor:
      cls !== undefined && sep !== undefined ? { type: 'BertProcessing', sep: ['[SEP]', sep], cls: ['[CLS]', cls] } : null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: unk, continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
  return Tokenizer.fromString(JSON.stringify(json));
}
