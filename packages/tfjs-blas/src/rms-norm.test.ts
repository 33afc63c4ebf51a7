// The fused RMS-norm kernels against T5's layer norm in stock tfjs ops: forward, and dx / dw against
// tf.grads of the plain version with a random cotangent.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from '@jest/globals';
import { isBlasAvailable, registerBlasKernels, unregisterBlasKernels } from './index.js';
import { RMS_NORM_GRAD_KERNEL, RMS_NORM_KERNEL } from './rms-norm.js';

beforeAll(async () => {
  if (!isBlasAvailable()) throw new Error('@fidkd/tfjs-blas native addon is not built: run `npm run setup` (needs libopenblas-dev)');
  await tf.setBackend('cpu');
  unregisterBlasKernels();
  registerBlasKernels({ kernels: [RMS_NORM_KERNEL, RMS_NORM_GRAD_KERNEL] });
});

const plain = (x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), w);

function maxAbs(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

it.each([
  [[3, 5, 8], 1e-6],
  [[200, 32], 1e-6],
  [[1, 7], 1e-3],
])('x %j, eps %f: forward and gradients match plain tf ops', (shape, eps) => {
  const d = shape[shape.length - 1]!;
  const x = tf.randomNormal(shape, 0, 2, 'float32', 1);
  const w = tf.randomNormal([d], 1, 0.5, 'float32', 2);
  const dy = tf.randomNormal(shape, 0, 1, 'float32', 3);
  const [y, rinv] = tf.engine().runKernel(RMS_NORM_KERNEL, { x, w }, { eps }) as tf.Tensor[];
  const ref = plain(x, w, eps);
  expect(rinv!.shape).toEqual([x.size / d]);
  expect(maxAbs(y!, ref)).toBeLessThan(1e-5);
  const [dx, dw] = tf.engine().runKernel(RMS_NORM_GRAD_KERNEL, { dy, x, w, rinv: rinv! }, {}) as tf.Tensor[];
  const [rdx, rdw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(plain(a, b, eps), dy)))([x, w]);
  expect(maxAbs(dx!, rdx!)).toBeLessThan(1e-4);
  expect(maxAbs(dw!, rdw!) / Math.max(1, tf.tidy(() => tf.max(tf.abs(rdw!)).dataSync()[0]!))).toBeLessThan(1e-5);
  tf.dispose([x, w, dy, y!, rinv!, ref, dx!, dw!, rdx!, rdw!]);
});

it('rejects a weight that does not match the last axis, naming the kernel', () => {
  const x = tf.zeros([2, 4]);
  const w = tf.ones([3]);
  expect(() => tf.engine().runKernel(RMS_NORM_KERNEL, { x, w }, { eps: 1e-6 })).toThrow(/FidkdRmsNorm: last axis of x \(2x4\) must equal the length of w \(3\)/);
  tf.dispose([x, w]);
});
