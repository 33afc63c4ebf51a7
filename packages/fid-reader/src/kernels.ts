/**
 * Fused kernels for the tfjs `cpu` backend. Its generic broadcasting binary ops, Transpose and the gradient of
 * Gather (UnsortedSegmentSum, one full pass per vocabulary row) cost ~1 µs per element, which made a tiny
 * reader's training step take seconds. On `cpu` these few hot spots run as plain loops over the backend's own
 * arrays (dataSync is zero-copy there) with exact custom gradients; on every other backend they fall back to
 * the equivalent tf ops. Same math either way (float32 storage, float64 accumulation in the loops).
 * Where @fidkd/tfjs-blas has registered its fused kernels (T5 attention, RMS norm; looked up by name in tfjs's
 * kernel registry, so this package does not depend on it), attention and the norm run natively instead.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_ATTENTION_GRAD_KERNEL, FUSED_ATTENTION_KERNEL, fusedAttention, hasFusedKernels } from '@fidkd/core';

let fusedEnabled = true;

/**
 * Turns the fused cpu loops and the use of registered fused kernels on or off (off = plain tf ops everywhere;
 * for comparisons and debugging).
 */
export function setFusedCpuKernels(enabled: boolean): void {
  fusedEnabled = enabled;
}

/** True when the fused loops are used (enabled and the active backend is tfjs `cpu`). */
export function usesFusedCpuKernels(): boolean {
  return fusedEnabled && tf.getBackend() === 'cpu';
}

type SaveFn = (tensors: tf.Tensor[]) => void;

type GradFn = (...inputs: tf.Tensor[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor) => tf.Tensor | tf.Tensor[] };

/** tf.customGrad with plain tensor inputs (its published typing mixes in the save function). */
function custom(fn: GradFn): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(fn as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor;
}

function f32(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

function permuteRaw(x: Float32Array, a: number, b: number, c: number, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      for (let k = 0; k < c; k++) {
        let src = ((i * b + j) * c + k) * d;
        let dst = ((i * c + k) * b + j) * d;
        for (let e = 0; e < d; e++) out[dst++] = x[src++]!;
      }
    }
  }
  return out;
}

/** [A, B, C, D] → [A, C, B, D] (its own inverse; splits/merges attention heads). */
export function permute0213(x: tf.Tensor): tf.Tensor {
  if (!usesFusedCpuKernels()) return tf.transpose(x, [0, 2, 1, 3]);
  const op = custom((input: tf.Tensor) => {
    const [a, b, c, d] = input.shape as [number, number, number, number];
    return {
      value: tf.tensor4d(permuteRaw(f32(input), a, b, c, d), [a, c, b, d]),
      gradFunc: (dy: tf.Tensor) => tf.tensor4d(permuteRaw(f32(dy), a, c, b, d), [a, b, c, d]),
    };
  });
  return op(x);
}

/**
 * T5's relu feed-forward relu(x·Wiᵀ)·Woᵀ for x [M, d], Wi [d_ff, d], Wo [d, d_ff]. On `cpu` it is one op whose
 * gradient masks dh = dy·Wo in place by the saved activation instead of allocating relu, step and product
 * tensors of [M, d_ff] (the largest of a tiny reader's step); elsewhere plain tf ops.
 */
