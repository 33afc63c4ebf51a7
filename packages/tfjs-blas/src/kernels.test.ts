// Every native kernel against the stock tfjs cpu kernel on random inputs, forward and through gradients:
// each case runs once with the stock kernels (unregistered) and once with ours, and compares.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BLAS_KERNELS, FUSED_KERNEL_NAMES, isBlasAvailable, registerBlasKernels, registeredBlasKernels, unregisterBlasKernels } from './index.js';

const maxErr = new Map<string, number>();
const maxRelErr = new Map<string, number>();
const covered = new Set<string>();
let seed = 1;

function rand(shape: number[], kind: 'normal' | 'positive' = 'normal'): tf.Tensor {
  const t = tf.randomNormal(shape, 0, 1, 'float32', seed++);
  if (kind === 'normal') return t;
  const p = tf.add(tf.abs(t), 0.1);
  t.dispose();
  return p;
}

type Fn = (...xs: tf.Tensor[]) => tf.Tensor;

function run(fn: Fn, inputs: tf.Tensor[], grad: boolean): Float32Array[] {
  return tf.tidy(() => {
    const outs: Float32Array[] = [Float32Array.from(fn(...inputs).dataSync())];
    if (grad) {
      // A random cotangent so that every output element matters.
      const w = tf.randomNormal(fn(...inputs).shape, 0, 1, 'float32', 99);
      const gs = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(fn(...xs), w)))(inputs);
      for (const g of gs) outs.push(Float32Array.from(g.dataSync()));
    }
    return outs;
  });
}

/** Runs fn stock vs native; asserts close; records the max abs error under `kernel`. */
function check(kernel: string, fn: Fn, inputs: tf.Tensor[], opts: { grad?: boolean; tol?: number } = {}): void {
  const grad = opts.grad ?? true;
  unregisterBlasKernels();
  const ref = run(fn, inputs, grad);
  registerBlasKernels();
  const got = run(fn, inputs, grad);
  covered.add(kernel);
  expect(got.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const g = got[i]!;
    expect(g.length).toBe(r.length);
    let err = 0;
    let scale = 1;
    for (let j = 0; j < r.length; j++) {
      const a = r[j]!;
      const b = g[j]!;
      if (Number.isNaN(a) || Number.isNaN(b)) {
        expect(Number.isNaN(a)).toBe(Number.isNaN(b));
        continue;
      }
      err = Math.max(err, Math.abs(a - b));
      scale = Math.max(scale, Math.abs(a));
    }
    maxErr.set(kernel, Math.max(maxErr.get(kernel) ?? 0, err));
    maxRelErr.set(kernel, Math.max(maxRelErr.get(kernel) ?? 0, err / scale));
    expect(err).toBeLessThanOrEqual((opts.tol ?? 2e-5) * scale);
  }
  tf.dispose(inputs);
}

beforeAll(async () => {
  if (!isBlasAvailable()) {
    throw new Error('@fidkd/tfjs-blas native addon is not built: run `npm run setup` (needs libopenblas-dev)');
  }
  await tf.setBackend('cpu');
});

afterAll(() => {
  unregisterBlasKernels();
  const lines = [...maxErr].map(([k, e]) => `${k.padEnd(20)} ${e.toExponential(2)}  ${(maxRelErr.get(k) ?? 0).toExponential(2)}`);
  console.log(`vs stock cpu kernels, forward and gradients: max abs error, max abs error / max(1, max|stock|)\n${lines.join('\n')}`);
});

