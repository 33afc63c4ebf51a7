// The fused T5 attention kernels against the same attention written in stock tfjs ops: the forward output,
// and every gradient (q, k, v, position bias) against tf.grads of the plain version with a random cotangent.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { isBlasAvailable, registerBlasKernels, registeredBlasKernels, unregisterBlasKernels } from './index.js';
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL } from './attention.js';

const MIN = -3.4028234663852886e38;

beforeAll(async () => {
  if (!isBlasAvailable()) throw new Error('@fidkd/tfjs-blas native addon is not built: run `npm run setup` (needs libopenblas-dev)');
  await tf.setBackend('cpu');
  // The reference runs on the stock kernels: only the fused ones are registered.
  unregisterBlasKernels();
  registerBlasKernels({ kernels: [ATTENTION_KERNEL, ATTENTION_GRAD_KERNEL] });
});

/** softmax(q·kᵀ + (pos + mask value)) · v per head in plain tf ops; q [N, Lq, H*d], k/v [N, Lk, H*d]. */
function plain(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, pos: tf.Tensor | null, mask: Int32Array | null, causal: boolean, h: number): tf.Tensor {
  const [n, lq, width] = q.shape as [number, number, number];
  const lk = k.shape[1]!;
  const split = (x: tf.Tensor, l: number): tf.Tensor => tf.transpose(tf.reshape(x, [n, l, h, width / h]), [0, 2, 1, 3]);
  const m = new Float32Array(n * lq * lk);
  for (let b = 0; b < n; b++) for (let i = 0; i < lq; i++) for (let j = 0; j < lk; j++) {
    if ((mask && mask[b * lk + j] === 0) || (causal && j > i)) m[(b * lq + i) * lk + j] = MIN;
  }
  const maskT = tf.tensor4d(m, [n, 1, lq, lk]);
  const bias = pos ? tf.add(tf.reshape(pos, [1, h, lq, lk]), maskT) : maskT;
  const probs = tf.softmax(tf.add(tf.matMul(split(q, lq), split(k, lk), false, true), bias));
  return tf.reshape(tf.transpose(tf.matMul(probs, split(v, lk)), [0, 2, 1, 3]), [n, lq, width]);
}

function maxAbs(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe.each([
  { name: 'encoder self-attention with padding and position bias', n: 5, lq: 7, lk: 7, h: 3, d: 4, pos: true, pad: true, causal: false },
  { name: 'decoder self-attention, causal, position bias', n: 3, lq: 5, lk: 5, h: 2, d: 8, pos: true, pad: false, causal: true },
  { name: 'cross-attention shape (lq != lk), padding, no bias', n: 2, lq: 3, lk: 11, h: 4, d: 2, pos: false, pad: true, causal: false },
  { name: 'a fully padded sequence (uniform probabilities, as HF)', n: 2, lq: 3, lk: 4, h: 2, d: 3, pos: true, pad: 'all', causal: false },
  // Heads past 64·64·32 multiply-adds run as sgemm calls (BERT / t5-small sizes).
  { name: 'sgemm path: padding and position bias', n: 2, lq: 70, lk: 70, h: 2, d: 32, pos: true, pad: true, causal: false },
  { name: 'sgemm path: causal, cross shape', n: 2, lq: 64, lk: 80, h: 3, d: 32, pos: false, pad: true, causal: true },
] as const)('$name', ({ n, lq, lk, h, d, pos, pad, causal }) => {
  it('forward and gradients match plain tf ops within float32 tolerance', () => {
    const width = h * d;
    const q = tf.randomNormal([n, lq, width], 0, 1, 'float32', 1);
    const k = tf.randomNormal([n, lk, width], 0, 1, 'float32', 2);
    const v = tf.randomNormal([n, lk, width], 0, 1, 'float32', 3);
    const p = pos ? tf.randomNormal([h, lq, lk], 0, 1, 'float32', 4) : null;
    const dy = tf.randomNormal([n, lq, width], 0, 1, 'float32', 5);
    const mask = pad ? Int32Array.from({ length: n * lk }, (_, i) => (pad === 'all' && i < lk ? 0 : i % lk < lk - 1 - (i % 2) ? 1 : 0)) : null;
    const inputs: tf.NamedTensorMap = { q, k, v };
    if (p) inputs['pos'] = p;
    const maskT = mask ? tf.tensor2d(mask, [n, lk], 'int32') : null;
    if (maskT) inputs['mask'] = maskT;
    const [out, probs] = tf.engine().runKernel(ATTENTION_KERNEL, inputs, { numHeads: h, causal }) as tf.Tensor[];
    const ref = plain(q, k, v, p, mask, causal, h);
    expect(maxAbs(out!, ref)).toBeLessThan(1e-5);
    const grads = tf.engine().runKernel(ATTENTION_GRAD_KERNEL, { dy, q, k, v, probs: probs! }, { numHeads: h, posGrad: p !== null }) as tf.Tensor[];
    const xs = p ? [q, k, v, p] : [q, k, v];
    const refGrads = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(plain(t[0]!, t[1]!, t[2]!, t[3] ?? null, mask, causal, h), dy)))(xs);
    expect(grads.length).toBe(refGrads.length);
    for (let i = 0; i < grads.length; i++) {
      expect(grads[i]!.shape).toEqual(refGrads[i]!.shape);
      expect({ grad: i, err: maxAbs(grads[i]!, refGrads[i]!) < 1e-4 }).toEqual({ grad: i, err: true });
    }
    if (lq === lk) {
      // Self-attention: the same from one packed projection [N, L, 3*H*d], with one packed gradient.
      const qkv = tf.concat([q, k, v], -1);
      const packedInputs: tf.NamedTensorMap = { ...inputs, qkv };
      delete packedInputs['q'];
      delete packedInputs['k'];
      delete packedInputs['v'];
      const [pout, pprobs] = tf.engine().runKernel(ATTENTION_KERNEL, packedInputs, { numHeads: h, causal }) as tf.Tensor[];
      expect(maxAbs(pout!, ref)).toBeLessThan(1e-5);
      const pgrads = tf.engine().runKernel(ATTENTION_GRAD_KERNEL, { dy, qkv, probs: pprobs! }, { numHeads: h, posGrad: p !== null }) as tf.Tensor[];
      expect(pgrads.length).toBe(p ? 2 : 1);
      const refPacked = tf.concat(refGrads.slice(0, 3), -1);
      expect(maxAbs(pgrads[0]!, refPacked)).toBeLessThan(1e-4);
      if (p) expect(maxAbs(pgrads[1]!, refGrads[3]!)).toBeLessThan(1e-4);
      tf.dispose([qkv, pout!, pprobs!, ...pgrads, refPacked]);
    }
    tf.dispose([q, k, v, dy, out!, probs!, ref, ...grads, ...refGrads, ...(p ? [p] : []), ...(maskT ? [maskT] : [])]);
  });
});