export function reluFeedForward(x: tf.Tensor2D, wi: tf.Tensor2D, wo: tf.Tensor2D): tf.Tensor2D {
  if (!usesFusedCpuKernels()) return tf.matMul(tf.relu(tf.matMul(x, wi, false, true)), wo, false, true);
  const op = tf.customGrad(((a: tf.Tensor2D, w1: tf.Tensor2D, w2: tf.Tensor2D, save: SaveFn) => {
    const h = tf.fused.matMul({ a, b: w1, transposeB: true, activation: 'relu' });
    save([a, w1, w2, h]);
    return {
      value: tf.matMul(h, w2, false, true),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sa, s1, s2, sh] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const dh = tf.matMul(dy, s2);
        // dh is this function's own fresh tensor: masking it where relu was inactive changes nothing else.
        // A product, not a branch (random signs defeat branch prediction), as tfjs's dy·step(x).
        const g = f32(dh);
        const hv = f32(sh);
        for (let i = 0; i < g.length; i++) g[i]! *= +(hv[i]! > 0);
        return [tf.matMul(dh, s1), tf.matMul(dh, sa, true, false), tf.matMul(dy, sh, true, false)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...t: tf.Tensor[]) => tf.Tensor2D;
  return op(x, wi, wo);
}

/**
 * Names of the fused RMS-norm kernels @fidkd/tfjs-blas registers on `cpu` (contract in its rms-norm.ts):
 * inputs x [..., d], w [d]; attr eps; outputs y and rinv [rows]; the gradient takes dy, x, w, rinv → dx, dw.
 */
export const FUSED_RMS_NORM_KERNEL = 'FidkdRmsNorm';
export const FUSED_RMS_NORM_GRAD_KERNEL = 'FidkdRmsNormGrad';

/** True when kernel `name` and its gradient `gradName` are registered for the active backend (and fusing is on). */
function registered(name: string, gradName: string): boolean {
  return fusedEnabled && hasFusedKernels(name, gradName);
}

/** T5LayerNorm: x / sqrt(mean(x²) + eps) · w over the last axis. */
export function rmsNorm(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  if (registered(FUSED_RMS_NORM_KERNEL, FUSED_RMS_NORM_GRAD_KERNEL)) {
    const op = tf.customGrad(((input: tf.Tensor, weight: tf.Tensor, save: SaveFn) => {
      const [y, rinv] = tf.engine().runKernel(FUSED_RMS_NORM_KERNEL, { x: input, w: weight }, { eps }) as tf.Tensor[];
      save([input, weight, rinv!]);
      return {
        value: y!,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sw, sr] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
          return tf.engine().runKernel(FUSED_RMS_NORM_GRAD_KERNEL, { dy, x: sx, w: sw, rinv: sr }, {}) as tf.Tensor[];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...t: tf.Tensor[]) => tf.Tensor;
    return op(x, w);
  }
  if (!usesFusedCpuKernels()) {
    const variance = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), w);
  }
  const op = custom((input: tf.Tensor, weight: tf.Tensor) => {
    const d = weight.shape[0]!;
    const xs = f32(input);
    const ws = f32(weight);
    const m = xs.length / d;
    const r = new Float64Array(m);
    const y = new Float32Array(xs.length);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = i * d; j < (i + 1) * d; j++) s += xs[j]! * xs[j]!;
      const ri = 1 / Math.sqrt(s / d + eps);
      r[i] = ri;
      for (let j = 0; j < d; j++) y[i * d + j] = xs[i * d + j]! * ri * ws[j]!;
    }
    return {
      value: tf.tensor(y, input.shape),
      gradFunc: (dy: tf.Tensor) => {
        const g = f32(dy);
        const gx = new Float32Array(xs.length);
        const gw = new Float64Array(d);
        for (let i = 0; i < m; i++) {
          const ri = r[i]!;
          let dot = 0;
          for (let j = 0; j < d; j++) {
            const o = i * d + j;
            dot += g[o]! * ws[j]! * xs[o]!;
            gw[j]! += g[o]! * xs[o]! * ri;
          }
          const c = (ri * ri * ri * dot) / d;
          for (let j = 0; j < d; j++) {
            const o = i * d + j;
            gx[o] = ri * g[o]! * ws[j]! - xs[o]! * c;
          }
        }
        return [tf.tensor(gx, input.shape), tf.tensor1d(Float32Array.from(gw))];
      },
    };
  });
  return op(x, w);
}

/** Writes softmax(xs[o, o + n)) into p[o, o + n) (max-shifted); returns the row's log-sum-exp. */
function softmaxRow(xs: Float32Array, p: Float32Array, o: number, n: number): number {
  let max = -Infinity;
  for (let j = o; j < o + n; j++) if (xs[j]! > max) max = xs[j]!;
  let s = 0;
  for (let j = o; j < o + n; j++) {
    const e = Math.exp(xs[j]! - max);
    p[j] = e;
    s += e;
  }
  for (let j = o; j < o + n; j++) p[j] = p[j]! / s;
  return Math.log(s) + max;
}

/** Softmax over the last axis. */
export function softmaxLast(x: tf.Tensor): tf.Tensor {
  if (!usesFusedCpuKernels()) return tf.softmax(x, -1);
  const op = custom((input: tf.Tensor) => {
    const n = input.shape[input.shape.length - 1]!;
    const xs = f32(input);
    const p = new Float32Array(xs.length);
    for (let o = 0; o < xs.length; o += n) softmaxRow(xs, p, o, n);
    return {
      value: tf.tensor(p, input.shape),
      gradFunc: (dy: tf.Tensor) => {
        const g = f32(dy);
        const gx = new Float32Array(xs.length);
        for (let o = 0; o < xs.length; o += n) {
          let dot = 0;
          for (let j = o; j < o + n; j++) dot += g[j]! * p[j]!;
          for (let j = o; j < o + n; j++) gx[j] = p[j]! * (g[j]! - dot);
        }
        return tf.tensor(gx, input.shape);
      },
    };
  });
  return op(x);
}

/**
 * Row lookup `weight[ids]` ([V, d] → [...ids.shape, d]). Its gradient is a scatter-add on `cpu` instead of
 * UnsortedSegmentSum (which costs a pass over all ids per vocabulary row).
 */
export function lookupRows(weight: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  if (!usesFusedCpuKernels()) return tf.gather(weight, ids);
  const idx = ids.dataSync();
  const op = custom((w: tf.Tensor) => {
    const [v, d] = w.shape as [number, number];
    return {
      value: tf.gather(w, ids),
      gradFunc: (dy: tf.Tensor) => {
        const g = f32(dy);
        const gw = new Float32Array(v * d);
        for (let i = 0; i < idx.length; i++) {
          const row = idx[i]! * d;
          for (let j = 0; j < d; j++) gw[row + j]! += g[i * d + j]!;
        }
        return tf.tensor2d(gw, [v, d]);
      },
    };
  });
  return op(weight);
}

/**
 * Additive attention bias [N, H, Lq, Lk]: position bias `pos` ([1, H, Lq, Lk], differentiable; or null) plus
 * finfo(float32).min where `mask` ([N, Lk] of 0/1) is 0 or, when `causal`, where key > query. Built once per
 * forward so that every layer adds a same-shape tensor.
 */
export function attentionBias(pos: tf.Tensor | null, mask: Int32Array | null, n: number, h: number, lq: number, lk: number, causal: boolean, min: number): tf.Tensor {
  const addMask = new Float32Array(n * lq * lk);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < lq; i++) {
      for (let j = 0; j < lk; j++) {
        if ((mask && mask[b * lk + j] === 0) || (causal && j > i)) addMask[(b * lq + i) * lk + j] = min;
      }
    }
  }
  if (!usesFusedCpuKernels() || n === 1) {
    const m = tf.tensor4d(addMask, [n, 1, lq, lk]);
    return pos ? tf.add(pos, m) : tf.tile(m, [1, h, 1, 1]);
  }
  const build = (p: Float32Array | null): Float32Array => {
    const out = new Float32Array(n * h * lq * lk);
    const block = lq * lk;
    for (let b = 0; b < n; b++) {
      for (let k = 0; k < h; k++) {
        const o = (b * h + k) * block;
        for (let e = 0; e < block; e++) out[o + e] = (p ? p[k * block + e]! : 0) + addMask[b * block + e]!;
      }
    }
    return out;
  };
  if (!pos) return tf.tensor4d(build(null), [n, h, lq, lk]);
  const op = custom((p: tf.Tensor) => ({
    value: tf.tensor4d(build(f32(p)), [n, h, lq, lk]),
    gradFunc: (dy: tf.Tensor) => {
      const g = f32(dy);
      const block = h * lq * lk;
      const gp = new Float32Array(block);
      for (let b = 0; b < n; b++) for (let e = 0; e < block; e++) gp[e]! += g[b * block + e]!;
      return tf.tensor4d(gp, [1, h, lq, lk]);
    },
  }));
  return op(pos);
}

