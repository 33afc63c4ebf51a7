import * as tf from '@tensorflow/tfjs';
import {
  AdamW,
  assignStateDict,
  clipGradNorm,
  GradientAccumulator,
  linearWarmupDecay,
  variablesToStateDict,
} from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());

describe('AdamW', () => {
  // p0 = [1, -2], lr 0.1, betas (0.9, 0.999), eps 1e-8, weight decay 0.01; gradients g1, g2, g3 below.
  // Per step t: p *= 1 - lr*wd; m = 0.9 m + 0.1 g; v = 0.999 v + 0.001 g^2;
  //             p -= lr / (1 - 0.9^t) * m / (sqrt(v) / sqrt(1 - 0.999^t) + eps)
  // Step 1: p = [0.999, -1.998]; m = [0.05, -0.1]; v = [0.00025, 0.001]; m̂ = g, √v̂ = |g|, so the update is
  //         lr·sign(g) (up to eps): p = [0.899, -1.898] (exactly 0.899000002, -1.898000001 with eps).
  // Steps 2 and 3 by the same formula, evaluated in float64:
  const expected = [
    { p: [0.899000002, -1.898000001], m: [0.05, -0.1], v: [0.00025, 0.001] },
    { p: [0.8177969063826517, -1.8449993939894944], m: [0.055, -0.07], v: [0.00025975, 0.001039] },
    { p: [0.7959078148551253, -1.8297304348131664], m: [0.0195, -0.023], v: [0.00034949025, 0.001197961] },
  ];
  const grads = [[0.5, -1.0], [0.1, 0.2], [-0.3, 0.4]];

  test('matches the hand-computed PyTorch AdamW values for 3 steps (with weight decay)', () => {
    const p = tf.variable(tf.tensor1d([1, -2]), true, 'adamw-test-p');
    const vars = new Map([['p', p]]);
    const opt = new AdamW({ lr: 0.1, weightDecay: 0.01 });
    expected.forEach((e, i) => {
      const g = tf.tensor1d(grads[i]!);
      opt.applyGradients(vars, new Map([['p', g]]));
      g.dispose();
      expect(opt.step).toBe(i + 1);
      values(p).forEach((x, j) => expect(x).toBeCloseTo(e.p[j]!, 6));
      const state = opt.getState();
      Array.from(state.get('exp_avg.p')!.data as Float32Array).forEach((x, j) => expect(x).toBeCloseTo(e.m[j]!, 7));
      Array.from(state.get('exp_avg_sq.p')!.data as Float32Array).forEach((x, j) => expect(x).toBeCloseTo(e.v[j]!, 9));
    });
    opt.dispose();
    p.dispose();
  });

  test('lr argument overrides the base lr; lr 0 still applies no decay and no update', () => {
    const p = tf.variable(tf.tensor1d([1, -2]), true, 'adamw-test-lr0');
    const opt = new AdamW({ lr: 0.1, weightDecay: 0.5 });
    const g = tf.tensor1d([1, 1]);
    opt.applyGradients(new Map([['p', p]]), new Map([['p', g]]), 0);
    expect(values(p)).toEqual([1, -2]);
    expect(opt.step).toBe(1);
    tf.dispose([p, g]);
    opt.dispose();
  });

  test('setState(getState()) continues identically; bad state and gradients give clear errors', () => {
    const mk = (name: string) => tf.variable(tf.tensor1d([0.5, 0.25, -1]), true, name);
    const a = mk('adamw-a');
    const b = mk('adamw-b');
    const optA = new AdamW({ lr: 0.01, weightDecay: 0.1 });
    const g1 = tf.tensor1d([0.3, -0.2, 0.9]);
    const g2 = tf.tensor1d([-0.1, 0.4, 0.05]);
    optA.applyGradients(new Map([['w', a]]), new Map([['w', g1]]));
    assignStateDict(new Map([['w', b]]), variablesToStateDict(new Map([['w', a]])));
    const optB = new AdamW(optA.config);
    optB.setState(optA.getState(), optA.step);
    optA.applyGradients(new Map([['w', a]]), new Map([['w', g2]]));
    optB.applyGradients(new Map([['w', b]]), new Map([['w', g2]]));
    expect(values(b)).toEqual(values(a));
    expect(() => optB.applyGradients(new Map([['w', b]]), new Map([['x', g2]]))).toThrow(/'x', which is not among the variables/);
    expect(() => optB.applyGradients(new Map([['w', b]]), new Map([['w', tf.zeros([2])]]))).toThrow(/shape \[2\], the variable \[3\]/);
    expect(() => optB.setState(new Map([['exp_avg.w', { dtype: 'F32', shape: [1], data: Float32Array.of(0) }]]), 1)).toThrow(
      /no matching exp_avg_sq/,
    );
    expect(() => optB.setState(new Map([['momentum.w', { dtype: 'F32', shape: [1], data: Float32Array.of(0) }]]), 1)).toThrow(
      /unexpected entry 'momentum.w'/,
    );
    expect(() => new AdamW({ lr: 0.1, beta2: 1 })).toThrow(/beta2/);
    tf.dispose([a, b, g1, g2]);
    optA.dispose();
    optB.dispose();
  });
});

