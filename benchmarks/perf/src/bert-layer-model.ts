// A BERT-base encoder layer as the bi-encoder computes it: post-LayerNorm self-attention (12 heads) + GELU(erf)
// FFN, dropout off — through @fidkd/tfjs-blas's fused kernels (packed q|k|v attention, LayerNorm, GELU, via
// @fidkd/core's wrappers) where they are registered (backend blas), else in plain tfjs ops (blas-unfused, cpu,
// wasm). Used by the bert-layer suite and mirrored by python/bert_layer.py.
import * as tf from '@tensorflow/tfjs';
import { FUSED_BERT_KERNELS, fusedAttention, fusedGelu, fusedLayerNorm, hasFusedKernels } from '@fidkd/core';

export interface BertLayerConfig {
  batch: number;
  seqLen: number;
  hidden: number;
  heads: number;
  ffn: number;
}

export const BERT_BASE_LAYER: BertLayerConfig = { batch: 8, seqLen: 128, hidden: 768, heads: 12, ffn: 3072 };

/** Weight names and shapes (HF BertLayer naming, [in, out] matrices). */
export function bertLayerShapes(c: BertLayerConfig): Record<string, number[]> {
  const h = c.hidden;
  return {
    q_w: [h, h], q_b: [h], k_w: [h, h], k_b: [h], v_w: [h, h], v_b: [h], o_w: [h, h], o_b: [h],
    ln1_g: [h], ln1_b: [h], i_w: [h, c.ffn], i_b: [c.ffn], f_w: [c.ffn, h], f_b: [h], ln2_g: [h], ln2_b: [h],
  };
}

export function initBertLayer(c: BertLayerConfig, seed = 1): Map<string, tf.Variable> {
  const vars = new Map<string, tf.Variable>();
  let s = seed;
  for (const [name, shape] of Object.entries(bertLayerShapes(c))) {
    const init = name.endsWith('_g')
      ? tf.ones(shape)
      : name.endsWith('_b')
        ? tf.zeros(shape)
        : tf.truncatedNormal(shape, 0, 0.02, 'float32', s++);
    vars.set(name, tf.variable(init, true, name));
    init.dispose();
  }
  return vars;
}

function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps = 1e-12): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), -1, true);
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), g), b);
}

function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/** Forward pass: x [batch, seq, hidden], additive mask [batch, 1, 1, seq] (0 keep, -1e4 pad). */
export function bertLayerForward(c: BertLayerConfig, w: Map<string, tf.Tensor>, x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  const get = (n: string): tf.Tensor => {
    const t = w.get(n);
    if (!t) throw new Error(`bert layer weight ${n} missing`);
    return t;
  };
  const { batch: B, seqLen: L, hidden: H, heads: N } = c;
  const D = H / N;
  const x2 = tf.reshape(x, [B * L, H]);
  const fused = hasFusedKernels(...FUSED_BERT_KERNELS);
  if (fused) {
    // As the bi-encoder: one product for q|k|v with 1/√D folded into the query weights; keys whose additive mask
    // is negative count as padded (the kernel adds finfo.min there instead of the mask value).
    const scale = 1 / Math.sqrt(D);
    // Stacked as rows of [3H, H] (the bi-encoder's [out, in] layout): the gradient of a row concat is a cheap
    // split, that of a column concat of [in, out] matrices a slow strided one on the cpu backend.
    const rows = (n: string): tf.Tensor => tf.transpose(get(`${n}_w`));
    const w = tf.concat([tf.mul(rows('q'), scale), rows('k'), rows('v')], 0) as tf.Tensor2D;
    const b = tf.concat([tf.mul(get('q_b'), scale), get('k_b'), get('v_b')], 0);
    const qkv = tf.reshape(tf.fused.matMul({ a: x2 as tf.Tensor2D, b: w, transposeB: true, bias: b }), [B, L, 3 * H]);
    const m = mask.dataSync();
    const keys = Int32Array.from({ length: B * L }, (_, i) => (m[i]! < 0 ? 0 : 1));
    const ctx = tf.reshape(fusedAttention({ qkv }, null, keys, false, N, [B, L, L]), [B * L, H]) as tf.Tensor2D;
    const dense = (a: tf.Tensor, n: string): tf.Tensor2D => tf.fused.matMul({ a: a as tf.Tensor2D, b: get(`${n}_w`) as tf.Tensor2D, bias: get(`${n}_b`) }) as tf.Tensor2D;
    const h1 = fusedLayerNorm(tf.add(dense(ctx, 'o'), x2), get('ln1_g'), get('ln1_b'), 1e-12);
    const h2 = fusedLayerNorm(tf.add(dense(fusedGelu(dense(h1, 'i')), 'f'), h1), get('ln2_g'), get('ln2_b'), 1e-12);
    return tf.reshape(h2, [B, L, H]);
  }
  const proj = (n: string): tf.Tensor =>
    tf.transpose(tf.reshape(tf.add(tf.matMul(x2, get(`${n}_w`)), get(`${n}_b`)), [B, L, N, D]), [0, 2, 1, 3]);
  const q = proj('q');
  const k = proj('k');
  const v = proj('v');
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D)), mask);
  const probs = tf.softmax(scores);
  const ctx = tf.reshape(tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]), [B * L, H]);
  const attnOut = tf.add(tf.matMul(ctx, get('o_w')), get('o_b'));
  const h1 = layerNorm(tf.add(attnOut, x2), get('ln1_g'), get('ln1_b'));
  const inter = gelu(tf.add(tf.matMul(h1, get('i_w')), get('i_b')));
  const ffnOut = tf.add(tf.matMul(inter, get('f_w')), get('f_b'));
  const h2 = layerNorm(tf.add(ffnOut, h1), get('ln2_g'), get('ln2_b'));
  return tf.reshape(h2, [B, L, H]);
}

/**
 * One forward + backward: loss = sum(out * dy) so that d loss / d out = dy (the same in PyTorch), gradients
 * for all 16 weights and the input, all read back (asynchronously: every backend). Returns the loss value;
 * everything else is disposed.
 */
export async function bertLayerStep(c: BertLayerConfig, vars: Map<string, tf.Variable>, x: tf.Tensor, mask: tf.Tensor, dy: tf.Tensor): Promise<number> {
  const names = [...vars.keys()];
  const { value, grads } = tf.tidy(() => {
    const f = (...args: tf.Tensor[]): tf.Scalar => {
      const w = new Map<string, tf.Tensor>(names.map((n, i) => [n, args[i]!]));
      const out = bertLayerForward(c, w, args[names.length]!, mask);
      return tf.sum(tf.mul(out, dy));
    };
    const r = tf.valueAndGrads(f)([...names.map((n) => vars.get(n)!), x]);
    return { value: r.value, grads: r.grads };
  });
  try {
    const [loss] = await Promise.all([value.data(), ...grads.map((g) => g.data())]);
    return loss![0]!;
  } finally {
    value.dispose();
    tf.dispose(grads);
  }
}
