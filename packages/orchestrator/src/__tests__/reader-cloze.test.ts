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

test("clozeExamples with 'namesakes' contexts: the source among other people's passages only, so the name picks it", async () => {
  const w = generateSyntheticWorld({ seed: 5, numEntities: 60, numTrain: 10, numDev: 5, numTest: 5, restateRate: 0.5 });
  const index = await Bm25Index.build(w.passages, { k1: 0.9, b: 0.4 });
  const byId = new Map(w.passages.map((p) => [p.id, p]));
  const ex = clozeExamples(w.passages, index, { nContext: 6, seed: 3, contexts: 'namesakes' });
  expect(ex.length).toBeGreaterThan(200);
  for (const e of ex) expect(e.ctxs).toHaveLength(6);
  // a world too small to give every cloze 5 other people's passages: those clozes are left out, none is short
  const tiny = generateSyntheticWorld({ seed: 5, numEntities: 6, numTrain: 10, numDev: 5, numTest: 5 });
  const few = clozeExamples(tiny.passages, await Bm25Index.build(tiny.passages), { nContext: 10, seed: 3, contexts: 'namesakes' });
  for (const e of few) expect(e.ctxs).toHaveLength(10);
  let sharesName = 0;
  for (const e of ex) {
    const source = byId.get(e.id.replace(/^cloze-/, ''))!;
    expect(e.gold_passage_ids).toEqual([source.id]);
    expect(e.ctxs.filter((c) => c.id === source.id)).toHaveLength(1);
    const others = e.ctxs.filter((c) => c.id !== source.id);
    for (const c of others) expect(c.title).not.toBe(source.title);
    const tokens = source.title.split(' ');
    if (others.some((c) => c.title.split(' ').some((t) => tokens.includes(t)))) sharesName++;
  }
  expect(sharesName).toBeGreaterThan(0.9 * ex.length); // BM25 for the cloze brings namesakes
  // a list draws one kind per cloze: some clozes get the subject's own passages, some only other people's
  const mixed = clozeExamples(w.passages, index, { nContext: 6, seed: 3, contexts: ['subject', 'namesakes'] });
  const ownOthers = mixed.map((e) => e.ctxs.filter((c) => c.title === byId.get(e.id.replace(/^cloze-/, ''))!.title).length);
  expect(ownOthers.filter((k) => k === 1).length).toBeGreaterThan(0.3 * mixed.length);
  expect(ownOthers.filter((k) => k > 1).length).toBeGreaterThan(0.3 * mixed.length);
  expect(() => clozeExamples(w.passages, index, { nContext: 6, seed: 3, contexts: ['nope' as 'subject'] })).toThrow(/contexts must be one of subject, cloze, namesakes, restated or a non-empty list of them \(got \["nope"\]\)/);
  expect(() => clozeExamples(w.passages, index, { nContext: 6, seed: 3, contexts: [] })).toThrow(/non-empty list of them \(got \[\]\)/);
});

test("clozeExamples with 'restated' contexts: the subject's restatement in other words among other people's passages", async () => {
  const w = generateSyntheticWorld({ seed: 7, numEntities: 60, numTrain: 10, numDev: 5, numTest: 5, restateRate: 0.5 });
  const index = await Bm25Index.build(w.passages, { k1: 0.9, b: 0.4 });
  const byId = new Map(w.passages.map((p) => [p.id, p]));
  const ex = clozeExamples(w.passages, index, { nContext: 6, seed: 3, contexts: 'restated' });
  let restated = 0;
  for (const e of ex) {
    const source = byId.get(e.id.replace(/^cloze-/, ''))!;
    expect(e.ctxs).toHaveLength(6);
    expect(e.gold_passage_ids).toHaveLength(1);
    const gold = byId.get(e.gold_passage_ids![0]!)!;
    expect(gold.title).toBe(source.title);
    expect(gold.text).toContain(e.target!);
    // the gold passage is the only one of the subject's among the contexts
    expect(e.ctxs.filter((c) => c.title === source.title).map((c) => c.id)).toEqual([gold.id]);
    if (gold.id !== source.id) {
      restated++;
      expect(gold.text).not.toBe(source.text);
    }
  }
  // every cloze whose fact is stated twice is answered from the other statement; the rest fall back to 'namesakes'
  expect(restated).toBeGreaterThan(0.2 * ex.length);
  expect(restated).toBeLessThan(ex.length);
  expect(clozeExamples(w.passages, index, { nContext: 6, seed: 3, contexts: 'restated' })).toEqual(ex);
});
