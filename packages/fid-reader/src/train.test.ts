import * as tf from '@tensorflow/tfjs';
import { AdamW, GradientAccumulator, type ReaderBatch } from '@fidkd/core';
import { FiDReader } from './reader.js';
import { setFusedCpuKernels } from './kernels.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => setFusedCpuKernels(true));

const config = {
  vocab_size: 30,
  d_model: 16,
  d_kv: 6,
  num_heads: 2,
  d_ff: 24,
  num_layers: 2,
  num_decoder_layers: 2,
  relative_attention_num_buckets: 8,
  relative_attention_max_distance: 10,
  feed_forward_proj: 'gated-gelu' as const,
  tie_word_embeddings: false,
  dropout_rate: 0,
};

function batch(seed: number): ReaderBatch {
  const b = 2;
  const n = 3;
  const l = 7;
  const inputIds = new Int32Array(b * n * l);
  const attentionMask = new Int32Array(b * n * l);
  for (let row = 0; row < b * n; row++) {
    const len = 3 + ((row + seed) % 4);
    for (let j = 0; j < len; j++) {
      inputIds[row * l + j] = j === len - 1 ? 1 : 2 + ((row * 7 + j * 3 + seed) % 27);
      attentionMask[row * l + j] = 1;
    }
  }
  const labels = new Int32Array([5 + seed, 9, 1, 7, 1, -100]);
  return { inputIds, attentionMask, batchSize: b, nContext: n, textMaxlength: l, labels, answerLength: 3 };
}

test('fused cpu kernels give the same loss and gradients as plain tf ops', () => {
  const reader = FiDReader.create({ ...config, tie_word_embeddings: true, feed_forward_proj: 'relu' }, { seed: 8 });
  const other = FiDReader.create(config, { seed: 8 });
  for (const r of [reader, other]) {
    const fused = r.computeGradients(batch(1));
    setFusedCpuKernels(false);
    const plain = r.computeGradients(batch(1));
    setFusedCpuKernels(true);
    expect(fused.loss).toBeCloseTo(plain.loss, 5);
    expect([...fused.grads.keys()].sort()).toEqual([...plain.grads.keys()].sort());
    for (const [name, g] of fused.grads) {
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(g, plain.grads.get(name)!))).dataSync()[0]!);
      const scale = tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]!);
      expect({ name, ok: diff <= 1e-4 * Math.max(1, scale) }).toEqual({ name, ok: true });
    }
    tf.dispose([...fused.grads.values(), ...plain.grads.values()]);
  }
  reader.dispose();
  other.dispose();
});

test('trainStep: loss goes down, no tensor leaks across steps (numTensors constant)', () => {
  const reader = FiDReader.create(config, { seed: 2 });
  const optimizer = new AdamW({ lr: 1e-2, weightDecay: 0.01 });
  const data = batch(0);
  const first = reader.loss(data);
  let counts: number[] = [];
  for (let s = 0; s < 30; s++) {
    const r = reader.trainStep(data, { optimizer, lr: 1e-2, maxGradNorm: 1.0 });
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(r.gradNorm).toBeGreaterThan(0);
    counts.push(tf.memory().numTensors);
  }
  counts = counts.slice(1); // the optimizer creates its moments on the first step
  expect(new Set(counts).size).toBe(1);
  expect(reader.loss(data)).toBeLessThan(first * 0.3);
  optimizer.dispose();
  reader.dispose();
});

test('accumulate + applyAccumulated of one micro-batch equals trainStep; no leaks', () => {
  const a = FiDReader.create(config, { seed: 4 });
  const b = FiDReader.create(config, { seed: 4 });
  const optA = new AdamW({ lr: 1e-3 });
  const optB = new AdamW({ lr: 1e-3 });
  const acc = new GradientAccumulator();
  let count = -1;
  for (let s = 0; s < 3; s++) {
    a.trainStep(batch(s), { optimizer: optA, maxGradNorm: 0.5 });
    b.accumulate(batch(s), acc);
    expect(acc.count).toBe(1);
    b.applyAccumulated(acc, { optimizer: optB, maxGradNorm: 0.5 });
    expect(acc.count).toBe(0);
    if (s === 1) count = tf.memory().numTensors;
    if (s === 2) expect(tf.memory().numTensors).toBe(count);
  }
  for (const [name, v] of a.variables) {
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(v, b.variables.get(name)!))).dataSync()[0]!);
    expect({ name, d }).toEqual({ name, d: 0 });
  }
  tf.dispose([optA, optB].map(() => []));
  optA.dispose();
  optB.dispose();
  a.dispose();
  b.dispose();
});
