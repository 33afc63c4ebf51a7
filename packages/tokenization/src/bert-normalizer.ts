/**
 * Hugging Face `tokenizers`' BertNormalizer and BertPreTokenizer in plain JavaScript (no native code, runs in
 * browsers). The semantics are the Rust library's, character by character:
 *
 * - clean_text: drop U+0000, U+FFFD and every "other" character (the library's Cc, Cf, Co, Cs; unassigned code
 *   points are kept) except \t \n \r, then map whitespace (White_Space, plus \t \n \r) to a space. Control characters that are also
 *   whitespace (\v, \f, U+0085) are dropped, since the drop runs first.
 * - handle_chinese_chars: a space on each side of every CJK Unified Ideograph (the blocks BERT lists).
 * - strip_accents (default: the value of lowercase): NFD, then drop nonspacing marks (Mn).
 * - lowercase: each code point lower-cased on its own (as Rust's char::to_lowercase; JavaScript's string-wide
 *   toLowerCase would apply the final-sigma rule).
 * - BertPreTokenizer: split on White_Space (removed), then every punctuation character (ASCII punctuation or
 *   Unicode P*) is a word of its own.
 *
 * The character classes ("other", nonspacing mark, punctuation) are the library's own tables
 * (bert-unicode-tables.ts, read off `tokenizers` by scripts/gen-bert-unicode-tables.mjs): the Rust crate it takes
 * them from predates current Unicode, so the JavaScript engine's \p{…} classes would differ on a few hundred
 * characters, and differently from one browser to the next; likewise the set of characters its NFD decomposes.
 * The NFD mappings themselves and lower-casing come from the engine (identical to the library on every code
 * point under Node 20; tested in bert-normalizer.test.ts).
 */
import { BERT_DECOMPOSED, BERT_NONSPACING_MARK, BERT_OTHER, BERT_PUNCTUATION } from './bert-unicode-tables.js';

/** The BertNormalizer options of a tokenizer.json (`strip_accents: null` means "as lowercase"). */
export interface BertNormalizerOptions {
  clean_text?: boolean;
  handle_chinese_chars?: boolean;
  strip_accents?: boolean | null;
  lowercase?: boolean;
}

/** A set of code points from "lo-hi,cp,…" (hex), as sorted [lo, hi] pairs searched by bisection. */
class CodePointSet {
  private readonly bounds: Uint32Array;
  constructor(ranges: string) {
    const parts = ranges ? ranges.split(',') : [];
    this.bounds = new Uint32Array(parts.length * 2);
    parts.forEach((r, i) => {
      const [lo, hi = lo] = r.split('-') as [string, string?];
      this.bounds[2 * i] = parseInt(lo, 16);
      this.bounds[2 * i + 1] = parseInt(hi, 16);
    });
  }
  has(cp: number): boolean {
    let lo = 0;
    let hi = this.bounds.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (cp < this.bounds[2 * mid]!) hi = mid - 1;
      else if (cp > this.bounds[2 * mid + 1]!) lo = mid + 1;
      else return true;
    }
    return false;
  }
}

const OTHER = new CodePointSet(BERT_OTHER);
const NONSPACING_MARK = new CodePointSet(BERT_NONSPACING_MARK);
const PUNCTUATION = new CodePointSet(BERT_PUNCTUATION);
const DECOMPOSED = new CodePointSet(BERT_DECOMPOSED);
/** Unicode White_Space (Rust's char::is_whitespace), a stable set. */
const WHITESPACE = new CodePointSet('9-d,20,85,a0,1680,2000-200a,2028,2029,202f,205f,3000');

/** The CJK Unified Ideograph blocks BERT pads with spaces (not Hangul, Hiragana, Katakana). */
const CHINESE = new CodePointSet('3400-4dbf,4e00-9fff,f900-faff,20000-2a6df,2a700-2b73f,2b740-2b81f,2b920-2ceaf,2f800-2fa1f');

