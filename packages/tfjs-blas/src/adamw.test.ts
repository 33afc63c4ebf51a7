// The optimizer kernels: FidkdAdamW against torch.optim.AdamW's update written out in float32 (Math.fround after
// every operation), moments updated in place; FidkdSumSquares against a double sum, the same on 1 and 2 threads.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from '@jest/globals';
import { isBlasAvailable, registerBlasKernels, unregisterBlasKernels } from './index.js';
import { ADAMW_KERNEL, SUM_SQUARES_KERNEL } from './adamw.js';

beforeAll(async () => {
  if (!isBlasAvailable()) throw new Error('@fidkd/tfjs-blas native addon is not built: run `npm run setup` (needs libopenblas-dev)');
  await tf.setBackend('cpu');
  unregisterBlasKernels();
  registerBlasKernels({ kernels: [ADAMW_KERNEL, SUM_SQUARES_KERNEL] });
});

it('FidkdAdamW: one update of p, m, v as the float32 formula', () => {
  const n = 100000;
  const [p, g, m, v] = [1, 2, 3, 4].map((s) => tf.randomUniform([n], s === 4 ? 0 : -1, 1, 'float32', s));
  const [pv, gv, mv, vv] = [p, g, m, v].map((t) => Float32Array.from(t!.dataSync())) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const f = Math.fround;
  const a = { decay: 1 - 1e-3 * 0.1, beta1: 0.9, oneMinusBeta1: 1 - 0.9, beta2: 0.999, oneMinusBeta2: 1 - 0.999, eps: 1e-8, stepSize: 1e-3 / (1 - 0.9 ** 2), bc2Sqrt: Math.sqrt(1 - 0.999 ** 2), gradScale: 0.5 };
  const [out] = tf.engine().runKernel(ADAMW_KERNEL, { p: p!, g: g!, m: m!, v: v! }, a) as tf.Tensor[];
  const got = out!.dataSync();
  const gotM = m!.dataSync();
  let err = 0;
  let errM = 0;
  for (let i = 0; i < n; i++) {
    const gi = f(gv[i]! * f(a.gradScale));
    const mi = f(f(mv[i]! * f(a.beta1)) + f(gi * f(a.oneMinusBeta1)));
    const vi = f(f(vv[i]! * f(a.beta2)) + f(f(gi * gi) * f(a.oneMinusBeta2)));
    const denom = f(f(Math.sqrt(vi) / f(a.bc2Sqrt)) + f(a.eps));
    const want = f(f(pv[i]! * f(a.decay)) - f(f(mi / denom) * f(a.stepSize)));
    err = Math.max(err, Math.abs(got[i]! - want));
    errM = Math.max(errM, Math.abs(gotM[i]! - mi));
  }
  // FMA contraction may round the moment sums once instead of twice.
  expect(err).toBeLessThan(1e-7);
  expect(errM).toBeLessThan(1e-7);
  tf.dispose([p!, g!, m!, v!, out!]);
});

it('FidkdSumSquares: the double sum, bit for bit the same on 1 and 2 threads', () => {
  const x = tf.randomNormal([300001], 0, 1, 'float32', 5);
  const xs = x.dataSync();
  let want = 0;
  for (let i = 0; i < xs.length; i++) want += xs[i]! * xs[i]!;
  const sum = (threads: number): number => {
    registerBlasKernels({ kernels: [ADAMW_KERNEL, SUM_SQUARES_KERNEL], threads });
    const [s] = tf.engine().runKernel(SUM_SQUARES_KERNEL, { x }, {}) as tf.Tensor[];
    const value = s!.dataSync()[0]!;
    s!.dispose();
    return value;
  };
  const one = sum(1);
  expect(Math.abs(one - want) / want).toBeLessThan(1e-7);
  expect(sum(2)).toBe(one);
  x.dispose();
});
