#!/usr/bin/env node
// What a synthetic world offers the method, before any model is trained: BM25's R@k (has_answer, as the demo
// reports it, and by the true gold passage), how often the gold passage is among BM25's top n_context (the reader
// can only select it when it is there), and how noisy answer-string supervision is (has_answer passages of the top
// n_context that are not the gold passage).
// Usage: node apps/reproduce/scripts/world-stats.mjs '{"seed":1001, ...world options}' [n_context]
import { Bm25Index, buildInitialContexts, generateSyntheticWorld } from '@fidkd/data';
import { topKAccuracy } from '@fidkd/eval';

const options = { seed: 1001, ...JSON.parse(process.argv[2] ?? '{}') };
const n = Number(process.argv[3] ?? 10);
const w = generateSyntheticWorld(options);
const index = await Bm25Index.build(w.passages, { k1: 0.9, b: 0.4 });
const byId = new Map(w.passages.map((p) => [p.id, p]));
const pct = (x) => (100 * x).toFixed(1);
console.log(`${w.passages.length} passages, ${w.train.length}/${w.dev.length}/${w.test.length} questions, options ${JSON.stringify(options)}`);
for (const split of ['train', 'dev']) {
  const qs = buildInitialContexts(w[split], index, byId, { k: 20 });
  const r = topKAccuracy(qs.map((q) => q.ctxs.map((c) => c.has_answer === true)), [1, 5, 10, 20]);
  const g = topKAccuracy(qs.map((q) => q.ctxs.map((c) => q.gold_passage_ids.includes(c.id))), [1, 5, 10, 20]);
  let pos = 0, goldPos = 0, misleading = 0, ownTitle = 0;
  for (const q of qs) {
    const top = q.ctxs.slice(0, n);
    const hits = top.filter((c) => c.has_answer);
    pos += hits.length;
    goldPos += hits.filter((c) => q.gold_passage_ids.includes(c.id)).length;
    if (hits.some((c) => !q.gold_passage_ids.includes(c.id))) misleading++;
    const title = byId.get(q.gold_passage_ids[0]).title;
    ownTitle += top.filter((c) => c.title === title).length / n;
  }
  console.log(`${split}: BM25 has_answer R@1/5/10/20 ${pct(r[1])} / ${pct(r[5])} / ${pct(r[10])} / ${pct(r[20])}; gold R@1/5/10/20 ${pct(g[1])} / ${pct(g[5])} / ${pct(g[10])} / ${pct(g[20])}`);
  console.log(`  top ${n}: has_answer passages per question ${(pos / qs.length).toFixed(2)}, of them gold ${pct(goldPos / Math.max(1, pos))} %; questions with a misleading has_answer passage ${pct(misleading / qs.length)} %; the entity's own passages ${pct(ownTitle / qs.length)} %`);
}
