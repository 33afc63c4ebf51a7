// The fused LayerNorm kernels against BERT's LayerNorm in stock tfjs ops: forward, and dx / dγ / dβ against
// tf.grads of the plain version with a random cotangent; the γ/β sums must not depend on the thread count.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from '@jest/globals';
import { isBlasAvailable, registerBlasKernels, unregisterBlasKernels } from './index.js';
import { LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL } from './layer-norm.js';

beforeAll(async () => {
  if (!isBlasAvailable()) throw new Error('@fidkd/tfjs-blas native addon is not built: run `npm run setup` (needs libopenblas-dev)');
  await tf.setBackend('cpu');
  unregisterBlasKernels();
  registerBlasKernels({ kernels: [LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL] });
});

function plain(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const centered = tf.sub(x, tf.mean(x, -1, true));
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps))), g), b);
}

function maxAbs(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

function scale(t: tf.Tensor): number {
  return Math.max(1, tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]!));
}

it.each([
  [[3, 5, 8], 1e-12],
  [[300, 64], 1e-12],
  [[1, 7], 1e-5],
])('x %j, eps %f: forward and gradients match plain tf ops', (shape, eps) => {
  const d = shape[shape.length - 1]!;
  const x = tf.randomNormal(shape, 0.5, 2, 'float32', 1);
  const g = tf.randomNormal([d], 1, 0.5, 'float32', 2);
  const b = tf.randomNormal([d], 0, 0.5, 'float32', 4);
  const dy = tf.randomNormal(shape, 0, 1, 'float32', 3);
  const [y, mean, rstd] = tf.engine().runKernel(LAYER_NORM_KERNEL, { x, gamma: g, beta: b }, { eps }) as tf.Tensor[];
  const ref = plain(x, g, b, eps);
  expect(mean!.shape).toEqual([x.size / d]);
  expect(maxAbs(y!, ref)).toBeLessThan(1e-5);
  const [dx, dg, db] = tf.engine().runKernel(LAYER_NORM_GRAD_KERNEL, { dy, x, gamma: g, mean: mean!, rstd: rstd! }, {}) as tf.Tensor[];
  const [rdx, rdg, rdb] = tf.grads((a: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(plain(a, c, e, eps), dy)))([x, g, b]);
  expect(maxAbs(dx!, rdx!) / scale(rdx!)).toBeLessThan(1e-5);
  expect(maxAbs(dg!, rdg!) / scale(rdg!)).toBeLessThan(1e-5);
  expect(maxAbs(db!, rdb!) / scale(rdb!)).toBeLessThan(1e-5);
  tf.dispose([x, g, b, dy, y!, mean!, rstd!, ref, dx!, dg!, db!, rdx!, rdg!, rdb!]);
});

it('gives the same gradients bit for bit on 1 and 2 threads', () => {
  const x = tf.randomNormal([1000, 96], 0, 1, 'float32', 5);
  const g = tf.randomNormal([96], 1, 0.5, 'float32', 6);
  const b = tf.zeros([96]);
  const dy = tf.randomNormal([1000, 96], 0, 1, 'float32', 7);
  const run = (threads: number): Float32Array[] => {
    registerBlasKernels({ kernels: [LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL], threads });
    const [y, mean, rstd] = tf.engine().runKernel(LAYER_NORM_KERNEL, { x, gamma: g, beta: b }, { eps: 1e-12 }) as tf.Tensor[];
    const grads = tf.engine().runKernel(LAYER_NORM_GRAD_KERNEL, { dy, x, gamma: g, mean: mean!, rstd: rstd! }, {}) as tf.Tensor[];
    const out = [y!, ...grads].map((t) => t.dataSync() as Float32Array);
    tf.dispose([y!, mean!, rstd!, ...grads]);
    return out;
  };
  const one = run(1);
  const two = run(2);
  for (let i = 0; i < one.length; i++) expect(Buffer.from(two[i]!.buffer).equals(Buffer.from(one[i]!.buffer))).toBe(true);
  tf.dispose([x, g, b, dy]);
});

it('rejects gamma that does not match the last axis, naming the kernel', () => {
  const x = tf.zeros([2, 4]);
  const g = tf.ones([3]);
  expect(() => tf.engine().runKernel(LAYER_NORM_KERNEL, { x, gamma: g, beta: g }, { eps: 1e-12 })).toThrow(/FidkdLayerNorm: last axis of x \(2x4\) must equal the length of gamma \(3\)/);
  tf.dispose([x, g]);
});
