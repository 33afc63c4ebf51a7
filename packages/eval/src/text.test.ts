import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { exactMatch, hasAnswer, normalizeAnswer, pythonSplit, simpleTokenize } from './index.js';

interface TextFixture {
  normalize_answer: { input: string; expected: string }[];
  exact_match: { prediction: string; ground_truths: string[]; expected: boolean }[];
  simple_tokenize: { text: string; tokens_raw: string[]; tokens_uncased: string[] }[];
  has_answer: { answers: string[]; text: string; expected: boolean; text_tokens: string[]; answer_tokens: string[][] }[];
}

const fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../fixtures/oracle/text.json', import.meta.url)), 'utf8'),
) as TextFixture;

describe('oracle fixtures/oracle/text.json', () => {
  test('has every section', () => {
    expect(fixture.normalize_answer.length).toBeGreaterThan(0);
    expect(fixture.exact_match.length).toBeGreaterThan(0);
    expect(fixture.simple_tokenize.length).toBeGreaterThan(0);
    expect(fixture.has_answer.length).toBeGreaterThan(0);
  });
  test.each(fixture.normalize_answer.map((c) => [JSON.stringify(c.input), c] as const))('normalizeAnswer(%s)', (_, c) => {
    expect(normalizeAnswer(c.input)).toBe(c.expected);
  });
  test.each(fixture.exact_match.map((c) => [JSON.stringify(c.prediction), c] as const))('exactMatch(%s)', (_, c) => {
    expect(exactMatch(c.prediction, c.ground_truths)).toBe(c.expected);
  });
  test.each(fixture.simple_tokenize.map((c) => [JSON.stringify(c.text), c] as const))('simpleTokenize(%s)', (_, c) => {
    expect(simpleTokenize(c.text)).toEqual(c.tokens_raw);
    expect(simpleTokenize(c.text, { uncased: true })).toEqual(c.tokens_uncased);
  });
  test.each(fixture.has_answer.map((c) => [`${JSON.stringify(c.answers)} in ${JSON.stringify(c.text)}`, c] as const))(
    'hasAnswer(%s)',
    (_, c) => {
      expect(simpleTokenize(c.text, { uncased: true })).toEqual(c.text_tokens);
      expect(c.answers.map((a) => simpleTokenize(a, { uncased: true }))).toEqual(c.answer_tokens);
      expect(hasAnswer(c.answers, c.text)).toBe(c.expected);
    },
  );
});

// Further cases of the same kind; expected values worked out from the official semantics and confirmed with
// CPython 3.11 + the `regex` module (FiD's normalize_answer, DPR's SimpleTokenizer).
describe('normalizeAnswer: more cases', () => {
  test.each([
    ['another theme bathe banana', 'another theme bathe banana'], // articles inside words stay
    ['The-Beatles', 'thebeatles'], // punctuation goes before articles are looked for
    ['an_apple', 'anapple'],
    ['th\u00e9', 'th\u00e9'],
    ['the\u00bd', '\u00bd'], // ½ is No, not a word character: "the" is a whole word
    ['the\u00b2', '\u00b2'],
    ['the\u0663', 'the\u0663'], // Arabic-Indic digit (Nd) is a word character
    ['the\u200dx', 'the\u200dx'], // ZERO WIDTH JOINER is a word character (Join_Control)
    ['the\ufeffend', '\ufeffend'], // U+FEFF: not a word character and not Python whitespace
    ['\u216b the', '\u217b'], // Roman numeral twelve (Nl, Alphabetic) lower-cases
    ['\u24b6 the', '\u24d0'], // circled A is Alphabetic
    ['\u03a3\u039f\u03a6\u039f\u03a3', '\u03c3\u03bf\u03c6\u03bf\u03c2'], // final sigma, as Python's lower()
    ['a\u0085b', 'b'], // NEL is Python whitespace
    ['a\u001cb', 'b'], // so is the file separator U+001C
    ['A\u2028Z', 'z'],
    ['\ufb01 a', '\ufb01'],
  ])('%j -> %j', (input, expected) => {
    expect(normalizeAnswer(input)).toBe(expected);
  });
  test('exactMatch with no ground truths is false', () => {
    expect(exactMatch('x', [])).toBe(false);
  });
});

describe('simpleTokenize / hasAnswer: more cases', () => {
  test.each([
    ['\u216b\u24b6', ['\u216b', '\u24b6'], ['\u217b', '\u24d0']],
    ['x\u200dy', ['x', 'y'], ['x', 'y']], // format characters (Cf) are dropped
    ['x\u00adz', ['x', 'z'], ['x', 'z']], // soft hyphen (Cf)
    ['\u0661\u0662\u0663 ab', ['\u0661\u0662\u0663', 'ab'], ['\u0661\u0662\u0663', 'ab']],
    ['\u{1f44d}\u{1f3fd}ok', ['\u{1f44d}', '\u{1f3fd}', 'ok'], ['\u{1f44d}', '\u{1f3fd}', 'ok']], // astral code points
    ['a\u2028b\u0085c', ['a', 'b', 'c'], ['a', 'b', 'c']],
    ['\u03a3\u039f\u03a6\u039f\u03a3', ['\u03a3\u039f\u03a6\u039f\u03a3'], ['\u03c3\u03bf\u03c6\u03bf\u03c2']],
    ['\u01c5emal', ['\u01c5emal'], ['\u01c6emal']], // titlecase digraph
  ])('%j', (text, raw, uncased) => {
    expect(simpleTokenize(text)).toEqual(raw);
    expect(simpleTokenize(text, { uncased: true })).toEqual(uncased);
  });
  test('hasAnswer: precomposed and decomposed forms, case, boundaries', () => {
    expect(hasAnswer(['Zo\u00eb'], 'ZOE\u0308 SALDANA')).toBe(true);
    expect(hasAnswer(['the end'], 'The\u00a0End.')).toBe(true);
    expect(hasAnswer(['end'], 'legend')).toBe(false);
    expect(hasAnswer(['42'], '420')).toBe(false);
    expect(hasAnswer([''], '')).toBe(true); // DPR: an empty answer matches even an empty text
    expect(hasAnswer(['x'], '')).toBe(false);
  });
});

describe('pythonSplit', () => {
  test('splits like str.split(): Unicode whitespace yes, ZWSP and BOM no', () => {
    expect(pythonSplit(' a\u3000b\u00a0c\u200bd\ufeffe\u001ff ')).toEqual(['a', 'b', 'c\u200bd\ufeffe', 'f']);
    expect(pythonSplit('')).toEqual([]);
  });
});
