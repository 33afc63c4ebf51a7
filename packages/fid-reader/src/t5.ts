/**
 * The T5 encoder–decoder forward pass in tfjs ops, with the exact semantics of HF `transformers` T5:
 * RMS layer norm, pre-norm residual blocks, attention logits q·kᵀ without 1/sqrt(d_kv), relative position bias
 * from block 0 shared by all blocks, additive masks (1 − m)·finfo(float32).min, causal decoder self-attention,
 * cross-attention without position bias, tied head scaled by d_model^-0.5.
 * All functions are pure tensor functions: callers wrap them in tf.tidy.
 */
import * as tf from '@tensorflow/tfjs';
import type { T5Config } from './config.js';
import { bucketTable } from './position-bucket.js';
import { attentionBias, lookupRows, permute0213, reluFeedForward, rmsNorm, softmaxLast, t5Attention, t5SelfAttentionPacked, tokenNll, usesFusedAttention } from './kernels.js';

export { rmsNorm };

/** torch.finfo(torch.float32).min: HF's additive mask value. */
export const FLOAT32_MIN = -3.4028234663852886e38;

/** Read access to the parameters by HF name. */
export type T5Params = ReadonlyMap<string, tf.Tensor>;

/** Dropout settings for a training forward pass (none at inference). */
export interface ForwardOptions {
  dropoutRate?: number;
}

function p(params: T5Params, name: string): tf.Tensor {
  const t = params.get(name);
  if (!t) throw new Error(`T5 parameter "${name}" is missing`);
  return t;
}

function dropout(x: tf.Tensor, o: ForwardOptions): tf.Tensor {
  return o.dropoutRate && o.dropoutRate > 0 ? tf.dropout(x, o.dropoutRate) : x;
}

/** x [..., in] · Wᵀ with W stored [out, in] as in PyTorch. */
function linear(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const inDim = shape[shape.length - 1]!;
  const y = tf.matMul(tf.reshape(x, [-1, inDim]), w as tf.Tensor2D, false, true);
  return tf.reshape(y, [...shape.slice(0, -1), w.shape[0]!]);
}

/** [N, L, H*dkv] → [N, H, L, dkv] */
function splitHeads(x: tf.Tensor, h: number, dkv: number): tf.Tensor {
  const [n, l] = x.shape as [number, number, number];
  return permute0213(tf.reshape(x, [n, l, h, dkv]));
}

/** [N, H, L, dkv] → [N, L, H*dkv] */
function mergeHeads(x: tf.Tensor): tf.Tensor {
  const [n, h, l, dkv] = x.shape as [number, number, number, number];
  return tf.reshape(permute0213(x), [n, l, h * dkv]);
}

/**
 * Relative position bias [1, H, Lq, Lk] for queries at positions offset..offset+Lq−1 (compute_bias).
 * `weight` is block 0's relative_attention_bias [num_buckets, H].
 */
export function positionBias(
  weight: tf.Tensor,
  c: T5Config,
  queryLength: number,
  keyLength: number,
  bidirectional: boolean,
  offset = 0,
): tf.Tensor {
  const table = bucketTable(queryLength, keyLength, bidirectional, c.relative_attention_num_buckets, c.relative_attention_max_distance, offset);
  const idx = tf.tensor1d(table, 'int32');
  const g = lookupRows(weight, idx); // [Lq*Lk, H]
  return tf.expandDims(tf.transpose(tf.reshape(g, [queryLength, keyLength, c.num_heads]), [2, 0, 1]), 0);
}

/** Additive padding mask [N, 1, 1, L] from a 0/1 mask [N, L]. */
export function additiveMask(mask: tf.Tensor): tf.Tensor {
  const [n, l] = mask.shape as [number, number];
  return tf.reshape(tf.mul(tf.sub(1, tf.cast(mask, 'float32')), FLOAT32_MIN), [n, 1, 1, l]);
}

/**
 * Precomputed keys and values of one attention layer: [N, H, Lk, dkv] each, or with `tokenLayout` the
 * projections as they come, [N, Lk, H·dkv] (what the fused attention kernel reads).
 */
export interface KeyValue {
  k: tf.Tensor;
  v: tf.Tensor;
  tokenLayout?: boolean;
}

/** Projects `x` [N, Lk, d] to the keys and values of attention `prefix`. */
export function projectKeyValue(params: T5Params, prefix: string, x: tf.Tensor, c: T5Config): KeyValue {
  return {
    k: splitHeads(linear(x, p(params, `${prefix}.k.weight`)), c.num_heads, c.d_kv),
    v: splitHeads(linear(x, p(params, `${prefix}.v.weight`)), c.num_heads, c.d_kv),
  };
}

/**
 * T5Attention: returns the output [N, Lq, d] and the raw logits q·kᵀ [N, H, Lq, Lk] (before bias and mask,
 * which is what the FiD relevance scores aggregate).
 */
