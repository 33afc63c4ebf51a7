import * as tf from '@tensorflow/tfjs';
import { AdamW, GradientAccumulator, type ReaderBatch } from '@fidkd/core';
import { FiDReader } from './reader.js';
import { FUSED_KERNEL_NAMES, isBlasAvailable, registerBlasKernels, unregisterBlasKernels } from '@fidkd/tfjs-blas';
import { setFusedCpuKernels, usesFusedAttention } from './kernels.js';

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

/** computeGradients with the fused kernels (JS loops, and whatever fused kernels are registered) vs plain tf ops. */
function expectFusedMatchesPlain(r: FiDReader): void {
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

test('fused cpu kernels give the same loss and gradients as plain tf ops', () => {
  const reader = FiDReader.create({ ...config, tie_word_embeddings: true, feed_forward_proj: 'relu' }, { seed: 8 });
  const other = FiDReader.create(config, { seed: 8 });
  for (const r of [reader, other]) expectFusedMatchesPlain(r);
  reader.dispose();
  other.dispose();
});

test("with @fidkd/tfjs-blas's fused attention kernel: the same loss and gradients as plain tf ops", () => {
  if (!isBlasAvailable()) throw new Error('@fidkd/tfjs-blas native addon is not built: run `npm run setup` (needs libopenblas-dev)');
  registerBlasKernels({ kernels: FUSED_KERNEL_NAMES });
  try {
    expect(usesFusedAttention()).toBe(true);
    const reader = FiDReader.create({ ...config, tie_word_embeddings: true, feed_forward_proj: 'relu' }, { seed: 8 });
    expectFusedMatchesPlain(reader);
    reader.dispose();
  } finally {
    unregisterBlasKernels();
  }
  expect(usesFusedAttention()).toBe(false);
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
