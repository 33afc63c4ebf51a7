import winkBm25 from 'wink-bm25-text-search';
import { Bm25Index } from './bm25.js';
import { bm25Tokenize } from './bm25-tokenize.js';
import { generateSyntheticWorld } from './synthetic-world.js';
import type { Passage } from './types.js';

const docs: Passage[] = [
  { id: 'a', title: 'Aldo Brenner', text: 'Aldo Brenner was born in Velmora in 1874.' },
  { id: 'b', title: 'Aldo Varsk', text: 'Aldo Varsk lived in Velmora for many years, far away from the hometown.' },
  { id: 'c', title: 'Mira Brenner', text: 'Mira Brenner died in Korsvik after a short illness.' },
  { id: 'd', title: 'Mira Brenner', text: 'Mira Brenner visited Velmora and Velmora again to attend a conference on salt trade.' },
  { id: 'e', title: 'Salt', text: 'The salt trade of the northern coast.' },
];

describe('Bm25Index', () => {
  test('scores equal Lucene BM25 computed by hand', async () => {
    const index = await Bm25Index.build(docs);
    const hits = index.search('Velmora', 10);
    // df(velmora) = 3 of N = 5; idf = ln(1 + (5 - 3 + 0.5) / (3 + 0.5)).
    const idf = Math.log(1 + 2.5 / 3.5);
    const lens = docs.map((p) => bm25Tokenize(`${p.title} ${p.text}`).length);
    const avg = lens.reduce((s, x) => s + x, 0) / lens.length;
    const w = (tf: number, dl: number): number => (idf * tf * 1.9) / (tf + 0.9 * (0.6 + (0.4 * dl) / avg));
    const expected = [
      { id: 'd', score: w(2, lens[3]!) },
      { id: 'a', score: w(1, lens[0]!) },
      { id: 'b', score: w(1, lens[1]!) },
    ].sort((x, y) => y.score - x.score);
    expect(hits.map((h) => h.id)).toEqual(expected.map((e) => e.id));
    hits.forEach((h, i) => expect(h.score).toBeCloseTo(expected[i]!.score, 5));
    expect(index.search('nothing matches', 5)).toEqual([]);
    expect(index.search('velmora', 1)).toHaveLength(1);
  });

  test('agrees with wink-bm25-text-search (k1 0.9, b 0.4) on a synthetic-world collection', async () => {
    const world = generateSyntheticWorld({ seed: 5, numEntities: 120, numTrain: 40, numDev: 20, numTest: 20 });
    const index = await Bm25Index.build(world.passages);
    const wink = winkBm25();
    wink.defineConfig({ fldWeights: { body: 1 }, bm25Params: { k1: 0.9, b: 0.4, k: 1 } });
    wink.definePrepTasks([bm25Tokenize]);
    for (const p of world.passages) wink.addDoc({ body: `${p.title} ${p.text}` }, p.id);
    wink.consolidate(9);
    let compared = 0;
    for (const q of [...world.dev, ...world.test]) {
      const ours = new Map(index.search(q.question, world.passages.length).map((h) => [h.id, h.score]));
      const theirs = wink.search(q.question, world.passages.length) as [string, number][];
      expect(ours.size).toBe(theirs.length);
      for (const [id, score] of theirs) {
        expect(ours.get(id)).toBeCloseTo(score, 4);
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  test('k1 and b are honoured; ties keep collection order; searchMany; bad parameters', async () => {
    const flat = await Bm25Index.build(docs, { b: 0 });
    const hits = flat.search('brenner', 10);
    // b = 0: no length normalisation, so the three docs with tf(brenner) = 2 tie and keep insertion order.
    expect(hits.map((h) => h.id)).toEqual(['a', 'c', 'd']);
    expect(hits[0]!.score).toBe(hits[2]!.score);
    const saturated = await Bm25Index.build(docs, { k1: 0 });
    const s = saturated.search('velmora', 10);
    expect(s[0]!.score).toBeCloseTo(s[1]!.score, 6); // k1 = 0: term frequency ignored
    expect(flat.searchMany(['brenner', 'salt'], 2).map((r) => r.map((h) => h.id))).toEqual([['a', 'c'], ['e', 'd']]);
    await expect(Bm25Index.build(docs, { b: 2 })).rejects.toThrow(/0 <= b <= 1/);
    await expect(Bm25Index.build([docs[0]!, docs[0]!])).rejects.toThrow(/duplicate passage id "a"/);
    expect(flat.k1).toBe(0.9);
    expect(flat.size).toBe(5);
  });
});
