import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from '@jest/globals';
import type { TokenBatch } from '@fidkd/core';
import { BiEncoder } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.enableProdMode();
});

/** Seeded uniform [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pack(texts: number[][], length: number): TokenBatch {
  const ids = new Int32Array(texts.length * length);
  const mask = new Int32Array(texts.length * length);
  texts.forEach((t, r) => t.slice(0, length).forEach((id, c) => { ids[r * length + c] = id; mask[r * length + c] = 1; }));
  return { ids, mask, count: texts.length, length };
}

/** Average ranks (ties share the mean rank). */
function ranks(x: number[]): number[] {
  const idx = x.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(x.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
    for (let k = i; k <= j; k++) r[idx[k]![1]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

function spearman(a: number[], b: number[]): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const ma = ra.reduce((s, v) => s + v, 0) / ra.length;
  const mb = rb.reduce((s, v) => s + v, 0) / rb.length;
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

const smallBert = { vocabSize: 40, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 16 };

function randomTexts(n: number, len: number, rand: () => number): number[][] {
  return Array.from({ length: n }, () => [2, ...Array.from({ length: 2 + Math.floor(rand() * (len - 3)) }, () => 4 + Math.floor(rand() * 36)), 3]);
}

describe('trainStep', () => {
  test('no tensor leaks across steps (dropout on); pooler untouched, encoder updated; every loss runs', () => {
    const m = BiEncoder.create({ bert: smallBert }, { seed: 1 });
    const rand = rng(4);
    const questions = pack(randomTexts(3, 8, rand), 8);
    const passages = pack(randomTexts(12, 12, rand), 12);
    const gold = Float32Array.from({ length: 12 }, () => rand() * 4 - 2);
    const hasAnswer = Array.from({ length: 12 }, (_, i) => (i % 5 === 0 ? 1 : 0));
    const pooler = Array.from(m.parameters().get('pooler.dense.weight')!.dataSync());
    const emb = Array.from(m.parameters().get('encoder.layer.0.attention.self.query.weight')!.dataSync());
    m.trainStep({ questions, passages, gold }, { lr: 1e-3, warmupSteps: 0 });
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    for (const loss of ['kl_repo', 'mse', 'margin', 'margin_ordered_pos_pairs_mean', 'answer'] as const) {
      const r = m.trainStep({ questions, passages, gold, hasAnswer }, { loss });
      expect(Number.isFinite(r.loss) && Number.isFinite(r.gradNorm)).toBe(true);
      losses.push(r.loss);
      expect(tf.memory().numTensors).toBe(before);
    }
    expect(m.getTrainer().optimizer.step).toBe(6);
    expect(Array.from(m.parameters().get('pooler.dense.weight')!.dataSync())).toEqual(pooler);
    expect(Array.from(m.parameters().get('encoder.layer.0.attention.self.query.weight')!.dataSync())).not.toEqual(emb);
    expect(() => m.trainStep({ questions, passages }, { loss: 'kl' })).toThrow(/needs gold \[3, 4\]/);
    expect(() => m.trainStep({ questions, passages, gold: gold.subarray(1) })).toThrow(/gold has 11 values, expected 3\*4/);
    m.dispose();
  });

  test('KL training lowers the loss on a fixed batch (no dropout)', () => {
    const m = BiEncoder.create({ bert: smallBert }, { seed: 2 });
    const rand = rng(9);
    const questions = pack(randomTexts(4, 8, rand), 8);
    const passages = pack(randomTexts(24, 12, rand), 12);
    const gold = Float32Array.from({ length: 24 }, () => rand() * 6 - 3);
    const first = m.trainStep({ questions, passages, gold }, { lr: 3e-3, dropout: false }).loss;
    let last = first;
    for (let i = 0; i < 15; i++) last = m.trainStep({ questions, passages, gold }).loss;
    expect(last).toBeLessThan(first * 0.5);
    m.dispose();
  });
});

describe('distillation from fixed gold scores', () => {
  // Toy corpus: 32 content tokens (ids 8..39) each with an angle θ_w; a text is built around a centre angle from
  // tokens near it plus filler tokens (ids 4..7). The gold score of (q, p) is 3·<v_q, v_p> with v = mean over
  // the text's content tokens of (cos θ_w, sin θ_w): a continuous relevance the retriever must learn from G alone.
  const rand = rng(2024);
  const theta = Array.from({ length: 40 }, (_, i) => (i >= 8 ? ((i - 8) / 32) * 2 * Math.PI + rand() * 0.1 : 0));
  const content = Array.from({ length: 32 }, (_, i) => i + 8);
  function makeText(len: number): { ids: number[]; v: [number, number] } {
    const centre = rand() * 2 * Math.PI;
    const near = content.filter((w) => Math.abs(Math.atan2(Math.sin(theta[w]! - centre), Math.cos(theta[w]! - centre))) < 0.9);
    const words: number[] = [];
    const nContent = 2 + Math.floor(rand() * 2);
    for (let i = 0; i < nContent; i++) words.push(near[Math.floor(rand() * near.length)]!);
    for (let i = 0; i < len - nContent; i++) if (rand() < 0.5) words.splice(Math.floor(rand() * (words.length + 1)), 0, 4 + Math.floor(rand() * 4));
    const v: [number, number] = [0, 0];
    for (const w of words) if (w >= 8) { v[0] += Math.cos(theta[w]!) / nContent; v[1] += Math.sin(theta[w]!) / nContent; }
    return { ids: [2, ...words, 3], v };
  }
  const gold = (q: { v: [number, number] }, p: { v: [number, number] }) => 3 * (q.v[0] * p.v[0] + q.v[1] * p.v[1]);
  const corpus = Array.from({ length: 200 }, () => makeText(5));
  const trainQ = Array.from({ length: 240 }, () => makeText(3));
  const heldOut = Array.from({ length: 30 }, () => makeText(3));

  test('a retriever trained with the KL loss ranks held-out questions as the gold scores do (Spearman ≥ 0.9)', () => {
    const m = BiEncoder.create({ bert: { vocabSize: 40, hiddenSize: 32, numHiddenLayers: 1, numAttentionHeads: 4, intermediateSize: 64, maxPositionEmbeddings: 16 } }, { seed: 3 });
    // 80 steps of 4 questions x 8 passages: ~0.97 held-out Spearman (0.92 after 40 steps).
    const n = 8;
    const bsz = 4;
    const steps = 80;
    const t0 = performance.now();
    for (let step = 0; step < steps; step++) {
      const qs = Array.from({ length: bsz }, (_, i) => trainQ[(step * bsz + i) % trainQ.length]!);
      const ps: typeof corpus = [];
      const g: number[] = [];
      for (const q of qs) {
        for (let j = 0; j < n; j++) {
          const p = corpus[Math.floor(rand() * corpus.length)]!;
          ps.push(p);
          g.push(gold(q, p));
        }
      }
      m.trainStep(
        { questions: pack(qs.map((q) => q.ids), 8), passages: pack(ps.map((p) => p.ids), 10), gold: Float32Array.from(g) },
        { loss: 'kl', lr: 3e-3, warmupSteps: 10, totalSteps: steps, weightDecay: 0.01, dropout: false },
      );
    }
    const seconds = (performance.now() - t0) / 1000;
    // Held-out: each question against 40 corpus passages.
    const rhos: number[] = [];
    for (const q of heldOut) {
      const cands = Array.from({ length: 40 }, (_, j) => corpus[(j * 5 + Math.floor(rand() * 5)) % corpus.length]!);
      const s = m.scores(pack([q.ids], 8), pack(cands.map((p) => p.ids), 10));
      rhos.push(spearman(Array.from(s), cands.map((p) => gold(q, p))));
    }
    const mean = rhos.reduce((a, b) => a + b, 0) / rhos.length;
    console.log(`distillation: ${steps} steps in ${seconds.toFixed(1)} s; held-out mean Spearman ${mean.toFixed(3)} (min ${Math.min(...rhos).toFixed(3)})`);
    expect(mean).toBeGreaterThanOrEqual(0.9);
    m.dispose();
  });
});