describe('linearWarmupDecay (FiD WarmupLinearScheduler)', () => {
  test('step 0, mid-warmup, end of warmup, mid-decay, end, after the end', () => {
    const f = linearWarmupDecay({ warmupSteps: 10, totalSteps: 110 });
    expect([0, 5, 10, 60, 110, 200].map(f)).toEqual([0, 0.5, 1, 0.5, 0, 0]);
  });
  test('minRatio is the floor at both ends', () => {
    const f = linearWarmupDecay({ warmupSteps: 10, totalSteps: 110, minRatio: 0.1 });
    expect(f(0)).toBeCloseTo(0.1, 12);
    expect(f(5)).toBeCloseTo(0.55, 12);
    expect(f(10)).toBe(1);
    expect(f(110)).toBeCloseTo(0.1, 12);
  });
  test('fixedLr and no warmup', () => {
    expect(linearWarmupDecay({ warmupSteps: 4, totalSteps: 8, fixedLr: true })(7)).toBe(1);
    expect(linearWarmupDecay({ warmupSteps: 0, totalSteps: 4 })(0)).toBe(1);
    expect(linearWarmupDecay({ warmupSteps: 0, totalSteps: 4 })(1)).toBe(0.75);
    expect(() => linearWarmupDecay({ warmupSteps: -1, totalSteps: 4 })).toThrow(/warmupSteps/);
  });
});

describe('clipGradNorm (torch.nn.utils.clip_grad_norm_)', () => {
  test('total L2 norm over all gradients; scaled by max/(norm+1e-6) when above', () => {
    const grads = new Map([['a', tf.tensor1d([3, 4])], ['b', tf.tensor1d([12])]]); // norms 5 and 12 -> 13
    const { grads: clipped, totalNorm } = clipGradNorm(grads, 6.5);
    expect(totalNorm).toBeCloseTo(13, 5);
    const coef = 6.5 / (13 + 1e-6);
    values(clipped.get('a')!).forEach((x, i) => expect(x).toBeCloseTo([3, 4][i]! * coef, 6));
    expect(values(clipped.get('b')!)[0]).toBeCloseTo(12 * coef, 5);
    const kept = clipGradNorm(grads, 20);
    expect(kept.totalNorm).toBeCloseTo(13, 5);
    expect(values(kept.grads.get('a')!)).toEqual([3, 4]);
    expect(values(grads.get('a')!)).toEqual([3, 4]); // inputs untouched
    tf.dispose([...grads.values(), ...clipped.values(), ...kept.grads.values()]);
  });
});

describe('GradientAccumulator', () => {
  test('sums micro-batches, reads the mean; a missing gradient counts as zero', () => {
    const acc = new GradientAccumulator();
    const g1 = new Map([['w', tf.tensor1d([1, 2])]]);
    const g2 = new Map([['w', tf.tensor1d([3, 6])], ['b', tf.tensor1d([1])]]);
    acc.add(g1);
    acc.add(g2);
    expect(acc.count).toBe(2);
    const mean = acc.mean();
    const sum = acc.sum();
    expect(values(mean.get('w')!)).toEqual([2, 4]);
    expect(values(mean.get('b')!)).toEqual([0.5]);
    expect(values(sum.get('w')!)).toEqual([4, 8]);
    expect(() => acc.add(new Map([['w', tf.zeros([3])]]))).toThrow(/'w' has shape \[3\], earlier ones \[2\]/);
    acc.reset();
    expect(acc.count).toBe(0);
    expect(() => acc.mean()).toThrow(/no gradients/);
    tf.dispose([...g1.values(), ...g2.values(), ...mean.values(), ...sum.values()]);
  });
});

test('a training loop with accumulation, clipping and AdamW leaks no tensor', () => {
  const w = tf.variable(tf.randomNormal([4, 2], 0, 1, 'float32', 1), true, 'leak-w');
  const vars = new Map([['w', w]]);
  const opt = new AdamW({ lr: 0.01, weightDecay: 0.01 });
  const acc = new GradientAccumulator();
  const schedule = linearWarmupDecay({ warmupSteps: 2, totalSteps: 10 });
  const x = tf.randomNormal([3, 4], 0, 1, 'float32', 2);
  const step = (i: number) => {
    for (let micro = 0; micro < 2; micro++) {
      const { value, grads } = tf.variableGrads(() => x.matMul(w).square().mean() as tf.Scalar, [w]);
      acc.add(new Map([['w', grads['leak-w']!]]));
      tf.dispose([value, grads]);
    }
    const mean = acc.mean();
    acc.reset();
    const clipped = clipGradNorm(mean, 1);
    opt.applyGradients(vars, clipped.grads, 0.01 * schedule(i));
    tf.dispose([...mean.values(), ...clipped.grads.values()]);
  };
  step(0); // creates the optimizer moments
  const before = tf.memory().numTensors;
  for (let i = 1; i < 6; i++) step(i);
  expect(tf.memory().numTensors).toBe(before);
  opt.dispose();
  tf.dispose([w, x]);
});

describe('state dicts', () => {
  test('variablesToStateDict copies data and maps dtypes; assignStateDict checks names and shapes', () => {
    const v = tf.variable(tf.tensor2d([[1, 2], [3, 4]]), true, 'sd-v');
    const sd = variablesToStateDict(new Map<string, tf.Tensor>([['v', v], ['i', tf.tensor1d([7], 'int32')]]));
    expect(sd.get('v')).toEqual({ dtype: 'F32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) });
    expect(sd.get('i')).toEqual({ dtype: 'I32', shape: [1], data: Int32Array.of(7) });
    (sd.get('v')!.data as Float32Array)[0] = 99; // a copy: the variable is unaffected
    expect(values(v)[0]).toBe(1);
    assignStateDict(new Map([['v', v]]), new Map([['v', sd.get('v')!]]));
    expect(values(v)).toEqual([99, 2, 3, 4]);
    expect(() => assignStateDict(new Map([['v', v]]), new Map())).toThrow(/missing weights \[v\]/);
    expect(() =>
      assignStateDict(new Map([['v', v]]), new Map([['v', { dtype: 'F32', shape: [4], data: new Float32Array(4) }]])),
    ).toThrow(/'v' has shape \[4\], the variable \[2,2\]/);
    v.dispose();
  });
});