describe('BatchMatMul', () => {
  const mm = (ta: boolean, tb: boolean): Fn => (a, b) => tf.matMul(a!, b!, ta, tb);
  it.each([
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[1, 1], [1, 1], false, false],
    [[1, 9], [9, 1], false, false],
    [[9, 1], [1, 9], false, false],
    [[2, 3, 4, 5], [2, 3, 5, 6], false, false],
    [[2, 3, 5, 4], [2, 3, 6, 5], true, true],
    [[2, 3, 4, 5], [5, 6], false, false],
    [[4, 5], [3, 5, 2], false, false],
    [[1, 4, 5], [3, 5, 2], false, false],
    [[3, 4, 5], [1, 2, 5], false, true],
    [[8, 12, 16, 8], [8, 12, 16, 8], false, true],
    [[64, 200], [200, 300], false, false],
    // tall, thin single products: split by rows over the pool
    [[600, 40], [40, 24], false, false],
    [[40, 600], [40, 24], true, false],
    [[600, 40], [24, 40], false, true],
    [[40, 600], [24, 40], true, true],
    // few outputs over a long inner dimension: split by inner blocks over the pool
    [[24, 3000], [3000, 16], false, false],
    [[3000, 24], [3000, 16], true, false],
    [[24, 3000], [16, 3000], false, true],
    [[3000, 24], [16, 3000], true, true],
  ] as [number[], number[], boolean, boolean][])('%j x %j tA=%s tB=%s', (as, bs, ta, tb) => {
    // tfjs's BatchMatMul gradient does not reduce broadcast batch dims (fails with the stock kernel too):
    // gradients are compared when both sides have the same batch dims.
    const grad = as.slice(0, -2).join() === bs.slice(0, -2).join();
    check('BatchMatMul', mm(ta, tb), [rand(as), rand(bs)], { grad });
  });

  it('broadcasts batch dims the stock kernel gets wrong ([2,1] x [1,3]) like numpy', () => {
    registerBlasKernels();
    const a = rand([2, 1, 3, 4]);
    const b = rand([1, 3, 4, 2]);
    const got = tf.matMul(a, b);
    expect(got.shape).toEqual([2, 3, 3, 2]);
    // Reference from explicit per-batch products (rank-2 matMul, correct in both implementations).
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        const ai = tf.reshape(tf.slice(a, [i, 0, 0, 0], [1, 1, 3, 4]), [3, 4]);
        const bj = tf.reshape(tf.slice(b, [0, j, 0, 0], [1, 1, 4, 2]), [4, 2]);
        const want = tf.matMul(ai, bj).dataSync();
        const have = tf.reshape(tf.slice(got, [i, j, 0, 0], [1, 1, 3, 2]), [3, 2]).dataSync();
        for (let t = 0; t < want.length; t++) expect(Math.abs(have[t]! - want[t]!)).toBeLessThan(1e-5);
        tf.dispose([ai, bj]);
      }
    }
    tf.dispose([a, b, got]);
  });

  it('keeps the stock error for mismatched inner dims', () => {
    registerBlasKernels();
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([4, 2]);
    expect(() => tf.matMul(a, b)).toThrow(/inner/);
    tf.dispose([a, b]);
  });
});

describe('_FusedMatMul', () => {
  const fused = (o: Partial<Parameters<typeof tf.fused.matMul>[0]>, withBias: boolean, withPrelu = false): Fn =>
    (a, b, bias, prelu) => tf.fused.matMul({ a: a!, b: b!, ...(withBias ? { bias } : {}), ...(withPrelu ? { preluActivationWeights: prelu } : {}), ...o });
  it.each(['linear', 'relu', 'relu6', 'elu', 'sigmoid'] as const)('activation %s with bias [n] (forward)', (activation) => {
    check('_FusedMatMul', fused({ activation }, true), [rand([6, 5]), rand([5, 4]), rand([4])], { grad: false });
  });
  it('leakyrelu with alpha 0.1, bias [m, n], batch dims', () => {
    check('_FusedMatMul', fused({ activation: 'leakyrelu', leakyreluAlpha: 0.1 }, true), [rand([3, 6, 5]), rand([3, 5, 4]), rand([6, 4])], { grad: false });
  });
  it('prelu with weights [n], transposes', () => {
    check('_FusedMatMul', fused({ activation: 'prelu', transposeA: true, transposeB: true }, true, true),
      [rand([5, 6]), rand([4, 5]), rand([4]), rand([4])], { grad: false });
  });
  it('bias [m, 1] (broadcast along columns) falls back and stays correct', () => {
    check('_FusedMatMul', fused({ activation: 'relu' }, true), [rand([6, 5]), rand([5, 4]), rand([6, 1])], { grad: false });
  });
  it.each(['linear', 'relu'] as const)('gradients with activation %s, bias, transposeB', (activation) => {
    check('_FusedMatMul', fused({ activation, transposeB: true }, true), [rand([2, 6, 5]), rand([2, 4, 5]), rand([4])]);
  });
  it('no bias, scalar-like sizes', () => {
    check('_FusedMatMul', fused({}, false), [rand([1, 1]), rand([1, 1])]);
  });
});

