import { Bm25Index, generateSyntheticWorld } from '@fidkd/data';
import { clozeExamples, clozeOf } from '../synthetic/reader-cloze.js';

test('a passage naming a city becomes a cloze question whose answer is the city', () => {
  expect(clozeOf('Ada Novak died in Velmora.')).toEqual({ question: 'Ada Novak died in which city?', answer: 'Velmora' });
  expect(clozeOf('Velmora is the hometown of Ada Novak.')).toEqual({ question: 'Which city is the hometown of Ada Novak?', answer: 'Velmora' });
  expect(clozeOf('Ada Novak funded a new school.')).toBeUndefined();
});

test('cloze examples: n passages of the subject, the source or a restatement among them; ambiguous clozes skipped', async () => {
  const w = generateSyntheticWorld({ seed: 900123, numEntities: 60, numTrain: 10, numDev: 5, numTest: 5, restateRate: 0.5 });
  const index = await Bm25Index.build(w.passages);
  const byId = new Map(w.passages.map((p) => [p.id, p]));
  const ex = clozeExamples(w.passages, index, { nContext: 6, seed: 3 });
  expect(ex.length).toBeGreaterThan(200);
  expect(new Set(ex.map((e) => e.question)).size).toBe(ex.length); // one source per cloze
  let dropped = 0;
  let noGold = 0;
  for (const e of ex) {
    const source = byId.get(e.id.replace(/^cloze-/, ''))!;
    expect(e.ctxs).toHaveLength(6);
    expect(new Set(e.ctxs.map((c) => c.id)).size).toBe(6);
    expect(e.question).not.toContain(e.target!);
    // every gold passage is among the contexts and names the answer
    for (const id of e.gold_passage_ids!) {
      expect(e.ctxs.some((c) => c.id === id)).toBe(true);
      expect(byId.get(id)!.text).toContain(e.target!);
    }
    if (!e.gold_passage_ids!.length) noGold++;
    if (!e.ctxs.some((c) => c.id === source.id)) {
      dropped++;
      for (const id of e.gold_passage_ids!) expect(byId.get(id)!.title).toBe(source.title);
    }
  }
  expect(dropped).toBeGreaterThan(0);
  expect(noGold).toBeLessThan(0.02 * ex.length);
  expect(clozeExamples(w.passages, index, { nContext: 6, seed: 3 })).toEqual(ex); // deterministic
});
