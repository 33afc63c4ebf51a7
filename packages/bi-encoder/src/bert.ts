/**
 * BERT encoder forward pass in tfjs, matching HF `BertModel`: word + token-type + absolute position embeddings
 * → LayerNorm; post-LN layers; attention scaled by 1/sqrt(head_dim) with the additive (1 − m)·finfo.min mask;
 * exact erf GELU. Every function is pure in its parameters so that tf.variableGrads can differentiate it.
 */
import * as tf from '@tensorflow/tfjs';
import {
  FUSED_ATTENTION_GRAD_KERNEL,
  FUSED_ATTENTION_KERNEL,
  FUSED_GELU_GRAD_KERNEL,
  FUSED_GELU_KERNEL,
  FUSED_LAYER_NORM_GRAD_KERNEL,
  FUSED_LAYER_NORM_KERNEL,
  fusedAttention,
  fusedGelu,
  fusedLayerNorm,
  hasFusedKernels,
  hostBackend,
} from '@fidkd/core';
import type { BertActivation, BertConfig } from './config.js';

/** Canonical parameter name → tensor (tf.Variable when training). */
export type ParameterMap = ReadonlyMap<string, tf.Tensor>;

/** torch.finfo(torch.float32).min: HF's additive mask value. */
export const FLOAT32_MIN = -3.4028234663852886e38;

/** Dropout used in training only. `seed` makes the masks reproducible. */
export interface DropoutSpec {
  hidden: number;
  attention: number;
  seed: () => number;
}

export function param(params: ParameterMap, name: string): tf.Tensor {
  const t = params.get(name);
  if (!t) throw new Error(`bi-encoder: parameter '${name}' is missing`);
  return t;
}

/** y = x Wᵀ + b with W stored [out, in] as in PyTorch. x is [rows, in]. */
export function linear(x: tf.Tensor2D, params: ParameterMap, prefix: string): tf.Tensor2D {
  return tf.fused.matMul({
    a: x,
    b: param(params, `${prefix}.weight`) as tf.Tensor2D,
    transposeB: true,
    bias: param(params, `${prefix}.bias`),
  }) as tf.Tensor2D;
}

/**
 * Repeats a column v [rows, 1] across `width` columns as the product v · 1ᵀ. Same values as broadcasting, but
 * the stock cpu backend's broadcasting binary ops take a slow per-element index path, while matMul does not.
 */
export function spreadColumn(v: tf.Tensor2D, width: number): tf.Tensor2D {
  return tf.matMul(v, tf.ones([1, width]));
}

/**
 * LayerNorm over the last axis: (x − mean)/sqrt(var + eps)·γ + β (biased variance, as torch). One native kernel
 * forward and one backward where @fidkd/tfjs-blas registered them (else ~10 tf ops, each on the tape).
 */
export function layerNorm(x: tf.Tensor, params: ParameterMap, prefix: string, eps: number): tf.Tensor {
  if (hasFusedKernels(FUSED_LAYER_NORM_KERNEL, FUSED_LAYER_NORM_GRAD_KERNEL)) {
    return fusedLayerNorm(x, param(params, `${prefix}.weight`), param(params, `${prefix}.bias`), eps);
  }
  const width = x.shape[x.shape.length - 1]!;
  const x2 = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, width]) as tf.Tensor2D;
  const centered = tf.sub(x2, spreadColumn(tf.mean(x2, -1, true) as tf.Tensor2D, width));
  const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps)) as tf.Tensor2D;
  const normed = tf.mul(centered, spreadColumn(rstd, width));
  const y = tf.add(tf.mul(normed, param(params, `${prefix}.weight`)), param(params, `${prefix}.bias`));
  return x.rank === 2 ? y : tf.reshape(y, x.shape);
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Exact GELU x·Φ(x) = 0.5·x·(1 + erf(x/√2)) with a hand-written gradient (Φ(x) + x·φ(x)) so that the tape keeps
 * only x instead of every intermediate.
 */
export const geluErf: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
  save([x]);
  const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, SQRT1_2))));
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs] = saved as [tf.Tensor];
      const c = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(xs, SQRT1_2))));
      const pdf = tf.mul(INV_SQRT_2PI, tf.exp(tf.mul(-0.5, tf.square(xs))));
      return [tf.mul(dy, tf.add(c, tf.mul(xs, pdf)))];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;

