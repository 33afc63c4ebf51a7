#!/usr/bin/env node
// Trains the demo's FiD reader on a prepared run directory (after `fidkd demo` has written prepare/bm25/*.json and
// the tokenizer) and reports, every `every` steps, the held-out EM on dev questions and the teacher's gold@1 (how
// often the highest relevance score G is the gold passage). For shaping the world and the reader, not a product.
// Usage: node apps/reproduce/scripts/reader-on-world.mjs RUN_DIR '{"d":32,"layers":2,"dec":2,"lr":3e-3,"bs":32,"steps":500,"L":32}'
// ("init": a reader checkpoint directory to start from instead of fresh weights; "every": report period; "data":
// the directory of train.json / dev.json relative to RUN_DIR, default prepare/bm25)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, initBackend, linearWarmupDecay } from '@fidkd/core';
import { FiDReader } from '@fidkd/fid-reader';
import * as tok from '@fidkd/tokenization';

const run = process.argv[2];
const c = { d: 32, kv: 8, heads: 4, ff: 128, layers: 2, dec: 2, lr: 3e-3, bs: 32, steps: 500, L: 32, n: 10, every: 100, warmup: 30, seed: 1, devN: 200, ...JSON.parse(process.argv[3] ?? '{}') };
console.log(JSON.stringify(c));
await initBackend('auto');
const t = tok.loadTokenizer(join(run, 'prepare/tokenizer/tokenizer.json'));
const load = (s) => JSON.parse(readFileSync(join(run, c.data ?? 'prepare/bm25', `${s}.json`), 'utf8'));
const train = load('train');
const dev = load('dev').slice(0, c.devN);
const batchOf = (qs, withTarget) => tok.encodeReaderBatch(t, qs.map((q) => ({
  question: q.question, passages: q.ctxs.slice(0, c.n).map((p) => ({ title: p.title, text: p.text })), target: withTarget ? q.answers[0] : undefined,
})), { nContext: c.n, textMaxlength: c.L, answerMaxlength: 4 });
const reader = c.init ? FiDReader.load(c.init) : FiDReader.create({ vocab_size: t.vocabSize, d_model: c.d, d_kv: c.kv, num_heads: c.heads, d_ff: c.ff, num_layers: c.layers, num_decoder_layers: c.dec, dropout_rate: 0 }, { seed: c.seed });
const optimizer = new AdamW({ lr: c.lr, weightDecay: 0.01 });
const schedule = linearWarmupDecay({ warmupSteps: c.warmup, totalSteps: c.steps });
let s = c.seed >>> 0;
const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const t0 = Date.now();
const norm = (x) => x.toLowerCase().replace(/[^a-z0-9 ]/g, '').trim();
for (let step = 0; step < c.steps; step++) {
  const qs = Array.from({ length: c.bs }, () => train[Math.floor(rand() * train.length)]);
  const r = reader.trainStep(await batchOf(qs, true), { optimizer, lr: c.lr * schedule(step), maxGradNorm: 1 });
  if ((step + 1) % c.every === 0) {
    let em = 0, gold = 0, goldN = 0, goldPost = 0;
    for (let i = 0; i < dev.length; i += 50) {
      const chunk = dev.slice(i, i + 50);
      const b = await batchOf(chunk, false);
      const g = reader.generate(b, { maxNewTokens: 4 });
      const scores = reader.passageScores(b, { softmax: 'pre', positions: 'first' });
      const post = reader.passageScores(b, { softmax: 'post', positions: 'first' });
      for (let k = 0; k < chunk.length; k++) {
        const text = await t.decode(g.ids.subarray(k * g.length, (k + 1) * g.length), true);
        if (chunk[k].answers.some((a) => norm(a) === norm(text))) em++;
        const ids = chunk[k].ctxs.slice(0, c.n).map((p) => p.id);
        if (!ids.some((id) => chunk[k].gold_passage_ids.includes(id))) continue;
        goldN++;
        const argmax = (g) => {
          let best = 0;
          for (let j = 1; j < c.n; j++) if (g[k * c.n + j] > g[k * c.n + best]) best = j;
          return best;
        };
        if (chunk[k].gold_passage_ids.includes(ids[argmax(scores)])) gold++;
        if (chunk[k].gold_passage_ids.includes(ids[argmax(post)])) goldPost++;
      }
    }
    console.log(`step ${step + 1} loss ${r.loss.toFixed(3)} dev EM ${(em / dev.length).toFixed(3)} gold@1 pre ${(gold / goldN).toFixed(3)} post ${(goldPost / goldN).toFixed(3)} (${goldN}) ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
}