describe('unary', () => {
  const cases: [string, Fn, 'normal' | 'positive', boolean][] = [
    ['Exp', (x) => tf.exp(x!), 'normal', true],
    ['Log', (x) => tf.log(x!), 'positive', true],
    ['Erf', (x) => tf.erf(x!), 'normal', true],
    ['Tanh', (x) => tf.tanh(x!), 'normal', true],
    ['Sqrt', (x) => tf.sqrt(x!), 'positive', true],
    ['Rsqrt', (x) => tf.rsqrt(x!), 'positive', true],
    ['Square', (x) => tf.square(x!), 'normal', true],
    ['Neg', (x) => tf.neg(x!), 'normal', true],
    ['Relu', (x) => tf.relu(x!), 'normal', true],
    ['Sigmoid', (x) => tf.sigmoid(x!), 'normal', true],
    ['Abs', (x) => tf.abs(x!), 'normal', true],
    ['Reciprocal', (x) => tf.reciprocal(x!), 'positive', true],
    ['Relu6', (x) => tf.relu6(tf.mul(x!, 5)), 'normal', true],
    ['Elu', (x) => tf.elu(x!), 'normal', true],
    ['LeakyRelu', (x) => tf.leakyRelu(x!, 0.3), 'normal', true],
    ['Step', (x) => tf.step(x!, 0.25), 'normal', false],
  ];
  it.each(cases)('%s', (name, fn, kind, grad) => {
    check(name, fn, [rand([2, 20001], kind)], { grad });
    check(name, fn, [rand([1], kind)], { grad });
  });
  it('propagates NaN like the stock kernels', () => {
    const x = (): tf.Tensor => tf.tensor1d([Number.NaN, -1, 0, 2]);
    for (const [name, fn] of [['Relu', (t: tf.Tensor) => tf.relu(t)], ['Step', (t: tf.Tensor) => tf.step(t)], ['Exp', (t: tf.Tensor) => tf.exp(t)]] as const) {
      check(name, (t) => fn(t!), [x()], { grad: false });
    }
  });
});

describe('binary with broadcasting', () => {
  const shapes: [number[], number[]][] = [
    [[3, 4], [3, 4]], [[3, 4], [4]], [[2, 3, 4], [3, 1]], [[1], [2, 5]], [[], [2, 3]], [[2, 1, 4], [1, 3, 1]],
    [[5], [5]], [[1, 1], [1, 1]], [[4, 1], [1, 6]], [[8, 12, 16, 16], [8, 1, 1, 16]], [[130, 257], [130, 1]],
  ];
  const ops: [string, Fn, boolean][] = [
    ['Add', (a, b) => tf.add(a!, b!), false],
    ['Sub', (a, b) => tf.sub(a!, b!), false],
    ['Multiply', (a, b) => tf.mul(a!, b!), false],
    ['RealDiv', (a, b) => tf.div(a!, b!), true],
    ['Maximum', (a, b) => tf.maximum(a!, b!), false],
    ['Minimum', (a, b) => tf.minimum(a!, b!), false],
    ['SquaredDifference', (a, b) => tf.squaredDifference(a!, b!), false],
    ['Pow', (a, b) => tf.pow(a!, b!), true],
  ];
  for (const [name, fn, positive] of ops) {
    it.each(shapes)(`${name} %j with %j`, (as, bs) => {
      // tfjs's own Maximum/Minimum/SquaredDifference gradients do not reduce broadcast dims (they fail with
      // the stock kernels too): their gradients are checked on equal shapes only.
      const noBroadcastGrad = ['Maximum', 'Minimum', 'SquaredDifference'].includes(name);
      const grad = (name !== 'Pow' || as.length > 0) && (!noBroadcastGrad || as.join() === bs.join());
      check(name, fn, [rand(as, positive ? 'positive' : 'normal'), rand(bs)], { grad });
    });
  }
  it('int32 inputs use the stock kernel', () => {
    registerBlasKernels();
    const a = tf.tensor1d([1, 2, 3], 'int32');
    const b = tf.tensor1d([4, 5, 6], 'int32');
    const c = tf.add(a, b);
    expect(c.dtype).toBe('int32');
    expect(Array.from(c.dataSync())).toEqual([5, 7, 9]);
    tf.dispose([a, b, c]);
  });
});

describe('Softmax', () => {
  it.each([[[4, 7]], [[2, 3, 1]], [[2, 12, 16, 128]], [[1]]] as [number[]][])('%j', (shape) => {
    check('Softmax', (x) => tf.softmax(tf.mul(x!, 3)), [rand(shape)]);
  });
});

