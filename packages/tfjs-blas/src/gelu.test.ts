// The fused GELU kernels against 0.5·x·(1 + erf(x/√2)) in stock tfjs ops (forward) and tf.grads of it with a
// random cotangent (gradient), over the range where erf saturates too.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from '@jest/globals';
import { isBlasAvailable, registerBlasKernels, unregisterBlasKernels } from './index.js';
import { GELU_GRAD_KERNEL, GELU_KERNEL } from './gelu.js';

beforeAll(async () => {
  if (!isBlasAvailable()) throw new Error('@fidkd/tfjs-blas native addon is not built: run `npm run setup` (needs libopenblas-dev)');
  await tf.setBackend('cpu');
  unregisterBlasKernels();
  registerBlasKernels({ kernels: [GELU_KERNEL, GELU_GRAD_KERNEL] });
});

const plain = (x: tf.Tensor): tf.Tensor => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));

function maxAbs(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

it.each([[[4, 1000]], [[7]], [[50000]]])('x %j: forward and gradient match plain tf ops', (shape) => {
  const x = tf.randomNormal(shape, 0, 3, 'float32', 1);
  const dy = tf.randomNormal(shape, 0, 1, 'float32', 2);
  const [y] = tf.engine().runKernel(GELU_KERNEL, { x }, {}) as tf.Tensor[];
  const ref = plain(x);
  expect(y!.shape).toEqual(shape);
  expect(maxAbs(y!, ref)).toBeLessThan(1e-5);
  const [dx] = tf.engine().runKernel(GELU_GRAD_KERNEL, { dy, x }, {}) as tf.Tensor[];
  const [rdx] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(plain(a), dy)))([x]);
  expect(maxAbs(dx!, rdx!)).toBeLessThan(1e-5);
  tf.dispose([x, dy, y!, ref, dx!, rdx!]);
});

it('matches erf GELU at exactly known points', () => {
  const x = tf.tensor1d([0, 1, -1, 3, -3, 10, -10]);
  const [y] = tf.engine().runKernel(GELU_KERNEL, { x }, {}) as tf.Tensor[];
  // x·Φ(x) from Φ(1) = 0.8413447460685429, Φ(3) = 0.9986501019683699.
  const want = [0, 0.8413447460685429, -1 + 0.8413447460685429, 3 * 0.9986501019683699, -3 * (1 - 0.9986501019683699), 10, -0];
  const got = y!.dataSync();
  want.forEach((w, i) => expect(Math.abs(got[i]! - w)).toBeLessThan(1e-6));
  tf.dispose([x, y!]);
});
