import { corpusBleu, corpusRougeL, lcsLength, rougeL, sentenceBleu } from './index.js';

// Worked by hand. hyp "the cat sat on the mat" vs ref "the cat is on the mat":
//   unigrams 6, clipped matches the×2 cat on mat = 5   -> p1 = 5/6
//   bigrams 5, matches "the cat" "on the" "the mat" = 3 -> p2 = 3/5
//   trigrams 4, match "on the mat" = 1               -> p3 = 1/4
//   4-grams 3, no match                              -> p4 = 0
//   c = r = 6 -> BP = exp(1 - 1) = 1
const hyp = 'the cat sat on the mat';
const ref = 'the cat is on the mat';

describe('BLEU', () => {
  test('clipped precisions of a worked example', () => {
    const r = sentenceBleu(hyp, [ref]);
    expect(r.precisions).toEqual([5 / 6, 3 / 5, 1 / 4, 0]);
    expect(r.brevityPenalty).toBe(1);
    expect(r.bleu).toBe(0); // no smoothing: an order without a match gives 0
    expect(sentenceBleu(hyp, [ref], { maxOrder: 1 }).bleu).toBeCloseTo(5 / 6, 12); // BLEU-1
    expect(sentenceBleu(hyp, [ref], { maxOrder: 3 }).bleu).toBeCloseTo(Math.cbrt((5 / 6) * (3 / 5) * (1 / 4)), 12); // = 0.5
  });
  test('clipping: "the" ×7 against a reference with two', () => {
    expect(sentenceBleu('the the the the the the the', ['the cat is on the mat'], { maxOrder: 1 }).bleu).toBeCloseTo(2 / 7, 12);
  });
  test('brevity penalty exp(1 - r/c) for a short hypothesis', () => {
    const r = sentenceBleu('the cat', [ref], { maxOrder: 2 });
    expect(r.precisions).toEqual([1, 1]);
    expect(r.brevityPenalty).toBeCloseTo(Math.exp(1 - 6 / 2), 12);
    expect(r.bleu).toBeCloseTo(Math.exp(-2), 12);
  });
  test('effective reference length: the closest, ties to the shorter', () => {
    // |hyp| = 3, references of length 2 and 4: r = 2 (c > r, so BP = 1); with r = 4 BP would be exp(-1/3)
    const r = sentenceBleu('a b c', ['a b', 'a b c d'], { maxOrder: 1 });
    expect(r.referenceLength).toBe(2);
    expect(r.bleu).toBe(1);
  });
  test('4-gram BLEU of an exact match is 1', () => {
    expect(sentenceBleu(['x', 'y', 'z', 'w', 'v'], [['x', 'y', 'z', 'w', 'v']]).bleu).toBe(1);
  });
  test('corpus BLEU sums counts over segments (not a mean of sentence scores)', () => {
    // segment 2: "a dog" vs refs of length 4 and 2 -> r = 2; p1 2/2, p2 1/1
    const r = corpusBleu([hyp, 'a dog'], [[ref], ['a dog barks loudly', 'the dog']], { maxOrder: 2 });
    expect(r.precisions[0]).toBeCloseTo(7 / 8, 12);
    expect(r.precisions[1]).toBeCloseTo(4 / 6, 12);
    expect(r.hypothesisLength).toBe(8);
    expect(r.referenceLength).toBe(8);
    expect(r.bleu).toBeCloseTo(Math.sqrt(7 / 12), 12);
  });
  test('empty hypothesis scores 0; mismatched inputs throw', () => {
    expect(sentenceBleu('', [ref]).bleu).toBe(0);
    expect(() => corpusBleu(['a'], [])).toThrow(/1 hypotheses but 0 reference lists/);
    expect(() => sentenceBleu('a', [])).toThrow(/no reference/);
  });
});

describe('ROUGE-L', () => {
  test('LCS length', () => {
    expect(lcsLength(['a', 'b', 'c', 'd'], ['a', 'c', 'd', 'b'])).toBe(3);
    expect(lcsLength([], ['a'])).toBe(0);
  });
  test('worked example: P = R = 5/6 when LCS "the cat on the mat" = 5', () => {
    const r = rougeL(hyp, [ref]);
    expect(r.precision).toBeCloseTo(5 / 6, 12);
    expect(r.recall).toBeCloseTo(5 / 6, 12);
    expect(r.f).toBeCloseTo(5 / 6, 12);
  });
  test('β = 1.2 by default; β = 1 gives F1', () => {
    // "the cat" vs the 6-token reference: LCS 2, P = 1, R = 1/3
    // F_1.2 = 2.44·(1/3) / (1/3 + 1.44) = 2.44 / 5.32
    expect(rougeL('the cat', [ref]).f).toBeCloseTo(2.44 / 5.32, 12);
    expect(rougeL('the cat', [ref], { beta: 1 }).f).toBeCloseTo(0.5, 12);
  });
  test('several references: max P and max R, then F', () => {
    // P = max(2/2, 1/2) = 1, R = max(2/6, 1/2) = 1/2 -> F1 = 2/3
    const r = rougeL('the cat', [ref, 'a cat'], { beta: 1 });
    expect(r).toEqual({ precision: 1, recall: 0.5, f: expect.closeTo(2 / 3, 12) as unknown as number });
  });
  test('corpus ROUGE-L is the mean of sentence F', () => {
    expect(corpusRougeL([hyp, 'x'], [[ref], ['y']])).toBeCloseTo((5 / 6 + 0) / 2, 12);
  });
});

test('BLEU n-grams are compared token by token, whatever characters the tokens contain', () => {
  // Joined with a separator character, ['a\u0001b', 'c'] and ['a', 'b\u0001c'] would be the same bigram.
  const r = sentenceBleu(['a\u0001b', 'c'], [['a', 'b\u0001c']], { maxOrder: 2 });
  expect(r.precisions).toEqual([0, 0]);
  expect(sentenceBleu(['x\u0001', 'y'], [['x\u0001', 'y']], { maxOrder: 2 }).precisions).toEqual([1, 1]);
});
