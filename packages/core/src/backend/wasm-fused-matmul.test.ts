import * as tf from '@tensorflow/tfjs';
import { initBackend } from './init-backend.js';

// x·Wᵀ + b with W stored [out, in] (every linear layer of the BERT retriever), and its gradients, on wasm and cpu.
function linearCases(): Array<{ name: string; values: number[] }> {
  return tf.tidy(() => {
    const x = tf.tensor2d(Array.from({ length: 12 * 16 }, (_, i) => Math.sin(i)), [12, 16]);
    const w = tf.tensor2d(Array.from({ length: 32 * 16 }, (_, i) => Math.cos(i * 0.7)), [32, 16]);
    const b = tf.tensor1d(Array.from({ length: 32 }, (_, i) => i - 16));
    const xs = tf.reshape(x, [2, 6, 16]) as tf.Tensor3D;
    const ws = tf.stack([w, w.mul(0.5)]) as tf.Tensor3D;
    const grads = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.square(tf.fused.matMul({ a: xx as tf.Tensor2D, b: ww as tf.Tensor2D, transposeB: true, bias: bb }))))([x, w, b]);
    return [
      { name: 'transposeB + bias', values: Array.from(tf.fused.matMul({ a: x, b: w, transposeB: true, bias: b }).dataSync()) },
      { name: 'transposeB + bias + relu', values: Array.from(tf.fused.matMul({ a: x, b: w, transposeB: true, bias: b, activation: 'relu' }).dataSync()) },
      { name: 'batched transposeB + bias', values: Array.from(tf.fused.matMul({ a: xs, b: ws, transposeB: true, bias: b }).dataSync()) },
      { name: 'bias without transposes', values: Array.from(tf.fused.matMul({ a: x, b: tf.transpose(w), bias: b }).dataSync()) },
      { name: 'transposeA + bias + sigmoid', values: Array.from(tf.fused.matMul({ a: tf.transpose(x), b: tf.transpose(w), transposeA: true, bias: b, activation: 'sigmoid' }).dataSync()) },
      { name: 'transposeB + bias + leakyrelu', values: Array.from(tf.fused.matMul({ a: x, b: w, transposeB: true, bias: b, activation: 'leakyrelu', leakyreluAlpha: 0.1 }).dataSync()) },
      { name: 'transposeB without bias', values: Array.from(tf.fused.matMul({ a: x, b: w, transposeB: true, activation: 'relu' }).dataSync()) },
      ...grads.map((g, i) => ({ name: `gradient ${i}`, values: Array.from(g.dataSync()) })),
    ];
  });
}

test('wasm: a fused matMul with a bias and transposed or batched operands equals the cpu backend (tfjs-backend-wasm 4.22 gets it wrong)', async () => {
  await initBackend('cpu', { blas: false });
  const onCpu = linearCases();
  const before = tf.memory().numTensors;
  await initBackend('wasm');
  const onWasm = linearCases();
  for (const [i, c] of onCpu.entries()) {
    const w = onWasm[i]!;
    const worst = Math.max(...c.values.map((v, j) => Math.abs(v - w.values[j]!) / Math.max(1, Math.abs(v))));
    expect({ name: c.name, ok: worst < 1e-5 }).toEqual({ name: c.name, ok: true });
  }
  await tf.setBackend('cpu');
  expect(tf.memory().numTensors).toBe(before);
});
