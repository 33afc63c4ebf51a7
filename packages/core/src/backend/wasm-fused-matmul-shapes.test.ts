import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../index.js';

afterAll(async () => {
  await tf.setBackend('cpu');
});

// tfjs-backend-wasm 4.22 got these wrong (the bias of later rows) before initBackend('wasm') wrapped the kernel
// (fixWasmFusedMatMul): every transpose and batch shape, with and without broadcasting, and the gradient.
test('fused matMul with a bias on wasm equals matMul + bias for every transpose and batch shape', async () => {
  await initBackend('wasm', { log: () => {} });
  expect(tf.getBackend()).toBe('wasm');
  const cases: [number[], number[], boolean, boolean][] = [
    [[5, 4], [3, 4], false, true], // BERT's linear: x·Wᵀ + b
    [[4, 5], [3, 4], true, true],
    [[4, 5], [4, 3], true, false],
    [[5, 4], [4, 3], false, false],
    [[2, 5, 4], [2, 4, 3], false, false],
    [[3, 5, 4], [1, 3, 4], false, true],
  ];
  const bias = tf.tensor1d([1, 10, 100]);
  for (const [aShape, bShape, transposeA, transposeB] of cases) {
    const a = tf.randomNormal(aShape, 0, 1, 'float32', 1);
    const b = tf.randomNormal(bShape, 0, 1, 'float32', 2);
    const plain = tf.add(tf.matMul(a, b, transposeA, transposeB), bias);
    for (const activation of ['linear', 'relu', 'elu'] as const) {
      const fused = tf.fused.matMul({ a, b, transposeA, transposeB, bias, activation });
      const expected = activation === 'relu' ? tf.relu(plain) : activation === 'elu' ? tf.elu(plain) : plain;
      const diff = tf.max(tf.abs(tf.sub(fused, expected))).dataSync()[0]!;
      expect({ shapes: [aShape, bShape, transposeA, transposeB, activation], diff: diff < 1e-4 }).toEqual({ shapes: [aShape, bShape, transposeA, transposeB, activation], diff: true });
    }
  }
  // its gradient (the unfused ops of tfjs-core's gradient) agrees too
  const x = tf.randomNormal([5, 4], 0, 1, 'float32', 3);
  const w = tf.randomNormal([3, 4], 0, 1, 'float32', 4);
  const [gx, gw, gb] = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(tf.fused.matMul({ a: xx as tf.Tensor2D, b: ww as tf.Tensor2D, transposeB: true, bias: bb }))))([x, w, bias]);
  const [ex, ew, eb] = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(tf.add(tf.matMul(xx, ww, false, true), bb))))([x, w, bias]);
  for (const [g, e] of [[gx, ex], [gw, ew], [gb, eb]] as const) expect(tf.max(tf.abs(tf.sub(g!, e!))).dataSync()[0]!).toBeLessThan(1e-3);
});