/**
 * Embedding lookup table[ids] ([rows, width] from [V, width] and int32 ids [rows]). On host backends (cpu, wasm,
 * tensorflow) its gradient w.r.t. the table is a scatter-add done in one pass over dy (tf.gather's own gradient,
 * UnsortedSegmentSum, costs O(V · rows · width) on the stock cpu backend — minutes per step for a 30k
 * vocabulary); elsewhere (webgpu) it is tf.gather with its own gradient, which runs on the device.
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  return hostBackend() ? hostEmbeddingLookup(table, ids) : tf.gather(table, ids);
}

const hostEmbeddingLookup: (table: tf.Tensor2D, ids: tf.Tensor1D) => tf.Tensor2D = tf.customGrad(((
  table: tf.Tensor2D,
  ids: tf.Tensor1D,
  save: (t: tf.Tensor[]) => void,
) => {
  save([ids]);
  const [vocab, width] = table.shape;
  return {
    value: tf.gather(table, ids),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const idx = saved[0]!.dataSync();
      const g = dy.dataSync();
      const out = new Float32Array(vocab * width);
      for (let r = 0; r < idx.length; r++) {
        const row = idx[r]! * width;
        const src = r * width;
        for (let c = 0; c < width; c++) out[row + c]! += g[src + c]!;
      }
      return [tf.tensor2d(out, [vocab, width]), tf.zerosLike(saved[0]!)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (table: tf.Tensor2D, ids: tf.Tensor1D) => tf.Tensor2D;

/** gelu_new / gelu_pytorch_tanh: the tanh approximation. */
function geluTanh(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

export function activation(x: tf.Tensor, act: BertActivation): tf.Tensor {
  switch (act) {
    case 'gelu': return hasFusedKernels(FUSED_GELU_KERNEL, FUSED_GELU_GRAD_KERNEL) ? fusedGelu(x) : geluErf(x);
    case 'gelu_new':
    case 'gelu_pytorch_tanh': return geluTanh(x);
    case 'relu': return tf.relu(x);
  }
}

function dropout(x: tf.Tensor, rate: number, spec: DropoutSpec | undefined): tf.Tensor {
  return spec && rate > 0 ? tf.dropout(x, rate, undefined, spec.seed()) : x;
}

export interface BertInputs {
  /** Token ids [N, L] int32. */
  ids: tf.Tensor2D;
  /** Attention mask [N, L] (1 = real token) or null: HF `attention_mask=None`, every position attends to all. */
  mask: tf.Tensor2D | null;
  /** Token types [N, L] int32, or null for all zeros. */
  tokenTypeIds?: tf.Tensor2D | null;
}

/** HF BertModel last_hidden_state [N, L, hidden]. */
export function bertForward(params: ParameterMap, c: BertConfig, inputs: BertInputs, drop?: DropoutSpec): tf.Tensor3D {
  const [n, len] = inputs.ids.shape;
  if (len > c.maxPositionEmbeddings) {
    throw new Error(`bi-encoder: sequence length ${len} exceeds max_position_embeddings ${c.maxPositionEmbeddings}`);
  }
  const h = c.hiddenSize;
  const heads = c.numAttentionHeads;
  return tf.tidy(() => {
    const flatIds = tf.reshape(inputs.ids, [n * len]);
    let x: tf.Tensor = tf.reshape(embeddingLookup(param(params, 'embeddings.word_embeddings.weight') as tf.Tensor2D, flatIds as tf.Tensor1D), [n, len, h]);
    const pos = tf.slice(param(params, 'embeddings.position_embeddings.weight'), [0, 0], [len, h]);
    const typeTable = param(params, 'embeddings.token_type_embeddings.weight');
    const types = inputs.tokenTypeIds
      ? tf.reshape(embeddingLookup(typeTable as tf.Tensor2D, tf.reshape(inputs.tokenTypeIds, [n * len]) as tf.Tensor1D), [n, len, h])
      : tf.reshape(tf.slice(typeTable, [0, 0], [1, h]), [h]); // type 0 at every position
    x = tf.add(tf.add(x, types), pos);
    x = layerNorm(x, params, 'embeddings.LayerNorm', c.layerNormEps);
    x = dropout(x, drop?.hidden ?? 0, drop);
    let hidden = tf.reshape(x, [n * len, h]) as tf.Tensor2D;

    // One native kernel forward and one backward for the attention block where @fidkd/tfjs-blas registered them
    // (not with attention dropout, which the kernel does not apply): q, k, v as one packed projection, no
    // split-heads transposes, no [N, heads, L, L] bias tensor; else the same math in tf ops.
    const fused = (drop?.attention ?? 0) === 0 && hasFusedKernels(FUSED_ATTENTION_KERNEL, FUSED_ATTENTION_GRAD_KERNEL);
    const attend = fused ? packedAttention(params, inputs.mask, n, len, h, heads) : opsAttention(params, inputs.mask, n, len, h, heads, drop);

    for (let l = 0; l < c.numHiddenLayers; l++) {
      const p = `encoder.layer.${l}.`;
      const input = hidden;
      // A scope per layer: without gradients its intermediates (~100 MB per layer for 8 bert-base passages) are
      // released layer by layer instead of all at the end of the forward pass (what gradients need is kept).
      hidden = tf.tidy(() => {
        const ctx = attend(input, p);
        const attnOut = dropout(linear(ctx, params, `${p}attention.output.dense`), drop?.hidden ?? 0, drop);
        const mid = layerNorm(tf.add(attnOut, input), params, `${p}attention.output.LayerNorm`, c.layerNormEps) as tf.Tensor2D;
        const inter = activation(linear(mid, params, `${p}intermediate.dense`), c.hiddenAct) as tf.Tensor2D;
        const ffOut = dropout(linear(inter, params, `${p}output.dense`), drop?.hidden ?? 0, drop);
        return layerNorm(tf.add(ffOut, mid), params, `${p}output.LayerNorm`, c.layerNormEps) as tf.Tensor2D;
      });
      if (l > 0) input.dispose(); // a previous layer's output (the first input belongs to the embedding scope)
    }
    return tf.reshape(hidden, [n, len, h]) as tf.Tensor3D;
  });
}

/** Self-attention context [N·L, hidden] of a layer (prefix `encoder.layer.{l}.`) from its input [N·L, hidden]. */
type AttentionFn = (hidden: tf.Tensor2D, prefix: string) => tf.Tensor2D;

/**
 * Attention in tf ops: split heads, q·kᵀ/√d + additive mask, softmax (attention dropout), ·v, merge heads.
 * The mask (1 − m)·finfo.min is spread once to the full [N, heads, L, L] logits shape (a same-shape add is much
 * faster than a broadcasting one on the cpu backend); a null mask means no masking at all (not even padding).
 */
function opsAttention(params: ParameterMap, mask: tf.Tensor2D | null, n: number, len: number, h: number, heads: number, drop?: DropoutSpec): AttentionFn {
  const dh = h / heads;
  const maskBias = mask
    ? tf.reshape(
        tf.matMul(tf.ones([n, heads * len, 1]), tf.reshape(tf.mul(tf.sub(1, tf.cast(mask, 'float32')), FLOAT32_MIN), [n, 1, len])),
        [n, heads, len, len],
      )
    : null;
  const scale = 1 / Math.sqrt(dh);
  const toHeads = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [n, len, heads, dh]), [0, 2, 1, 3]);
  return (hidden, p) => {
    // Scaling q (L·dh values) instead of the logits (L·L values): same result, less work.
    const q = toHeads(tf.mul(linear(hidden, params, `${p}attention.self.query`), scale) as tf.Tensor2D);
    const k = toHeads(linear(hidden, params, `${p}attention.self.key`));
    const v = toHeads(linear(hidden, params, `${p}attention.self.value`));
    let logits = tf.matMul(q, k, false, true);
    if (maskBias) logits = tf.add(logits, maskBias);
    const probs = dropout(tf.softmax(logits), drop?.attention ?? 0, drop);
    return tf.reshape(tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]), [n * len, h]) as tf.Tensor2D;
  };
}

