// t5Attention and rmsNorm through @fidkd/tfjs-blas's fused kernels (one op forward, one backward) against
// their plain tf-op paths: values and gradients (q, k, v, position bias; x, w), as the reader's training uses
// them; likewise the relu feed-forward op of the cpu backend.
import * as tf from '@tensorflow/tfjs';
import { FUSED_KERNEL_NAMES, isBlasAvailable, registerBlasKernels, unregisterBlasKernels } from '@fidkd/tfjs-blas';
import { FLOAT32_MIN } from './t5.js';
import { reluFeedForward, rmsNorm, setFusedCpuKernels, t5Attention, t5SelfAttentionPacked, usesFusedAttention } from './kernels.js';

beforeAll(async () => {
  if (!isBlasAvailable()) throw new Error('@fidkd/tfjs-blas native addon is not built: run `npm run setup` (needs libopenblas-dev)');
  await tf.setBackend('cpu');
  registerBlasKernels({ kernels: FUSED_KERNEL_NAMES });
});
afterAll(() => unregisterBlasKernels());
afterEach(() => setFusedCpuKernels(true));

function valueAndGrads(fused: boolean, xs: tf.Tensor[], mask: Int32Array | null, causal: boolean, h: number, dy: tf.Tensor, packed = false): Float32Array[] {
  setFusedCpuKernels(fused);
  expect(usesFusedAttention()).toBe(fused);
  // packed: q, k, v enter as one [N, L, 3·H·d] tensor (its gradient is split back for the comparison).
  const f = packed
    ? (...t: tf.Tensor[]): tf.Tensor => t5SelfAttentionPacked(tf.concat([t[0]!, t[1]!, t[2]!], -1), t[3] ?? null, mask, causal, h, FLOAT32_MIN)
    : (...t: tf.Tensor[]): tf.Tensor => t5Attention(t[0]!, t[1]!, t[2]!, t[3] ?? null, mask, causal, h, FLOAT32_MIN);
  return tf.tidy(() => {
    const value = f(...xs);
    const grads = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(f(...t), dy)))(xs);
    return [value, ...grads].map((t) => Float32Array.from(t.dataSync()));
  });
}

test.each([
  { name: 'encoder: padding + position bias', n: 4, l: 6, h: 2, d: 4, pos: true, causal: false, pad: true },
  { name: 'decoder: causal + position bias', n: 3, l: 4, h: 4, d: 2, pos: true, causal: true, pad: false },
  { name: 'no position bias', n: 2, l: 5, h: 1, d: 3, pos: false, causal: false, pad: true },
])('$name: fused values and gradients equal the plain tf ops', ({ n, l, h, d, pos, causal, pad }) => {
  const xs = [
    tf.randomNormal([n, l, h * d], 0, 1, 'float32', 1),
    tf.randomNormal([n, l, h * d], 0, 1, 'float32', 2),
    tf.randomNormal([n, l, h * d], 0, 1, 'float32', 3),
    ...(pos ? [tf.randomNormal([1, h, l, l], 0, 1, 'float32', 4)] : []),
  ];
  const dy = tf.randomNormal([n, l, h * d], 0, 1, 'float32', 5);
  const mask = pad ? Int32Array.from({ length: n * l }, (_, i) => (i % l < l - (i % 3) ? 1 : 0)) : null;
  const before = tf.memory().numTensors;
  const plain = valueAndGrads(false, xs, mask, causal, h, dy);
  for (const packed of [false, true]) {
    const fused = valueAndGrads(true, xs, mask, causal, h, dy, packed);
    expect(tf.memory().numTensors).toBe(before);
    expect(fused.length).toBe(xs.length + 1);
    fused.forEach((got, i) => {
      const want = plain[i]!;
      let err = 0;
      for (let j = 0; j < want.length; j++) err = Math.max(err, Math.abs(got[j]! - want[j]!));
      expect({ packed, output: i, ok: err <= 1e-5 }).toEqual({ packed, output: i, ok: true });
    });
  }
  tf.dispose([...xs, dy]);
});

test('rmsNorm: fused values and gradients equal the plain tf ops', () => {
  const x = tf.randomNormal([6, 5, 16], 0, 2, 'float32', 7);
  const w = tf.randomNormal([16], 1, 0.3, 'float32', 8);
  const dy = tf.randomNormal([6, 5, 16], 0, 1, 'float32', 9);
  const run = (fused: boolean): Float32Array[] => {
    setFusedCpuKernels(fused);
    return tf.tidy(() => {
      const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => rmsNorm(a, b, 1e-6);
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), dy)))([x, w]);
      return [f(x, w), ...grads].map((t) => Float32Array.from(t.dataSync()));
    });
  };
  const fused = run(true);
  const plain = run(false);
  fused.forEach((got, i) => {
    let err = 0;
    for (let j = 0; j < got.length; j++) err = Math.max(err, Math.abs(got[j]! - plain[i]![j]!));
    expect({ output: i, ok: err <= 1e-4 }).toEqual({ output: i, ok: true });
  });
  tf.dispose([x, w, dy]);
});

test('reluFeedForward: fused values and gradients equal the plain tf ops (inactive units included)', () => {
  const x = tf.randomNormal([40, 8], 0, 1, 'float32', 10);
  const wi = tf.randomNormal([24, 8], 0, 0.5, 'float32', 11);
  const wo = tf.randomNormal([8, 24], 0, 0.5, 'float32', 12);
  const dy = tf.randomNormal([40, 8], 0, 1, 'float32', 13);
  const run = (fused: boolean): Float32Array[] => {
    setFusedCpuKernels(fused);
    return tf.tidy(() => {
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): tf.Tensor => reluFeedForward(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D);
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a, b, c), dy)))([x, wi, wo]);
      return [f(x, wi, wo), ...grads].map((t) => Float32Array.from(t.dataSync()));
    });
  };
  const before = tf.memory().numTensors;
  const fused = run(true);
  const plain = run(false);
  expect(tf.memory().numTensors).toBe(before);
  fused.forEach((got, i) => {
    let err = 0;
    for (let j = 0; j < got.length; j++) err = Math.max(err, Math.abs(got[j]! - plain[i]![j]!));
    expect({ output: i, ok: err <= 1e-5 }).toEqual({ output: i, ok: true });
  });
  tf.dispose([x, wi, wo, dy]);
});