// Classes of the Basic Multilingual Plane in one table (built on first use), so that the per-character loops
// below look each character up once; astral code points are bisected in the sets.
const OTHER_BIT = 1;
const WHITESPACE_BIT = 2;
const PUNCTUATION_BIT = 4;
const CHINESE_BIT = 8;
const MARK_BIT = 16;
let bmp: Uint8Array | undefined;
function classOf(cp: number): number {
  if (cp < 0x10000) {
    if (!bmp) {
      bmp = new Uint8Array(0x10000);
      for (let c = 0; c < 0x10000; c++) bmp[c] = classFromSets(c);
    }
    return bmp[cp]!;
  }
  return classFromSets(cp);
}
function classFromSets(cp: number): number {
  return (OTHER.has(cp) ? OTHER_BIT : 0) | (WHITESPACE.has(cp) ? WHITESPACE_BIT : 0) | (PUNCTUATION.has(cp) ? PUNCTUATION_BIT : 0)
    | (CHINESE.has(cp) ? CHINESE_BIT : 0) | (NONSPACING_MARK.has(cp) ? MARK_BIT : 0);
}

/** Printable ASCII only: nothing to clean, pad, strip or split but spaces and ASCII punctuation (the common case). */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ASCII_WORD = /[^ !-/:-@[-`{-~]+|[!-/:-@[-`{-~]/g;

/** Whether code point `cp` is a CJK ideograph in BERT's sense. */
export function isBertChineseChar(cp: number): boolean {
  return CHINESE.has(cp);
}

/** Whether code point `cp` is a word of its own for BertPreTokenizer. */
export function isBertPunctuation(cp: number): boolean {
  return PUNCTUATION.has(cp);
}

/** Whether code point `cp` separates words (Unicode White_Space, as Rust's char::is_whitespace). */
export function isBertWhitespace(cp: number): boolean {
  return WHITESPACE.has(cp);
}

/** BertNormalizer with the options of a tokenizer.json (the defaults are BertNormalizer's: all on). */
export function bertNormalize(text: string, options: BertNormalizerOptions = {}): string {
  const lowercase = options.lowercase ?? true;
  const stripAccents = options.strip_accents ?? lowercase;
  if (PRINTABLE_ASCII.test(text)) return lowercase ? text.toLowerCase() : text;
  let out = text;
  if (options.clean_text ?? true) {
    let s = '';
    for (const ch of out) {
      const cp = ch.codePointAt(0)!;
      const c = classOf(cp);
      if (cp === 0x9 || cp === 0xa || cp === 0xd) s += ' ';
      else if (cp === 0 || cp === 0xfffd || c & OTHER_BIT) continue;
      else s += c & WHITESPACE_BIT ? ' ' : ch;
    }
    out = s;
  }
  if (options.handle_chinese_chars ?? true) {
    let s = '';
    for (const ch of out) s += classOf(ch.codePointAt(0)!) & CHINESE_BIT ? ` ${ch} ` : ch;
    out = s;
  }
  if (stripAccents) {
    let s = '';
    for (const ch of nfd(out)) if (!(classOf(ch.codePointAt(0)!) & MARK_BIT)) s += ch;
    out = s;
  }
  if (lowercase) {
    let s = '';
    for (const ch of out) s += ch.toLowerCase();
    out = s;
  }
  return out;
}

/** NFD, leaving alone the characters the library's older Unicode tables do not decompose. */
function nfd(text: string): string {
  let out = '';
  let start = 0;
  let i = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xc0 && !DECOMPOSED.has(cp) && ch.normalize('NFD') !== ch) {
      out += text.slice(start, i).normalize('NFD') + ch;
      start = i + ch.length;
    }
    i += ch.length;
  }
  return out + text.slice(start).normalize('NFD');
}

/** BertPreTokenizer: the words of an already normalized text. */
export function bertPreTokenize(text: string): string[] {
  if (PRINTABLE_ASCII.test(text)) return text.match(ASCII_WORD) ?? [];
  const words: string[] = [];
  let word = '';
  for (const ch of text) {
    const c = classOf(ch.codePointAt(0)!);
    if (c & WHITESPACE_BIT) {
      if (word) words.push(word);
      word = '';
    } else if (c & PUNCTUATION_BIT) {
      if (word) words.push(word);
      words.push(ch);
      word = '';
    } else {
      word += ch;
    }
  }
  if (word) words.push(word);
  return words;
}