/**
 * Per-token cross-entropy −log softmax(logits)[label] over the last axis, 0 where label = −100.
 * `logits` [M, V] (any leading shape flattened), `labels` M ids.
 */
export function tokenNll(logits: tf.Tensor, labels: Int32Array): tf.Tensor {
  const v = logits.shape[logits.shape.length - 1]!;
  const m = labels.length;
  if (!usesFusedCpuKernels()) {
    return tf.tidy(() => {
      const lab = tf.tensor1d(labels, 'int32');
      const valid = tf.cast(tf.notEqual(lab, -100), 'float32');
      const safe = tf.where(tf.notEqual(lab, -100), lab, tf.zerosLike(lab));
      const logp = tf.logSoftmax(tf.reshape(logits, [m, v]), -1);
      return tf.mul(tf.neg(tf.sum(tf.mul(logp, tf.oneHot(safe, v)), -1)), valid);
    });
  }
  const op = custom((x: tf.Tensor) => {
    const xs = f32(x);
    const nll = new Float32Array(m);
    const p = new Float32Array(xs.length);
    for (let i = 0; i < m; i++) {
      const o = i * v;
      const logNormalizer = softmaxRow(xs, p, o, v);
      const y = labels[i]!;
      if (y !== -100) nll[i] = logNormalizer - xs[o + y]!;
    }
    return {
      value: tf.tensor1d(nll),
      gradFunc: (dy: tf.Tensor) => {
        const g = f32(dy);
        const gx = new Float32Array(xs.length);
        for (let i = 0; i < m; i++) {
          const y = labels[i]!;
          if (y === -100) continue;
          const o = i * v;
          const gi = g[i]!;
          for (let j = 0; j < v; j++) gx[o + j] = gi * p[o + j]!;
          gx[o + y]! -= gi;
        }
        return tf.tensor(gx, x.shape);
      },
    };
  });
  return op(logits);
}

