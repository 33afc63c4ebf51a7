import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { BiEncoder, geluErf } from './index.js';
import { embeddingLookup } from './bert.js';
import { ownPassageScores } from './pooling.js';
import { distillationLoss } from '@fidkd/losses';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('hand-written gradients', () => {
  test('geluErf: value and gradient equal autodiff of 0.5·x·(1 + erf(x/√2))', () => {
    const x = tf.linspace(-6, 6, 101);
    const ref = (t: tf.Tensor) => tf.mul(tf.mul(0.5, t), tf.add(1, tf.erf(tf.mul(t, Math.SQRT1_2))));
    expect(maxAbsDiff(geluErf(x).dataSync(), ref(x).dataSync())).toBeLessThan(1e-7);
    const g1 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(geluErf(t), tf.cos(t))))(x);
    const g2 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(ref(t), tf.cos(t))))(x);
    expect(maxAbsDiff(g1.dataSync(), g2.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, g1, g2]);
  });

  test('embeddingLookup: value and table gradient equal tf.gather (repeated ids included)', () => {
    const table = tf.randomNormal([7, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
    const ids = tf.tensor1d([3, 0, 3, 6, 6, 6, 1], 'int32');
    const w = tf.randomNormal([7, 5], 0, 1, 'float32', 2);
    expect(maxAbsDiff(embeddingLookup(table, ids).dataSync(), tf.gather(table, ids).dataSync())).toBe(0);
    const g1 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(embeddingLookup(t as tf.Tensor2D, ids), w)))(table);
    const g2 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), w)))(table);
    expect(maxAbsDiff(g1.dataSync(), g2.dataSync())).toBeLessThan(1e-6);
    tf.dispose([table, ids, w, g1, g2]);
  });

  test('full model: gradients of the KL loss match central finite differences', () => {
    const m = BiEncoder.create(
      { bert: { vocabSize: 20, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 12, maxPositionEmbeddings: 8, layerNormEps: 1e-5 }, retriever: { projection: true, indexingDimension: 6 } },
      { seed: 9 },
    );
    const qIds = tf.tensor2d([[2, 5, 6, 3], [2, 7, 3, 0]], [2, 4], 'int32');
    const qMask = tf.tensor2d([[1, 1, 1, 1], [1, 1, 1, 0]], [2, 4], 'int32');
    const pIds = tf.tensor2d([[2, 9, 3, 0], [2, 11, 12, 3], [2, 5, 3, 0], [2, 13, 14, 3]], [4, 4], 'int32');
    const pMask = tf.tensor2d([[1, 1, 1, 0], [1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 1, 1]], [4, 4], 'int32');
    const gold = tf.tensor2d([[1, -1], [0.5, 2]]);
    const loss = () => tf.tidy(() => distillationLoss(ownPassageScores(m.embedTensor(qIds, qMask, 'question'), m.embedTensor(pIds, pMask, 'passage')), gold, { variant: 'kl_sum' }));
    const vars = m.trainableParameters();
    const { grads } = tf.variableGrads(loss, [...vars.values()]);
    const checks: Array<[string, number]> = [
      ['embeddings.word_embeddings.weight', 5 * 8 + 3], ['embeddings.LayerNorm.weight', 2],
      ['encoder.layer.0.attention.self.query.weight', 17], ['encoder.layer.0.intermediate.dense.bias', 4],
      ['encoder.layer.0.output.LayerNorm.bias', 1], ['proj.weight', 10], ['norm.weight', 3],
    ];
    for (const [name, index] of checks) {
      const v = vars.get(name)!;
      const analytic = grads[v.name]!.dataSync()[index]!;
      const base = v.dataSync().slice() as Float32Array;
      const h = 1e-3; // small: the LayerNorms divide by std ≈ 0.03 at initialisation
      const at = (delta: number) => {
        const d = base.slice();
        d[index]! += delta;
        v.assign(tf.tensor(d, v.shape));
        return loss().dataSync()[0]!;
      };
      const numeric = (at(h) - at(-h)) / (2 * h);
      v.assign(tf.tensor(base, v.shape));
      expect({ name, analytic, numeric, ok: Math.abs(analytic - numeric) < 2e-3 + 2e-2 * Math.abs(numeric) }).toEqual({ name, analytic, numeric, ok: true });
    }
    tf.dispose([qIds, qMask, pIds, pMask, gold, ...Object.values(grads)]);
    m.dispose();
  });
});
