// The teacher signal works: a tiny FiD reader trained from scratch on a synthetic task (the answer is written in
// exactly one of n passages, the others are distractors) answers held-out questions and its cross-attention
// relevance scores rank the answering passage first.
import * as tf from '@tensorflow/tfjs';
import { AdamW, linearWarmupDecay, type ReaderBatch } from '@fidkd/core';
import { FiDReader } from './reader.js';

const N_CONTEXT = 4;
const KEYS = Number(process.env.TOY_KEYS ?? 4); // entity ids 2..KEYS+1
const ANSWERS = Number(process.env.TOY_ANSWERS ?? 8); // answer ids after the entities
const FILLERS = 8; // filler ids after the answers
const A0 = 2 + KEYS;
const F0 = A0 + ANSWERS;
const VOCAB = F0 + FILLERS;
const DIM = Number(process.env.TOY_DIM ?? 32);
const L = 5; // [question key, passage key, answer, filler, eos]

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface ToyBatch {
  batch: ReaderBatch;
  gold: number[]; // passage index holding the answer, per question
  answers: number[];
}

/** Each question asks about entity k; passage j mentions entity k_j with answer a_j; exactly one k_j = k. */
function toyBatch(r: () => number, size: number): ToyBatch {
  const inputIds = new Int32Array(size * N_CONTEXT * L);
  const attentionMask = new Int32Array(size * N_CONTEXT * L).fill(1);
  const labels = new Int32Array(size * 2);
  const gold: number[] = [];
  const answers: number[] = [];
  const pick = (n: number) => Math.floor(r() * n);
  for (let i = 0; i < size; i++) {
    const key = 2 + pick(KEYS);
    const g = pick(N_CONTEXT);
    const answer = A0 + pick(ANSWERS);
    for (let j = 0; j < N_CONTEXT; j++) {
      let pk = key;
      if (j !== g) while (pk === key) pk = 2 + pick(KEYS);
      const a = j === g ? answer : A0 + pick(ANSWERS);
      inputIds.set([key, pk, a, F0 + pick(FILLERS), 1], (i * N_CONTEXT + j) * L);
    }
    labels.set([answer, 1], i * 2);
    gold.push(g);
    answers.push(answer);
  }
  return { batch: { inputIds, attentionMask, batchSize: size, nContext: N_CONTEXT, textMaxlength: L, labels, answerLength: 2 }, gold, answers };
}

/** Fraction of questions whose greedy answer is exactly [answer, eos]. */
function exactMatch(reader: FiDReader, data: ToyBatch): number {
  const gen = reader.generate(data.batch, { maxNewTokens: 4 });
  let em = 0;
  for (let i = 0; i < data.answers.length; i++) {
    if (gen.ids[i * gen.length + 1] === data.answers[i] && gen.ids[i * gen.length + 2] === 1) em++;
  }
  return em / data.answers.length;
}

test('toy FiD task: ≥ 95% EM on held-out questions and the gold passage ranked first ≥ 90%', async () => {
  await tf.setBackend('cpu');
  const reader = FiDReader.create(
    { vocab_size: VOCAB, d_model: DIM, d_kv: DIM / 4, num_heads: 4, d_ff: 2 * DIM, num_layers: 2, num_decoder_layers: 2, dropout_rate: 0 },
    { seed: 1 },
  );
  const maxSteps = Number(process.env.TOY_STEPS ?? 400);
  const batchSize = Number(process.env.TOY_BATCH ?? 16);
  const lr = Number(process.env.TOY_LR ?? 1e-2);
  const optimizer = new AdamW({ lr, weightDecay: 0.01 });
  const schedule = linearWarmupDecay({ warmupSteps: 30, totalSteps: maxSteps, minRatio: 0.1 });
  const r = rng(123);
  const validation = toyBatch(rng(555), 64);
  const t0 = Date.now();
  let before = -1;
  let loss = 0;
  let steps = 0;
  for (let s = 0; s < maxSteps; s++) {
    loss = reader.trainStep(toyBatch(r, batchSize).batch, { optimizer, lr: lr * schedule(s), maxGradNorm: 1 }).loss;
    steps = s + 1;
    if (s === 1) before = tf.memory().numTensors;
    if (s > 1) expect(tf.memory().numTensors).toBe(before);
    if (process.env.TOY_LOG && s % 25 === 0) console.log(`step ${s} loss ${loss.toFixed(4)} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // Early stop on a validation set disjoint from the held-out test questions.
    if (s >= 60 && s % 10 === 0 && loss < 0.02 && exactMatch(reader, validation) >= 0.99) break;
  }
  const trainSeconds = (Date.now() - t0) / 1000;

  const test = toyBatch(rng(999), 200);
  const gen = reader.generate(test.batch, { maxNewTokens: 4 });
  const scores = reader.passageScores(test.batch);
  let em = 0;
  let top1 = 0;
  for (let i = 0; i < 200; i++) {
    const row = Array.from(gen.ids.subarray(i * gen.length, (i + 1) * gen.length));
    if (row[1] === test.answers[i] && row[2] === 1) em++;
    const s = Array.from(scores.subarray(i * N_CONTEXT, (i + 1) * N_CONTEXT));
    if (s.indexOf(Math.max(...s)) === test.gold[i]) top1++;
  }
  console.log(`toy task: ${steps} steps of ${batchSize} questions, final loss ${loss.toFixed(4)}, train ${trainSeconds.toFixed(1)} s, EM ${em / 2}%, gold passage ranked first ${top1 / 2}%`);
  expect(em / 200).toBeGreaterThanOrEqual(0.95);
  expect(top1 / 200).toBeGreaterThanOrEqual(0.9);
  optimizer.dispose();
  reader.dispose();
});