/** True when the fused attention kernels are registered for the active backend (and fused kernels are on). */
export function usesFusedAttention(): boolean {
  return registered(FUSED_ATTENTION_KERNEL, FUSED_ATTENTION_GRAD_KERNEL);
}

/**
 * T5 attention (no dropout) in the projections' layout: softmax(q·kᵀ + pos + mask) · v per head, for q
 * [N, Lq, H·dkv] and k, v [N, Lk, H·dkv] → [N, Lq, H·dkv]. `pos` [1, H, Lq, Lk] (differentiable) or null;
 * `mask` N·Lk 0/1 keys (0 = padded) or null; `causal` masks keys after the query. One kernel forward and one
 * backward when {@link usesFusedAttention}; otherwise the same math in tf ops.
 */
export function t5Attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, pos: tf.Tensor | null, mask: Int32Array | null, causal: boolean, numHeads: number, min: number): tf.Tensor {
  const [n, lq, width] = q.shape as [number, number, number];
  const lk = k.shape[1]!;
  const dkv = width / numHeads;
  if (!usesFusedAttention()) {
    const split = (x: tf.Tensor, l: number): tf.Tensor => permute0213(tf.reshape(x, [n, l, numHeads, dkv]));
    const bias = attentionBias(pos, mask, n, numHeads, lq, lk, causal, min);
    const probs = softmaxLast(tf.add(tf.matMul(split(q, lq), split(k, lk), false, true), bias));
    return tf.reshape(permute0213(tf.matMul(probs, split(v, lk))), [n, lq, width]);
  }
  return fusedAttention({ q, k, v }, pos, mask, causal, numHeads, [n, lq, lk]);
}

/**
 * Self-attention from one packed projection `qkv` [N, L, 3·H·dkv] (q, k, v side by side, i.e. x·[Wq; Wk; Wv]ᵀ):
 * {@link t5Attention} without splitting it, so that the three projections are one matmul forward and backward.
 */
export function t5SelfAttentionPacked(qkv: tf.Tensor, pos: tf.Tensor | null, mask: Int32Array | null, causal: boolean, numHeads: number, min: number): tf.Tensor {
  const [n, l] = qkv.shape as [number, number, number];
  if (!usesFusedAttention()) {
    const [q, k, v] = tf.split(qkv, 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
    return t5Attention(q, k, v, pos, mask, causal, numHeads, min);
  }
  return fusedAttention({ qkv }, pos, mask, causal, numHeads, [n, l, l]);
}
