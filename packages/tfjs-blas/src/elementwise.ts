// Element-wise kernels: unary maps, and binary ops with numpy broadcasting (the bias adds, residuals,
// LayerNorm and attention-mask arithmetic of a transformer, forward and backward).
import type * as tf from '@tensorflow/tfjs';
import { f32, sizeOf, stridesOf } from './backend-data.js';
import type { BlasKernelImpl } from './kernel-types.js';

/** Op codes of native/kernels.h `enum fidkd_unary`. */
export const UNARY_OPS = {
  Exp: 0, Log: 1, Erf: 2, Tanh: 3, Sqrt: 4, Rsqrt: 5, Square: 6, Neg: 7, Relu: 8, Sigmoid: 9, Abs: 10,
  Reciprocal: 11, Relu6: 12, Elu: 13, LeakyRelu: 14, Step: 15,
} as const;

/** Op codes of native/kernels.h `enum fidkd_binary`. */
export const BINARY_OPS = {
  Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6, Pow: 7,
} as const;

export function unaryKernel(op: number, defaultAlpha = 0): BlasKernelImpl {
  return ({ inputs, backend, attrs, addon }) => {
    const x = inputs['x'];
    const xv = f32(backend, x);
    if (!x || !xv) return undefined;
    const out = new Float32Array(xv.length);
    const alpha = typeof attrs['alpha'] === 'number' ? attrs['alpha'] : defaultAlpha;
    addon.unary(op, xv, out, alpha);
    return backend.makeTensorInfo([...x.shape], 'float32', out);
  };
}

/** Broadcast plan: collapsed loop shape and element strides of each input (0 on broadcast dims). */
export interface BroadcastPlan {
  outShape: number[];
  shape: Float64Array;
  aStrides: Float64Array;
  bStrides: Float64Array;
}

export function planBroadcast(aShape: readonly number[], bShape: readonly number[]): BroadcastPlan | undefined {
  const rank = Math.max(aShape.length, bShape.length);
  const pa = [...new Array<number>(rank - aShape.length).fill(1), ...aShape];
  const pb = [...new Array<number>(rank - bShape.length).fill(1), ...bShape];
  const outShape: number[] = [];
  for (let d = 0; d < rank; d++) {
    const x = pa[d]!;
    const y = pb[d]!;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    outShape.push(x === 1 ? y : x);
  }
  const sa = stridesOf(pa).map((s, d) => (pa[d] === 1 ? 0 : s));
  const sb = stridesOf(pb).map((s, d) => (pb[d] === 1 ? 0 : s));
  // Drop size-1 dims, then merge neighbours that both inputs traverse contiguously (or both broadcast).
  const shape: number[] = [];
  const as: number[] = [];
  const bs: number[] = [];
  for (let d = 0; d < rank; d++) {
    const n = outShape[d]!;
    if (n === 1) continue;
    const last = shape.length - 1;
    if (last >= 0 && as[last] === sa[d]! * n && bs[last] === sb[d]! * n) {
      shape[last] = shape[last]! * n;
      as[last] = sa[d]!;
      bs[last] = sb[d]!;
    } else {
      shape.push(n);
      as.push(sa[d]!);
      bs.push(sb[d]!);
    }
  }
  if (shape.length === 0) {
    shape.push(1);
    as.push(0);
    bs.push(0);
  }
  if (shape.length > 8) return undefined;
  return { outShape, shape: Float64Array.from(shape), aStrides: Float64Array.from(as), bStrides: Float64Array.from(bs) };
}

export function binaryKernel(op: number): BlasKernelImpl {
  return ({ inputs, backend, addon }) => {
    const a = inputs['a'];
    const b = inputs['b'];
    const av = f32(backend, a);
    const bv = f32(backend, b);
    if (!a || !b || !av || !bv) return undefined;
    const plan = planBroadcast(a.shape, b.shape);
    if (!plan) return undefined;
    const out = new Float32Array(sizeOf(plan.outShape));
    if (out.length > 0) addon.binary(op, av, bv, out, plan.shape, plan.aStrides, plan.bStrides);
    return backend.makeTensorInfo(plan.outShape, 'float32', out);
  };
}

/** Softmax over the last axis (the only axis the stock cpu kernel supports). */
export const softmax: BlasKernelImpl = ({ inputs, backend, attrs, addon }) => {
  const x: tf.TensorInfo | undefined = inputs['logits'];
  const xv = f32(backend, x);
  if (!x || !xv || x.shape.length === 0) return undefined;
  const rank = x.shape.length;
  const dim = typeof attrs['dim'] === 'number' ? attrs['dim'] : -1;
  if (dim !== -1 && dim !== rank - 1) return undefined;
  const cols = x.shape[rank - 1]!;
  if (cols === 0) return undefined;
  const out = new Float32Array(xv.length);
  addon.softmax(xv, out, xv.length / cols, cols);
  return backend.makeTensorInfo([...x.shape], 'float32', out);
};
