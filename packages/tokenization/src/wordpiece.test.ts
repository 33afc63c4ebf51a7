import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeTexts } from './encode.js';
import { Tokenizer } from './tokenizer.js';
import { trainWordPiece } from './train.js';
import { WordPieceTokenizer } from './wordpiece.js';
import { bertWordPieceJson, t5UnigramJson } from './__tests__/hf-tokenizers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
/** The demo's vocabulary (trained on the synthetic world) and a real BERT vocabulary (fixtures README). */
const DEMO = `${root}apps/reproduce/assets/pretrained-reader/tokenizer.json`;
const BERT_BASE = `${root}fixtures/tokenizers/bert-base-uncased/tokenizer.json`;

const TEXTS = [
  'In which city did Oskar Holloway find a spouse?',
  'Who wrote the book "Paris, je t\'aime"?!',
  'Héllo, wörld! Ça va? Zürich, Ñandú, Ångström, façade, naïve, Øresund, Łódź, İstanbul, ΣΟΦΟΣ',
  'unaffable quixotically zzyzx qwxjkv pneumonoultramicroscopicsilicovolcanoconiosis',
  `${'x'.repeat(100)} ${'y'.repeat(101)} ${'é'.repeat(101)}`,
  '日本語のテキスト 東京 한국어 中文字符 𠀋',
  'emoji 😀👍🏽 and symbols ©®™ § ¶ • … ‰ € £ ¥ ½ ² ∑ √ ∞',
  'a\u0000b\u200bc\u000bd\u00a0e\tf\r\ng\u2028h\u3000i\ufffdj\u0085k',
  '[MASK] is [CLS] in [SEP]; [mask] [UNK][PAD]x [MASK]',
  "it's the year 1999-2000 (approx.), e.g. at 3:45 p.m. – okay—fine; ‘quoted’ «guillemets» ¿qué? ¡sí!",
  '   leading and trailing spaces   ',
  '',
  ' ',
  'combining: e\u0301 a\u0308 n\u0303 and Hangul 각 and ligature ﬁ and full-width ＡＢＣ',
];

/** A seeded random string over letters, accents, punctuation, CJK, marks, whitespace, controls and emoji. */
function randomTexts(n: number, seed: number): string[] {
  let s = seed >>> 0;
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const pool = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', ...'éèêëàâäôöûüçñÉÀÇÑåøæßłİıΣσςΩ',
    ...'.,;:!?\'"()[]{}-–—/\\@#$%^&*_+=<>|~`', ...'東京中文日本語한국어ひらがなカタカナ', '\u0301', '\u0308', '\u200b', '\u00ad',
    ' ', ' ', ' ', ' ', '\t', '\n', '\u00a0', '\u3000', '\u0000', '\ufffd', '😀', '👍🏽', '𠀋', '[MASK]', '[CLS]', '##'];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = Math.floor(rand() * 40);
    let t = '';
    for (let j = 0; j < len; j++) t += pool[Math.floor(rand() * pool.length)]!;
    out.push(t);
  }
  return out;
}

/** Saves a trained tokenizer to a temp file; returns its path. */
function save(t: Tokenizer): string {
  const file = join(mkdtempSync(join(tmpdir(), 'fidkd-wordpiece-')), 'tokenizer.json');
  t.save(file);
  return file;
}

async function expectSameIds(json: string, texts: readonly string[]): Promise<void> {
  const native = Tokenizer.fromString(json);
  const js = WordPieceTokenizer.fromJson(json);
  const want = await native.encodeMany(texts);
  const got = await js.encodeMany(texts);
  const diffs = texts.map((t, i) => ({ text: t, want: want[i], got: got[i] })).filter((d) => JSON.stringify(d.want) !== JSON.stringify(d.got));
  expect(diffs).toEqual([]);
  expect(js.specialIds).toEqual(native.specialIds);
  expect(js.vocabSize).toBe(native.vocabSize);
}

test.each([
  ['the demo vocabulary', DEMO],
  ['bert-base-uncased', BERT_BASE],
])('the same ids as tokenizers on %s: accents, punctuation, unknown and long words, CJK, controls, specials', async (_name, file) => {
  const json = readFileSync(file, 'utf8');
  await expectSameIds(json, TEXTS);
  await expectSameIds(json, randomTexts(3000, 7));
});

test('the same ids on a cased vocabulary (no lower-casing, accents kept) and on the hand-written BERT layout', async () => {
  const corpus = [...TEXTS, 'Zürich Ñandú façade naïve Øresund Łódź are places. Paris was the city of Corwin Hale.'];
  const cased = trainWordPiece(corpus, { vocabSize: 400, lowercase: false });
  const json = JSON.stringify(JSON.parse(readFileSync(save(cased), 'utf8')));
  await expectSameIds(json, [...TEXTS, ...randomTexts(1500, 11)]);
  await expectSameIds(bertWordPieceJson(), [...TEXTS, ...randomTexts(1500, 13)]);
});

test('added tokens: single_word, lstrip, rstrip and normalized are matched as the library does', async () => {
  const base = JSON.parse(bertWordPieceJson()) as { added_tokens: object[]; model: { vocab: Record<string, number> } };
  // the file's ids are those the library assigns (after the vocabulary); a wrong one is replaced on load
  let next = Object.keys(base.model.vocab).length;
  const add = (content: string, o: Record<string, boolean>): void => {
    const id = content === '<lo' ? 999 : next++;
    base.added_tokens.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false, ...o });
  };
  add('<sw>', { single_word: true });
  add('<ls>', { lstrip: true });
  add('<rs>', { rstrip: true });
  add('Norm', { normalized: true });
  add('<long>', {});
  add('<lo', {});
  const texts = ['<sw> a<sw> <sw>b (<sw>) <sw>', 'x   <ls>  y <rs>   z<ls><rs>', 'NORM norm Norm abnormal', '<long> <lo <longer', 'the <sw><ls> book'];
  await expectSameIds(JSON.stringify(base), texts);
});

test('encodeTexts gives the same retriever batch with the JavaScript tokenizer as with the native one', async () => {
  const json = readFileSync(DEMO, 'utf8');
  const questions = TEXTS.slice(0, 6);
  const native = await encodeTexts(Tokenizer.fromString(json), questions, { maxLength: 16, kind: 'bert' });
  const js = await encodeTexts(WordPieceTokenizer.fromJson(json), questions, { maxLength: 16, kind: 'bert' });
  expect(js).toEqual(native);
});

test('refuses what it cannot encode exactly, naming the file', () => {
  expect(() => WordPieceTokenizer.fromJson(t5UnigramJson(), 't5.json')).toThrow(/t5\.json: model\.type must be "WordPiece" \(got "Unigram"\)/);
  const json = JSON.parse(bertWordPieceJson()) as { normalizer: unknown; model: { unk_token: string } };
  expect(() => WordPieceTokenizer.fromJson({ ...json, normalizer: { type: 'NFKC' } }, 'x.json')).toThrow(/x\.json: normalizer "NFKC" is not supported/);
  expect(() => WordPieceTokenizer.fromJson({ ...json, model: { ...json.model, unk_token: '<nope>' } })).toThrow(/unknown token "<nope>" is not in model\.vocab/);
  expect(() => WordPieceTokenizer.fromJson('{"model": ', 'bad.json')).toThrow(/bad\.json: not valid JSON/);
});
