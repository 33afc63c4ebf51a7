#!/usr/bin/env node
// How fast does a from-scratch FiD reader learn to pick the answering passage? A synthetic probe with the FiD
// layout of the demo but nothing else: each of n passages of L tokens holds the question key (position 0, as the
// question is repeated in every FiD passage), a passage key next to an answer token near the end, and filler
// tokens; exactly one passage's key matches the question (through a fixed permutation when para = 1, the
// paraphrase of the synthetic world). The reader can only answer by selecting that passage.
// Usage: node apps/reproduce/scripts/reader-selection-probe.mjs '{"n":10,"L":30,"answers":100,"para":1}'
// Knobs (JSON): n, L, keys, answers, fillers, d (d_model), layers, dec, lr, bs, steps, pre (first steps with the
// answering passage alone, to learn copying first), mid/midN (then midN passages until step mid), seed.
// Prints the training loss and the held-out exact match at n passages every 100 steps.
import { AdamW, initBackend, linearWarmupDecay } from '@fidkd/core';
import { FiDReader } from '@fidkd/fid-reader';

const c = {
  n: 4, L: 5, keys: 4, answers: 8, fillers: 8, d: 32, layers: 2, dec: 2, lr: 1e-2, bs: 16, steps: 400, para: 0,
  pre: 0, mid: 0, midN: 2, seed: 123, ...JSON.parse(process.argv[2] ?? '{}'),
};
console.log(JSON.stringify(c));
await initBackend('auto');
const A0 = 2 + c.keys; // ids: 0 pad, 1 eos, keys, answers, fillers
const F0 = A0 + c.answers;
const vocab = F0 + c.fillers;
let s = c.seed >>> 0;
const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const pick = (k) => Math.floor(rand() * k);
const perm = Array.from({ length: c.keys }, (_, i) => i).sort(() => rand() - 0.5);

function batch(size, n) {
  const ids = new Int32Array(size * n * c.L);
  const labels = new Int32Array(size * 2);
  const answers = [];
  for (let i = 0; i < size; i++) {
    const key = pick(c.keys);
    const gold = pick(n);
    const answer = A0 + pick(c.answers);
    for (let j = 0; j < n; j++) {
      let pk = key;
      if (j !== gold) while (pk === key) pk = pick(c.keys);
      const row = Array.from({ length: c.L }, () => F0 + pick(c.fillers));
      row[0] = 2 + key;
      row[c.L - 3] = 2 + (c.para ? perm[pk] : pk);
      row[c.L - 2] = j === gold ? answer : A0 + pick(c.answers);
      row[c.L - 1] = 1;
      ids.set(row, (i * n + j) * c.L);
    }
    labels.set([answer, 1], i * 2);
    answers.push(answer);
  }
  const b = { inputIds: ids, attentionMask: new Int32Array(ids.length).fill(1), batchSize: size, nContext: n, textMaxlength: c.L, labels, answerLength: 2 };
  return { b, answers };
}

const reader = FiDReader.create(
  { vocab_size: vocab, d_model: c.d, d_kv: c.d / 4, num_heads: 4, d_ff: 2 * c.d, num_layers: c.layers, num_decoder_layers: c.dec, dropout_rate: 0 },
  { seed: 1 },
);
const optimizer = new AdamW({ lr: c.lr, weightDecay: 0.01 });
const schedule = linearWarmupDecay({ warmupSteps: 30, totalSteps: c.steps, minRatio: 0.1 });
const heldOut = batch(64, c.n);
const t0 = Date.now();
for (let step = 0; step < c.steps; step++) {
  const n = step < c.pre ? 1 : step < c.mid ? c.midN : c.n;
  const { b } = batch(c.bs, n);
  const r = reader.trainStep(b, { optimizer, lr: c.lr * schedule(step), maxGradNorm: 1 });
  if ((step + 1) % 100 === 0) {
    const gen = reader.generate(heldOut.b, { maxNewTokens: 3 });
    let em = 0;
    for (let i = 0; i < heldOut.answers.length; i++) if (gen.ids[i * gen.length + 1] === heldOut.answers[i]) em++;
    console.log(`step ${step + 1} (n=${n}) loss ${r.loss.toFixed(3)} held-out EM@n=${c.n} ${(em / heldOut.answers.length).toFixed(2)} ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
}