function attention(
  params: T5Params,
  prefix: string,
  x: tf.Tensor,
  kv: KeyValue,
  bias: tf.Tensor | null,
  c: T5Config,
  o: ForwardOptions,
): { out: tf.Tensor; logits: tf.Tensor } {
  const q = splitHeads(linear(x, p(params, `${prefix}.q.weight`)), c.num_heads, c.d_kv);
  const logits = tf.matMul(q, kv.k, false, true);
  const scores = bias ? tf.add(logits, bias) : logits;
  const probs = dropout(softmaxLast(scores), o);
  const ctx = mergeHeads(tf.matMul(probs, kv.v));
  return { out: linear(ctx, p(params, `${prefix}.o.weight`)), logits };
}

/**
 * Self-attention block output [N, L, d] of `x` [N, L, d]. Without dropout and where the fused attention
 * kernel is registered, q, k, v come from one matmul with [Wq; Wk; Wv] and stay in that layout, and attention
 * is one op with its own gradient; otherwise {@link attention} with the additive `bias` (built once per
 * forward by the caller).
 */
function selfAttention(
  params: T5Params,
  prefix: string,
  x: tf.Tensor,
  self: { pos: tf.Tensor; mask: Int32Array | null; causal: boolean; bias: () => tf.Tensor },
  c: T5Config,
  o: ForwardOptions,
): tf.Tensor {
  if (usesFusedAttention() && !(o.dropoutRate && o.dropoutRate > 0)) {
    const qkv = linear(x, tf.concat((['q', 'k', 'v'] as const).map((w) => p(params, `${prefix}.${w}.weight`)), 0));
    return linear(t5SelfAttentionPacked(qkv, self.pos, self.mask, self.causal, c.num_heads, FLOAT32_MIN), p(params, `${prefix}.o.weight`));
  }
  return attention(params, prefix, x, projectKeyValue(params, prefix, x, c), self.bias(), c, o).out;
}

/** Builds `make()` once, on first use. */
function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