describe('reductions', () => {
  const axesCases: (number | number[] | undefined)[] = [0, 1, 2, -1, [0, 1], [1, 2], [0, 2], [0, 1, 2], undefined];
  const ops: [string, (x: tf.Tensor, axis: number | number[] | undefined, keep: boolean) => tf.Tensor, boolean][] = [
    ['Sum', (x, a, k) => tf.sum(x, a, k), true],
    ['Mean', (x, a, k) => tf.mean(x, a, k), true],
    ['Max', (x, a, k) => tf.max(x, a, k), false],
    ['Min', (x, a, k) => tf.min(x, a, k), false],
  ];
  for (const [name, fn, grad] of ops) {
    it.each(axesCases.map((a) => [a]))(`${name} over axes %j`, (axis) => {
      check(name, (x) => fn(x!, axis, false), [rand([3, 40, 300])], { grad, tol: 1e-5 });
      check(name, (x) => fn(x!, axis, true), [rand([2, 5, 7])], { grad });
      check(name, (x) => fn(x!, axis, false), [rand([1, 5, 1])], { grad });
    });
  }
});

describe('layout', () => {
  it.each([
    [[3, 5], [1, 0]], [[2, 3, 4], [2, 0, 1]], [[2, 3, 4], [0, 2, 1]], [[2, 32, 12, 64], [0, 2, 1, 3]],
    [[1, 7, 1, 3], [3, 2, 1, 0]], [[100, 70], [1, 0]], [[4, 1, 5], [1, 0, 2]], [[2, 3, 4, 5, 6], [4, 0, 3, 1, 2]],
  ] as [number[], number[]][])('Transpose %j perm %j', (shape, perm) => {
    check('Transpose', (x) => tf.transpose(x!, perm), [rand(shape)]);
  });

  it.each([[0, [5, 2]], [1, [3]], [2, [4, 1]], [0, [1]]] as [number, number[]][])('GatherV2 axis %i indices %j', (axis, ishape) => {
    const shape = [6, 5, 7];
    const n = ishape.reduce((a, b) => a * b, 1);
    const idx = Array.from({ length: n }, (_, i) => (i * 7 + 3) % shape[axis]!);
    check('GatherV2', (x) => tf.gather(x!, tf.tensor(idx, ishape, 'int32'), axis), [rand(shape)]);
    // Its gradient is UnsortedSegmentSum.
    covered.add('UnsortedSegmentSum');
  });

  it('GatherV2 rejects an out-of-range index with the stock message', () => {
    registerBlasKernels();
    const x = tf.zeros([3, 2]);
    const idx = tf.tensor1d([0, 3], 'int32');
    expect(() => tf.gather(x, idx)).toThrow('GatherV2: the index value 3 is not in [0, 2]');
    tf.dispose([x, idx]);
  });

  it('UnsortedSegmentSum drops ids outside [0, numSegments)', () => {
    const ids = (): tf.Tensor => tf.tensor1d([0, 2, 2, -1, 7, 1], 'int32');
    check('UnsortedSegmentSum', (x) => tf.unsortedSegmentSum(x!, ids() as tf.Tensor1D, 4), [rand([6, 33])], { grad: false });
  });
});

describe('registry', () => {
  it('registers idempotently, falls back per dtype, restores the stock kernels', () => {
    unregisterBlasKernels();
    const stockAdd = tf.getKernel('Add', 'cpu').kernelFunc;
    const first = registerBlasKernels().registered;
    const second = registerBlasKernels().registered;
    expect(second).toEqual(first);
    expect(first.sort()).toEqual([...Object.keys(BLAS_KERNELS), ...FUSED_KERNEL_NAMES].sort());
    expect(tf.getKernel('Add', 'cpu').kernelFunc).not.toBe(stockAdd);
    unregisterBlasKernels();
    expect(registeredBlasKernels()).toEqual([]);
    expect(tf.getKernel('Add', 'cpu').kernelFunc).toBe(stockAdd);
    expect(() => registerBlasKernels({ kernels: ['NoSuchKernel'] })).toThrow(/unknown kernel/);
    registerBlasKernels();
  });

  it('leaks no tensors through a forward/backward', () => {
    registerBlasKernels();
    const a = rand([4, 8]);
    const b = rand([8, 3]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.dispose(tf.tidy(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.softmax(tf.matMul(x, y))))([a, b])));
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });

  it('every registered kernel is covered by a comparison above', () => {
    // Runs last (jest keeps declaration order within a file). The fused kernels are compared in attention.test.ts.
    expect([...Object.keys(BLAS_KERNELS)].filter((k) => !covered.has(k))).toEqual([]);
  });
});
