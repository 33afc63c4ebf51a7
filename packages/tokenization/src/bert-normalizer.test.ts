import hf from 'tokenizers';
import { bertNormalize, bertPreTokenize, type BertNormalizerOptions } from './bert-normalizer.js';

// Every code point (in runs of 512, each between two letters) through the native BertNormalizer /
// BertPreTokenizer of `tokenizers` and through the JavaScript port.
function* chunks(): Generator<{ text: string; first: number }> {
  let text = '';
  let first = 0;
  let count = 0;
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue; // surrogates: not a string
    if (count === 0) first = cp;
    text += `a${String.fromCodePoint(cp)}B `;
    if (++count === 512) {
      yield { text, first };
      text = '';
      count = 0;
    }
  }
  if (count) yield { text, first };
}

/** The first code point of a chunk on which the two disagree, for the failure message. */
function culprit(first: number, same: (s: string) => boolean): string {
  for (let cp = first; cp < first + 1024; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    if (!same(`a${String.fromCodePoint(cp)}B `)) return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return 'none';
}

const CONFIGS: Array<[string, BertNormalizerOptions]> = [
  ['uncased (all on)', { clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true }],
  ['cased (clean_text, chinese chars)', { clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false }],
  ['strip_accents only', { clean_text: false, handle_chinese_chars: false, strip_accents: true, lowercase: false }],
  ['lowercase without strip_accents', { clean_text: false, handle_chinese_chars: false, strip_accents: false, lowercase: true }],
];

test.each(CONFIGS)('BertNormalizer %s: the same string as tokenizers on every code point', (_name, o) => {
  const native = hf.bertNormalizer({
    cleanText: o.clean_text, handleChineseChars: o.handle_chinese_chars, lowercase: o.lowercase,
    stripAccents: o.strip_accents ?? o.lowercase,
  });
  const same = (s: string): boolean => native.normalizeString(s) === bertNormalize(s, o);
  const bad: string[] = [];
  for (const { text, first } of chunks()) if (!same(text)) bad.push(culprit(first, same));
  expect(bad).toEqual([]);
});

test('BertPreTokenizer: the same words as tokenizers on every code point', () => {
  const native = hf.bertPreTokenizer();
  const same = (s: string): boolean => JSON.stringify(native.preTokenizeString(s).map((w) => w[0])) === JSON.stringify(bertPreTokenize(s));
  const bad: string[] = [];
  for (const { text, first } of chunks()) if (!same(text)) bad.push(culprit(first, same));
  expect(bad).toEqual([]);
});

test('examples: accents, final sigma, control characters, whitespace, CJK, punctuation', () => {
  expect(bertNormalize('Ça Va À Zürich?')).toBe('ca va a zurich?');
  expect(bertNormalize('ΣΟΦΟΣ')).toBe('σοφοσ'); // no final-sigma rule, as Rust's per-character lower-casing
  expect(bertNormalize('a\u0000b\u200bc\u000bd\u00a0e\tf')).toBe('abcd e f');
  expect(bertNormalize('東京')).toBe(' 東  京 ');
  expect(bertNormalize('Ça', { lowercase: false })).toBe('Ça');
  expect(bertNormalize('Ça', { lowercase: false, strip_accents: true })).toBe('Ca');
  expect(bertPreTokenize(bertNormalize("Who's the 'Dr. Zhivago' author — 東京?"))).toEqual(
    ['who', "'", 's', 'the', "'", 'dr', '.', 'zhivago', "'", 'author', '—', '東', '京', '?']);
});
