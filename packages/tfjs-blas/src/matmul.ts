// BatchMatMul and _FusedMatMul through OpenBLAS sgemm: one sgemm per output batch entry, with numpy-style
// broadcasting of the batch dimensions, then the fused bias + activation epilogue in C.
import type * as tf from '@tensorflow/tfjs';
import { f32, sizeOf, stridesOf } from './backend-data.js';
import type { BlasKernelArgs, BlasKernelImpl } from './kernel-types.js';

interface Product {
  out: Float32Array;
  outShape: number[];
  rows: number;
  cols: number;
}

/** Runs the batched product; undefined when the inputs are not dense float32 or shapes do not broadcast. */
function product(args: BlasKernelArgs): Product | undefined {
  const { backend, addon } = args;
  const a = args.inputs['a'];
  const b = args.inputs['b'];
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (!a || !b || !av || !bv || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const ta = args.attrs['transposeA'] === true;
  const tb = args.attrs['transposeB'] === true;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = ta ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = ta ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = tb ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = tb ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kb) return undefined; // the stock kernel throws tfjs's own message
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const pa = [...new Array<number>(rank - aBatch.length).fill(1), ...aBatch];
  const pb = [...new Array<number>(rank - bBatch.length).fill(1), ...bBatch];
  const outBatch: number[] = [];
  for (let d = 0; d < rank; d++) {
    const x = pa[d]!;
    const y = pb[d]!;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    outBatch.push(x === 1 ? y : x);
  }
  const batch = sizeOf(outBatch);
  const sa = stridesOf(pa);
  const sb = stridesOf(pb);
  const aOff = new Float64Array(batch);
  const bOff = new Float64Array(batch);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < batch; i++) {
    let oa = 0;
    let ob = 0;
    for (let d = 0; d < rank; d++) {
      if (pa[d] !== 1) oa += idx[d]! * sa[d]!;
      if (pb[d] !== 1) ob += idx[d]! * sb[d]!;
    }
    aOff[i] = oa * m * k;
    bOff[i] = ob * k * n;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < outBatch[d]!) break;
      idx[d] = 0;
    }
  }
  const out = new Float32Array(batch * m * n);
  addon.gemm(av, bv, out, aOff, bOff, m, n, k, ta ? 1 : 0, tb ? 1 : 0);
  return { out, outShape: [...outBatch, m, n], rows: batch * m, cols: n };
}

export const batchMatMul: BlasKernelImpl = (args) => {
  const p = product(args);
  return p && args.backend.makeTensorInfo(p.outShape, 'float32', p.out);
};

const ACTIVATIONS: Record<string, number> = {
  linear: 0, relu: 1, relu6: 2, elu: 3, leakyrelu: 4, sigmoid: 5, prelu: 6,
};

/** True when `t` broadcasts against `outShape` by repeating whole rows: its shape minus leading 1s is a suffix. */
function tilesRows(t: tf.TensorInfo, outShape: number[]): boolean {
  const s = [...t.shape];
  while (s.length > 0 && s[0] === 1) s.shift();
  if (s.length === 0) return true;
  if (s.length > outShape.length) return false;
  const suffix = outShape.slice(outShape.length - s.length);
  return s.every((d, i) => d === suffix[i]);
}

export const fusedMatMul: BlasKernelImpl = (args) => {
  const { backend, addon, inputs, attrs } = args;
  const activation = (attrs['activation'] as string | undefined) ?? 'linear';
  const act = ACTIVATIONS[activation];
  if (act === undefined) return undefined;
  const bias = inputs['bias'];
  const prelu = inputs['preluActivationWeights'];
  const biasV = bias ? f32(backend, bias) : null;
  const preluV = act === ACTIVATIONS['prelu'] ? f32(backend, prelu) : null;
  if (biasV === undefined || preluV === undefined) return undefined;
  const a = inputs['a'];
  const b = inputs['b'];
  if (!a || !b) return undefined;
  // Check broadcastability before running the product so that a fallback does not waste the sgemm.
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = attrs['transposeA'] === true ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const n = attrs['transposeB'] === true ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const tail = [m, n];
  if (bias && !tilesRows(bias, tail)) return undefined;
  if (preluV && prelu && !tilesRows(prelu, tail)) return undefined;
  const p = product(args);
  if (!p) return undefined;
  const alpha = typeof attrs['leakyreluAlpha'] === 'number' ? attrs['leakyreluAlpha'] : 0.2;
  addon.biasAct(p.out, p.rows, p.cols, biasV, act, alpha, preluV);
  return backend.makeTensorInfo(p.outShape, 'float32', p.out);
};
