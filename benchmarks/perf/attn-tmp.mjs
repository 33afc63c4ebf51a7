import * as tf from '@tensorflow/tfjs';
import { useBackend, loadBlas } from './dist/backends.js';
await useBackend('blas');
const blas = await loadBlas();
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
const n = 320, l = 32, h = 4, d = 8;
const q = tf.randomNormal([n, l, h * d]), k = tf.randomNormal([n, l, h * d]), v = tf.randomNormal([n, l, h * d]), pos = tf.randomNormal([h, l, l]);
const mask = tf.ones([n, l], 'int32');
const fl = 4 * n * l * l * h * d; // fwd flops
const f = [], b = [], sg = [];
for (let i = 0; i < 15; i++) {
  let t0 = performance.now();
  const [out, probs] = tf.engine().runKernel('FidkdT5Attention', { q, k, v, pos, mask }, { numHeads: h, causal: false });
  f.push(performance.now() - t0);
  t0 = performance.now();
  const gs = tf.engine().runKernel('FidkdT5AttentionGrad', { dy: out, q, k, v, probs }, { numHeads: h, posGrad: true });
  b.push(performance.now() - t0);
  tf.dispose([out, probs, ...gs]);
  sg.push(2 * 512 * 768 * 3072 / blas.benchSgemm(512, 3072, 768, 1)[0] / 1e9);
}
console.log(`fwd ${med(f).toFixed(2)} ms (${(fl / med(f) / 1e6).toFixed(1)} GFLOP/s), bwd ${med(b).toFixed(2)} ms (${(2 * fl / med(b) / 1e6).toFixed(1)} GFLOP/s), sgemm ${med(sg).toFixed(1)} GFLOP/s`);