/**
 * Attention through the fused kernel: one product x·[Wq/√d; Wk; Wv]ᵀ + [bq/√d; bk; bv] gives q (already scaled,
 * as in {@link opsAttention}), k and v side by side, which the kernel reads in place; padded keys (mask 0) get
 * finfo.min as in HF.
 */
function packedAttention(params: ParameterMap, mask: tf.Tensor2D | null, n: number, len: number, h: number, heads: number): AttentionFn {
  const scale = 1 / Math.sqrt(h / heads);
  const keys = mask ? (tf.cast(mask, 'int32').dataSync() as Int32Array) : null;
  return (hidden, p) => {
    const w = (name: string) => param(params, `${p}attention.self.${name}`);
    const weight = tf.concat([tf.mul(w('query.weight'), scale), w('key.weight'), w('value.weight')], 0) as tf.Tensor2D;
    const bias = tf.concat([tf.mul(w('query.bias'), scale), w('key.bias'), w('value.bias')], 0);
    const qkv = tf.fused.matMul({ a: hidden, b: weight, transposeB: true, bias });
    const ctx = fusedAttention({ qkv: tf.reshape(qkv, [n, len, 3 * h]) }, null, keys, false, heads, [n, len, len]);
    return tf.reshape(ctx, [n * len, h]) as tf.Tensor2D;
  };
}

/** HF BertPooler: tanh(dense(last_hidden_state[:, 0])) (not used by FiD; exposed for parity). */
export function bertPooler(params: ParameterMap, lastHidden: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, , h] = lastHidden.shape;
    const cls = tf.reshape(tf.slice(lastHidden, [0, 0, 0], [n, 1, h]), [n, h]) as tf.Tensor2D;
    return tf.tanh(linear(cls, params, 'pooler.dense'));
  });
}
