// The bi-encoder through @fidkd/tfjs-blas's fused kernels (packed-projection attention, LayerNorm, erf GELU, AdamW,
// global-norm sum) against its plain tf-op path: token states, gradients of every parameter, and a few AdamW
// steps with clipping; plus the oracle fixture with the kernels registered.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { AdamW, isFixtureTensor, type TokenBatch } from '@fidkd/core';
import { isBlasAvailable, registerBlasKernels, registeredBlasKernels, unregisterBlasKernels } from '@fidkd/tfjs-blas';
import { BiEncoder, runRetrieverParity } from './index.js';

beforeAll(async () => {
  if (!isBlasAvailable()) throw new Error('@fidkd/tfjs-blas native addon is not built: run `npm run setup` (needs libopenblas-dev)');
  await tf.setBackend('cpu');
});
afterAll(() => unregisterBlasKernels());

const CONFIG = { bert: { vocabSize: 50, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 64, maxPositionEmbeddings: 16 } };

/** `count` texts of `length` tokens, text r padded after length − (r % 3) tokens. */
function batch(count: number, length: number, seed: number): TokenBatch {
  const ids = new Int32Array(count * length);
  const mask = new Int32Array(count * length);
  for (let r = 0; r < count; r++) {
    for (let c = 0; c < length - (r % 3); c++) {
      ids[r * length + c] = 1 + ((r * 7 + c * 13 + seed * 5) % 49);
      mask[r * length + c] = 1;
    }
  }
  return { ids, mask, count, length };
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m / scale;
}

/** Token states of the passages and the gradients of a loss on them, with the kernels as they are registered now. */
function statesAndGrads(model: BiEncoder, passages: TokenBatch): Map<string, Float32Array> {
  const ids = tf.tensor2d(passages.ids, [passages.count, passages.length], 'int32');
  const mask = tf.tensor2d(passages.mask, [passages.count, passages.length], 'int32');
  const weights = tf.randomNormal([passages.count, passages.length, CONFIG.bert.hiddenSize], 0, 1, 'float32', 9);
  const out = new Map<string, Float32Array>();
  const states = model.lastHiddenState(ids, mask);
  out.set('states', Float32Array.from(states.dataSync()));
  const vars = [...model.trainableParameters().values()];
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.lastHiddenState(ids, mask), weights)) as tf.Scalar, vars);
  for (const [name, v] of model.trainableParameters()) out.set(name, Float32Array.from(grads[v.name]!.dataSync()));
  tf.dispose([ids, mask, weights, states, value, ...Object.values(grads)]);
  return out;
}

test('token states and every parameter gradient equal the plain tf-op path (padding masked)', () => {
  const model = BiEncoder.create(CONFIG, { seed: 3 });
  const passages = batch(5, 12, 1);
  unregisterBlasKernels();
  const plain = statesAndGrads(model, passages);
  registerBlasKernels();
  expect(registeredBlasKernels()).toEqual(expect.arrayContaining(['FidkdT5Attention', 'FidkdLayerNorm', 'FidkdGelu']));
  const before = tf.memory().numTensors;
  const fused = statesAndGrads(model, passages);
  expect(tf.memory().numTensors).toBe(before);
  for (const [name, want] of plain) expect({ name, ok: maxRelDiff(fused.get(name)!, want) < 1e-5 }).toEqual({ name, ok: true });
  model.dispose();
});

test('three clipped AdamW training steps give the same weights as the plain tf-op path', () => {
  const run = (fused: boolean): Map<string, Float32Array> => {
    if (fused) registerBlasKernels();
    else unregisterBlasKernels();
    const model = BiEncoder.create(CONFIG, { seed: 5 });
    for (let s = 0; s < 3; s++) {
      const questions = batch(2, 6, 10 + s);
      const passages = batch(6, 12, 20 + s);
      model.trainStep({ questions, passages, gold: Float32Array.from({ length: 6 }, (_, i) => Math.sin(i + s)) }, { lr: 1e-2, dropout: false, maxGradNorm: 0.05 });
    }
    const out = new Map([...model.trainableParameters()].map(([name, v]) => [name, Float32Array.from(v.dataSync())]));
    model.dispose();
    return out;
  };
  const plain = run(false);
  const fused = run(true);
  // Adam divides by √v: float32 rounding differences of near-zero gradients become differences of a fraction of
  // lr in the update, hence a looser bound than for the gradients themselves (the steps move weights by ~3e-2).
  for (const [name, want] of plain) expect({ name, ok: maxRelDiff(fused.get(name)!, want) < 1e-4 }).toEqual({ name, ok: true });
});

test('AdamW through FidkdAdamW (clipping coefficient included) equals its tf-op update', () => {
  const shape = [300, 7];
  const grads = [1, 2, 3].map((s) => tf.randomNormal(shape, 0, 1, 'float32', s));
  const run = (fused: boolean): Float32Array => {
    if (fused) registerBlasKernels();
    else unregisterBlasKernels();
    const p = tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 7));
    const vars = new Map([['p', p]]);
    const opt = new AdamW({ lr: 1e-3, weightDecay: 0.1 });
    grads.forEach((g, i) => opt.applyGradients(vars, new Map([['p', g]]), 1e-3 * (i + 1), i === 1 ? 0.37 : 1));
    const out = Float32Array.from(p.dataSync());
    opt.dispose();
    p.dispose();
    return out;
  };
  expect(maxRelDiff(run(true), run(false))).toBeLessThan(1e-6);
  tf.dispose(grads);
});

test("FidkdAdamW's in-place moments never write into a state dict given to setState", () => {
  registerBlasKernels();
  const p = tf.variable(tf.ones([4]));
  const opt = new AdamW({ lr: 0.1 });
  const state = new Map([
    ['exp_avg.p', { dtype: 'F32' as const, shape: [4], data: Float32Array.of(1, 2, 3, 4) }],
    ['exp_avg_sq.p', { dtype: 'F32' as const, shape: [4], data: Float32Array.of(1, 1, 1, 1) }],
  ]);
  opt.setState(state, 3);
  const g = tf.ones([4]);
  opt.applyGradients(new Map([['p', p]]), new Map([['p', g]]));
  expect(Array.from(state.get('exp_avg.p')!.data as Float32Array)).toEqual([1, 2, 3, 4]);
  expect(Array.from(state.get('exp_avg_sq.p')!.data as Float32Array)).toEqual([1, 1, 1, 1]);
  expect(Array.from(opt.getState().get('exp_avg.p')!.data as Float32Array)).not.toEqual([1, 2, 3, 4]);
  tf.dispose([p, g]);
  opt.dispose();
});

test("the oracle fixture (bert-tiny) with @fidkd/tfjs-blas's kernels registered: every field within 1e-4", () => {
  registerBlasKernels();
  const dir = fileURLToPath(new URL('../../../fixtures/oracle/bert-tiny', import.meta.url));
  const inputs = JSON.parse(readFileSync(`${dir}/inputs.json`, 'utf8'));
  const expected = JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8'));
  const result = runRetrieverParity(dir, inputs);
  for (const key of Object.keys(expected).filter((k) => k !== '_meta' && k !== 'losses')) {
    const got = result[key];
    if (!isFixtureTensor(got)) throw new Error(`${key} missing`);
    const want = expected[key].data as number[];
    let d = 0;
    for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(Number(got.data[i]) - want[i]!));
    expect({ key, ok: d < 1e-4 }).toEqual({ key, ok: true });
  }
});
