import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasAnswer, topKAccuracy } from '@fidkd/eval';
import { Bm25Index } from './bm25.js';
import { buildInitialContexts } from './initial-contexts.js';
import { loadPassages } from './passages-tsv.js';
import { loadQuestions } from './questions.js';
import { RELATIONS, VISIT_TEMPLATES } from './synthetic-vocabulary.js';
import { generateSyntheticWorld } from './synthetic-world.js';
import { writeSyntheticWorld } from './synthetic-world-files.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fidkd-data-world-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SMALL = { numEntities: 400, numTrain: 600, numDev: 300, numTest: 100 };
const contentWords = (s: string): string[] =>
  (s.toLowerCase().replace(/\{[a-z0-9]+\}/g, ' ').match(/[a-z]+/g) ?? []).filter(
    (w) => !['a', 'an', 'the', 'of', 'in', 'is', 'was', 'by', 'to', 'for', 'at', 'and', 'which', 'what', 'where', 'who', 'did', 'does'].includes(w),
  );

describe('synthetic world', () => {
  test('design rule: question words of a relation never occur in its passages; they do occur in other passages (traps)', () => {
    for (const rel of RELATIONS) {
      const passageWords = new Set(rel.passages.flatMap(contentWords));
      const questionWords = new Set(rel.questions.flatMap(contentWords).filter((w) => w !== 'city'));
      for (const w of questionWords) expect([rel.name, w, passageWords.has(w)]).toEqual([rel.name, w, false]);
      // Every trap passage (no fact) and every hint template (the fact in the asker's words) carries at least one
      // of the relation's question words.
      for (const clause of [...rel.traps, ...rel.hints]) {
        expect([rel.name, clause, contentWords(clause).some((w) => questionWords.has(w))]).toEqual([rel.name, clause, true]);
      }
    }
    for (const t of VISIT_TEMPLATES) expect(t).toContain('{X}');
    for (const rel of RELATIONS) for (const t of [...rel.passages, ...rel.hints]) expect([t, t.includes('{X}') && t.includes('{A}')]).toEqual([t, true]);
    for (const rel of RELATIONS) for (const t of rel.traps) expect([t, t.includes('{A}') || t.includes('{C}')]).toEqual([t, false]);
  });

  test('deterministic: the same seed writes byte-identical files, another seed different ones', async () => {
    const a = await writeSyntheticWorld(join(dir, 'a'), { ...SMALL, seed: 11 });
    const b = await writeSyntheticWorld(join(dir, 'b'), { ...SMALL, seed: 11 });
    const c = await writeSyntheticWorld(join(dir, 'c'), { ...SMALL, seed: 12 });
    for (const key of ['passages', 'train', 'dev', 'test', 'manifest'] as const) {
      expect(readFileSync(a[key]).equals(readFileSync(b[key]))).toBe(true);
    }
    expect(readFileSync(a.passages).equals(readFileSync(c.passages))).toBe(false);
    expect(readFileSync(a.dev).equals(readFileSync(c.dev))).toBe(false);
    // The files read back through the package's own readers.
    const passages = await loadPassages(a.passages);
    const dev = await loadQuestions(a.dev);
    expect(passages).toEqual(generateSyntheticWorld({ ...SMALL, seed: 11 }).passages);
    expect(dev).toHaveLength(300);
    expect(dev[0]!.ctxs).toEqual([]);
  });

  test('structure: gold passage states the answer about the entity; answers are also stated where they do not answer', () => {
    const w = generateSyntheticWorld({ ...SMALL, seed: 3 });
    const byId = new Map(w.passages.map((p) => [p.id, p]));
    const qids = new Set<string>();
    let answerElsewhere = 0;
    const byNameToken = new Map<string, typeof w.passages>();
    for (const p of w.passages) for (const t of p.title.split(' ')) byNameToken.set(t, [...(byNameToken.get(t) ?? []), p]);
    for (const [ex, fact] of [...w.train, ...w.dev, ...w.test].map((ex, i) => [ex, w.facts[i]!] as const)) {
      expect(ex.id).toBe(fact.questionId);
      qids.add(`${fact.entity}/${fact.relation}`);
      const gold = byId.get(ex.gold_passage_ids![0]!)!;
      expect(gold.title).toBe(fact.entity);
      expect(gold.text).toContain(fact.entity);
      expect(hasAnswer(ex.answers, gold.text)).toBe(true);
      expect(ex.question).toContain(fact.entity);
      expect(hasAnswer(ex.answers, ex.question)).toBe(false);
      const near = fact.entity.split(' ').flatMap((t) => byNameToken.get(t) ?? []);
      if (near.some((p) => p.id !== gold.id && p.text.includes(fact.answer) && hasAnswer(ex.answers, p.text))) answerElsewhere += 1;
    }
    expect(qids.size).toBe(1000); // splits never share an (entity, relation) pair
    // Every answer is one of numCities cities; passages are one short sentence.
    expect(new Set(w.facts.map((f) => f.answer)).size).toBeLessThanOrEqual(w.options.numCities);
    expect(Math.max(...w.passages.map((p) => p.text.split(' ').length))).toBeLessThanOrEqual(10);
    expect(answerElsewhere / 1000).toBeGreaterThan(0.3);
    // Entity names share tokens: every first name is used by several people.
    const firstNames = new Map<string, number>();
    for (const p of w.passages) firstNames.set(p.title.split(' ')[0]!, (firstNames.get(p.title.split(' ')[0]!) ?? 0) + 1);
    expect(Math.min(...firstNames.values())).toBeGreaterThan(20);
    expect(() => generateSyntheticWorld({ numEntities: 10, numTrain: 100 })).toThrow(/questions need at least/);
  });

  test('writeSyntheticWorld can attach BM25 contexts (D⁰) to the question files', async () => {
    const files = await writeSyntheticWorld(join(dir, 'ctx'), { seed: 1, numEntities: 60, numTrain: 30, numDev: 10, numTest: 10, contexts: 5 });
    const dev = await loadQuestions(files.dev);
    expect(dev).toHaveLength(10);
    for (const ex of dev) {
      expect(ex.ctxs).toHaveLength(5);
      for (const c of ex.ctxs) {
        expect(typeof c.score).toBe('number');
        expect(c.has_answer).toBe(hasAnswer(ex.answers, c.text));
      }
    }
    expect(JSON.parse(readFileSync(files.manifest, 'utf8'))).toMatchObject({ contexts: 5, counts: { train: 30, dev: 10, test: 10 } });
  });

  test("BM25's R@1 is well below its R@20 (the world is not trivial for lexical search)", async () => {
    const w = generateSyntheticWorld({ ...SMALL, seed: 0 });
    const index = await Bm25Index.build(w.passages);
    const byId = new Map(w.passages.map((p) => [p.id, p]));
    const dev = buildInitialContexts(w.dev, index, byId, { k: 20 });
    const hits = dev.map((ex) => ex.ctxs.map((c) => c.has_answer === true));
    const r = topKAccuracy(hits, [1, 5, 20]);
    const gold = topKAccuracy(dev.map((ex) => ex.ctxs.map((c) => ex.gold_passage_ids!.includes(c.id))), [1, 5, 20]);
    console.log(
      `BM25 (k1 0.9, b 0.4) on the synthetic world (seed 0, ${w.passages.length} passages, ${dev.length} dev questions): ` +
        `has_answer R@1 ${r[1]!.toFixed(3)} R@5 ${r[5]!.toFixed(3)} R@20 ${r[20]!.toFixed(3)}; ` +
        `gold-passage R@1 ${gold[1]!.toFixed(3)} R@5 ${gold[5]!.toFixed(3)} R@20 ${gold[20]!.toFixed(3)}`,
    );
    expect(r[20]!).toBeGreaterThanOrEqual(0.8);
    expect(r[1]!).toBeLessThan(0.4);
    expect(r[20]! - r[1]!).toBeGreaterThan(0.5);
    expect(r[5]!).toBeLessThan(0.65);
    expect(dev[0]!.ctxs).toHaveLength(20);
    expect(dev[0]!.ctxs[0]!.score).toBeGreaterThanOrEqual(dev[0]!.ctxs[19]!.score!);
  });

  test("surnames 'unique': one generated surname per person, none from the shared pool; BM25 then finds the entity", async () => {
    const w = generateSyntheticWorld({ ...SMALL, seed: 3, surnames: 'unique' });
    const facts = new Map(w.facts.map((f) => [f.questionId, f]));
    const surnames = new Set<string>();
    for (const p of w.passages) surnames.add(p.title.split(' ').slice(1).join(' '));
    expect(surnames.size).toBe(SMALL.numEntities);
    const shared = generateSyntheticWorld({ ...SMALL, seed: 3 });
    const pool = new Set(shared.passages.map((p) => p.title.split(' ')[1]));
    for (const s of surnames) expect(pool.has(s)).toBe(false);
    // the entity is easy for BM25: its own passages fill the top 5 for nearly every question
    const index = await Bm25Index.build(w.passages);
    const byId = new Map(w.passages.map((p) => [p.id, p]));
    const dev = buildInitialContexts(w.dev, index, byId, { k: 20 });
    let own = 0;
    for (const ex of dev) own += ex.ctxs.slice(0, 5).filter((c) => c.title === facts.get(ex.id)!.entity).length / 5;
    expect(own / dev.length).toBeGreaterThan(0.9);
    expect(generateSyntheticWorld({ ...SMALL, seed: 3, surnames: 'unique' }).passages).toEqual(w.passages);
    expect(() => generateSyntheticWorld({ ...SMALL, surnames: 'Unique' as never })).toThrow(/surnames must be 'shared' or 'unique'/);
  });
});