it.each([[3, 5, 8], [2, 70, 32]])('gradients (position bias included) are the same bit for bit on 1 and 2 threads: n %i, l %i, d %i', (n, l, d) => {
  const h = 2;
  const qkv = tf.randomNormal([n, l, 3 * h * d], 0, 1, 'float32', 11);
  const pos = tf.randomNormal([h, l, l], 0, 1, 'float32', 12);
  const dy = tf.randomNormal([n, l, h * d], 0, 1, 'float32', 13);
  const run = (threads: number): Float32Array[] => {
    registerBlasKernels({ kernels: [ATTENTION_KERNEL, ATTENTION_GRAD_KERNEL], threads });
    const [out, probs] = tf.engine().runKernel(ATTENTION_KERNEL, { qkv, pos }, { numHeads: h, causal: false }) as tf.Tensor[];
    const grads = tf.engine().runKernel(ATTENTION_GRAD_KERNEL, { dy, qkv, probs: probs! }, { numHeads: h, posGrad: true }) as tf.Tensor[];
    const values = [out!, ...grads].map((t) => Float32Array.from(t.dataSync()));
    tf.dispose([out!, probs!, ...grads]);
    return values;
  };
  const one = run(1);
  const two = run(2);
  one.forEach((a, i) => expect(Buffer.from(two[i]!.buffer).equals(Buffer.from(a.buffer))).toBe(true));
  tf.dispose([qkv, pos, dy]);
});

it('registers and unregisters the fused kernels by name, and rejects a bad numHeads', () => {
  expect(registeredBlasKernels()).toEqual(expect.arrayContaining([ATTENTION_KERNEL, ATTENTION_GRAD_KERNEL]));
  const q = tf.zeros([1, 2, 6]);
  expect(() => tf.engine().runKernel(ATTENTION_KERNEL, { q, k: q, v: q }, { numHeads: 4, causal: false })).toThrow(/numHeads must be a positive integer dividing 6/);
  q.dispose();
  unregisterBlasKernels();
  expect(tf.getKernel(ATTENTION_KERNEL, 'cpu')).toBeUndefined();
  registerBlasKernels({ kernels: [ATTENTION_KERNEL, ATTENTION_GRAD_KERNEL] });
});