/** Gaussian error linear unit, tanh approximation (HF gelu_new). */
function geluNew(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

function feedForward(params: T5Params, prefix: string, x: tf.Tensor, c: T5Config, o: ForwardOptions): tf.Tensor {
  let h: tf.Tensor;
  if (c.feed_forward_proj === 'gated-gelu') {
    h = tf.mul(geluNew(linear(x, p(params, `${prefix}.DenseReluDense.wi_0.weight`))), linear(x, p(params, `${prefix}.DenseReluDense.wi_1.weight`)));
  } else if (!(o.dropoutRate && o.dropoutRate > 0)) {
    const shape = x.shape;
    const wi = p(params, `${prefix}.DenseReluDense.wi.weight`) as tf.Tensor2D;
    const y = reluFeedForward(tf.reshape(x, [-1, shape[shape.length - 1]!]), wi, p(params, `${prefix}.DenseReluDense.wo.weight`) as tf.Tensor2D);
    return tf.reshape(y, shape);
  } else {
    h = tf.relu(linear(x, p(params, `${prefix}.DenseReluDense.wi.weight`)));
  }
  return linear(dropout(h, o), p(params, `${prefix}.DenseReluDense.wo.weight`));
}

function embed(params: T5Params, ids: tf.Tensor): tf.Tensor {
  return lookupRows(p(params, 'shared.weight'), ids);
}

/** T5 encoder over ids [N, L] with 0/1 mask [N, L] → last hidden state [N, L, d] (after final_layer_norm). */
export function encoderForward(params: T5Params, c: T5Config, ids: tf.Tensor, mask: Int32Array, o: ForwardOptions = {}): tf.Tensor {
  const [n, l] = ids.shape as [number, number];
  const eps = c.layer_norm_epsilon;
  let h = dropout(embed(params, ids), o);
  const pos = positionBias(p(params, 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'), c, l, l, true);
  const self = { pos, mask, causal: false, bias: lazy(() => attentionBias(pos, mask, n, c.num_heads, l, l, false, FLOAT32_MIN)) };
  for (let i = 0; i < c.num_layers; i++) {
    const b = `encoder.block.${i}`;
    const n0 = rmsNorm(h, p(params, `${b}.layer.0.layer_norm.weight`), eps);
    h = tf.add(h, dropout(selfAttention(params, `${b}.layer.0.SelfAttention`, n0, self, c, o), o));
    const n1 = rmsNorm(h, p(params, `${b}.layer.1.layer_norm.weight`), eps);
    h = tf.add(h, dropout(feedForward(params, `${b}.layer.1`, n1, c, o), o));
  }
  return dropout(rmsNorm(h, p(params, 'encoder.final_layer_norm.weight'), eps), o);
}

/**
 * Cross-attention keys/values of every decoder layer for an encoder output [B, S, d] (reused while generating).
 * `tokenLayout` keeps them as projected ([B, S, H·dkv]) for the fused attention kernel: the decoder then
 * returns no cross-attention logits (a training loss does not need them).
 */
export function crossKeyValues(params: T5Params, c: T5Config, encoderHidden: tf.Tensor, tokenLayout = false): KeyValue[] {
  const out: KeyValue[] = [];
  for (let i = 0; i < c.num_decoder_layers; i++) {
    const prefix = `decoder.block.${i}.layer.1.EncDecAttention`;
    out.push(tokenLayout
      ? { k: linear(encoderHidden, p(params, `${prefix}.k.weight`)), v: linear(encoderHidden, p(params, `${prefix}.v.weight`)), tokenLayout }
      : projectKeyValue(params, prefix, encoderHidden, c));
  }
  return out;
}

/**
 * Decoder output: last hidden state [B, T, d] and, per layer, the cross-attention logits [B, H, T, S] (none
 * when the cross keys/values came in token layout).
 */
export interface DecoderOutput {
  hidden: tf.Tensor;
  crossLogits: tf.Tensor[];
}

/**
 * T5 decoder over decoder_input_ids [B, T] attending `cross` (per-layer keys/values of the encoder output)
 * where the 0/1 encoder mask `encoderMask` [B, S] is 1.
 */
export function decoderForward(
  params: T5Params,
  c: T5Config,
  decoderIds: tf.Tensor,
  cross: KeyValue[],
  encoderMask: Int32Array,
  o: ForwardOptions = {},
): DecoderOutput {
  const [b, t] = decoderIds.shape as [number, number];
  const s = cross[0]!.k.shape[cross[0]!.tokenLayout ? 1 : 2]!;
  const eps = c.layer_norm_epsilon;
  let h = dropout(embed(params, decoderIds), o);
  const pos = positionBias(p(params, 'decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'), c, t, t, false);
  const self = { pos, mask: null, causal: true, bias: lazy(() => attentionBias(pos, null, b, c.num_heads, t, t, true, FLOAT32_MIN)) };
  const crossBias = lazy(() => attentionBias(null, encoderMask, b, c.num_heads, t, s, false, FLOAT32_MIN));
  const crossLogits: tf.Tensor[] = [];
  for (let i = 0; i < c.num_decoder_layers; i++) {
    const b = `decoder.block.${i}`;
    const n0 = rmsNorm(h, p(params, `${b}.layer.0.layer_norm.weight`), eps);
    h = tf.add(h, dropout(selfAttention(params, `${b}.layer.0.SelfAttention`, n0, self, c, o), o));
    const n1 = rmsNorm(h, p(params, `${b}.layer.1.layer_norm.weight`), eps);
    const ea = `${b}.layer.1.EncDecAttention`;
    const kv = cross[i]!;
    if (kv.tokenLayout) {
      if (o.dropoutRate && o.dropoutRate > 0) throw new Error('decoderForward: token-layout cross keys/values (the fused kernel) take no attention dropout');
      const q = linear(n1, p(params, `${ea}.q.weight`));
      h = tf.add(h, dropout(linear(t5Attention(q, kv.k, kv.v, null, encoderMask, false, c.num_heads, FLOAT32_MIN), p(params, `${ea}.o.weight`)), o));
    } else {
      const ca = attention(params, ea, n1, kv, crossBias(), c, o);
      crossLogits.push(ca.logits);
      h = tf.add(h, dropout(ca.out, o));
    }
    const n2 = rmsNorm(h, p(params, `${b}.layer.2.layer_norm.weight`), eps);
    h = tf.add(h, dropout(feedForward(params, `${b}.layer.2`, n2, c, o), o));
  }
  return { hidden: dropout(rmsNorm(h, p(params, 'decoder.final_layer_norm.weight'), eps), o), crossLogits };
}

/** LM head: [.., d] → [.., vocab]; tied heads rescale by d_model^-0.5 first (HF). */
export function lmLogits(params: T5Params, c: T5Config, hidden: tf.Tensor): tf.Tensor {
  if (c.tie_word_embeddings) return linear(tf.mul(hidden, c.d_model ** -0.5), p(params, 'shared.weight'));
  return linear(hidden, p(params, 'lm_head.weight'));
}

/**
 * Mean token cross-entropy over labels ≠ −100 (HF CrossEntropyLoss(ignore_index=-100)) and the per-token
 * losses [B, T] (0 at ignored positions). `labels` holds B·T ids row-major.
 */
export function tokenCrossEntropy(logits: tf.Tensor, labels: Int32Array): { loss: tf.Scalar; perToken: tf.Tensor } {
  let valid = 0;
  for (const y of labels) if (y !== -100) valid++;
  const perToken = tf.reshape(tokenNll(logits, labels), logits.shape.slice(0, -1));
  return { loss: tf.div(tf.sum(perToken), Math.max(valid, 1)) as tf.Scalar, perToken };
}
