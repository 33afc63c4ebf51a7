/**
 * T5 parameter names and shapes (Hugging Face layout, Linear weights [out, in]), name normalisation for the
 * official FiD checkpoints, validation against the config and seeded initialisation.
 */
import * as tf from '@tensorflow/tfjs';
import type { StateDict } from '@fidkd/core';
import type { T5Config } from './config.js';

/** One parameter: HF name, expected shape and the std of HF's `_init_weights` normal (0 = ones). */
export interface ParamSpec {
  name: string;
  shape: number[];
  initStd: number;
}

/** Every parameter the model owns, in a stable order (HF names; `shared.weight` is the embedding). */
export function t5ParamSpecs(c: T5Config): ParamSpec[] {
  const d = c.d_model;
  const inner = c.num_heads * c.d_kv;
  const specs: ParamSpec[] = [{ name: 'shared.weight', shape: [c.vocab_size, d], initStd: 1 }];
  const attn = (p: string, withBias: boolean): void => {
    specs.push({ name: `${p}.q.weight`, shape: [inner, d], initStd: (d * c.d_kv) ** -0.5 });
    specs.push({ name: `${p}.k.weight`, shape: [inner, d], initStd: d ** -0.5 });
    specs.push({ name: `${p}.v.weight`, shape: [inner, d], initStd: d ** -0.5 });
    specs.push({ name: `${p}.o.weight`, shape: [d, inner], initStd: inner ** -0.5 });
    if (withBias) {
      specs.push({ name: `${p}.relative_attention_bias.weight`, shape: [c.relative_attention_num_buckets, c.num_heads], initStd: d ** -0.5 });
    }
  };
  const ff = (p: string): void => {
    if (c.feed_forward_proj === 'gated-gelu') {
      specs.push({ name: `${p}.DenseReluDense.wi_0.weight`, shape: [c.d_ff, d], initStd: d ** -0.5 });
      specs.push({ name: `${p}.DenseReluDense.wi_1.weight`, shape: [c.d_ff, d], initStd: d ** -0.5 });
    } else {
      specs.push({ name: `${p}.DenseReluDense.wi.weight`, shape: [c.d_ff, d], initStd: d ** -0.5 });
    }
    specs.push({ name: `${p}.DenseReluDense.wo.weight`, shape: [d, c.d_ff], initStd: c.d_ff ** -0.5 });
    specs.push({ name: `${p}.layer_norm.weight`, shape: [d], initStd: 0 });
  };
  for (let i = 0; i < c.num_layers; i++) {
    const b = `encoder.block.${i}`;
    attn(`${b}.layer.0.SelfAttention`, i === 0);
    specs.push({ name: `${b}.layer.0.layer_norm.weight`, shape: [d], initStd: 0 });
    ff(`${b}.layer.1`);
  }
  specs.push({ name: 'encoder.final_layer_norm.weight', shape: [d], initStd: 0 });
  for (let i = 0; i < c.num_decoder_layers; i++) {
    const b = `decoder.block.${i}`;
    attn(`${b}.layer.0.SelfAttention`, i === 0);
    specs.push({ name: `${b}.layer.0.layer_norm.weight`, shape: [d], initStd: 0 });
    attn(`${b}.layer.1.EncDecAttention`, false);
    specs.push({ name: `${b}.layer.1.layer_norm.weight`, shape: [d], initStd: 0 });
    ff(`${b}.layer.2`);
  }
  specs.push({ name: 'decoder.final_layer_norm.weight', shape: [d], initStd: 0 });
  if (!c.tie_word_embeddings) specs.push({ name: 'lm_head.weight', shape: [c.vocab_size, d], initStd: 1 });
  return specs;
}

/**
 * Maps a checkpoint name to its HF name: the official FiD reader wraps the encoder (`encoder.encoder.…`) and
 * each encoder block in a checkpoint wrapper (`block.N.module.…`); DataParallel adds a leading `module.`.
 */
export function normalizeT5Name(name: string): string {
  let n = name.startsWith('module.') ? name.slice('module.'.length) : name;
  if (n.startsWith('encoder.encoder.')) n = n.slice('encoder.'.length);
  return n.replace(/\.module\./g, '.');
}

/** Names a T5 checkpoint may hold that the model deliberately does not use. */
function isIgnorable(name: string): boolean {
  // transformers 3.x (FiD's pin) saved a block-0 cross-attention bias that current HF ignores.
  return /^decoder\.block\.\d+\.layer\.1\.EncDecAttention\.relative_attention_bias\.weight$/.test(name);
}

/** Result of matching a state dict to the config: float32 values by HF name and what was left unused. */
export interface ResolvedWeights {
  values: Map<string, { shape: number[]; data: Float32Array }>;
  /** Checkpoint names that matched no parameter (besides the known-ignorable ones). */
  unexpected: string[];
}

function toFloat32(name: string, file: string, t: { dtype: string; data: ArrayLike<number> | BigInt64Array }): Float32Array {
  if (t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16' || t.dtype === 'F64') {
    return Float32Array.from(t.data as ArrayLike<number>);
  }
  throw new Error(`${file}: tensor "${name}" has dtype ${t.dtype}, expected a floating-point type`);
}

/**
 * Matches a checkpoint's tensors (HF or official FiD names) to the parameters the config needs.
 * The embedding comes from `shared.weight`, else `encoder.embed_tokens.weight`, else `decoder.embed_tokens.weight`.
 * A missing or misshaped tensor throws an error naming it and the expected shape.
 */
export function resolveT5Weights(tensors: StateDict, c: T5Config, file: string): ResolvedWeights {
  const byName = new Map<string, { original: string; t: StateDict extends Map<string, infer V> ? V : never }>();
  for (const [orig, t] of tensors) byName.set(normalizeT5Name(orig), { original: orig, t });
  const used = new Set<string>();
  const values = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const spec of t5ParamSpecs(c)) {
    let candidates = [spec.name];
    if (spec.name === 'shared.weight') candidates = ['shared.weight', 'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight'];
    const found = candidates.map((n) => byName.get(n)).find((x) => x !== undefined);
    if (!found) {
      throw new Error(
        `${file}: missing tensor "${spec.name}" (expected shape [${spec.shape.join(', ')}])` +
          (spec.name === 'lm_head.weight' ? ' — the config says tie_word_embeddings=false' : ''),
      );
    }
    const shape = found.t.shape;
    if (shape.length !== spec.shape.length || shape.some((s, i) => s !== spec.shape[i])) {
      throw new Error(
        `${file}: tensor "${found.original}" has shape [${shape.join(', ')}], expected [${spec.shape.join(', ')}] for "${spec.name}"`,
      );
    }
    values.set(spec.name, { shape: [...spec.shape], data: toFloat32(found.original, file, found.t) });
    used.add(found.original);
  }
  const unexpected: string[] = [];
  for (const [norm, { original }] of byName) {
    if (used.has(original) || isIgnorable(norm)) continue;
    // Embedding duplicates and a tied lm_head are the same tensor as shared.weight.
    if (norm === 'encoder.embed_tokens.weight' || norm === 'decoder.embed_tokens.weight') continue;
    if (norm === 'lm_head.weight' && c.tie_word_embeddings) continue;
    unexpected.push(original);
  }
  return { values, unexpected };
}

/** Seeded random initialisation following HF's T5 `_init_weights` (factor 1.0). */
export function initT5Weights(c: T5Config, seed: number): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  t5ParamSpecs(c).forEach((spec, i) => {
    // tfjs takes a seed of 0 as "no seed" (Math.random): the first parameter of seed 0 gets -1 instead.
    const tfSeed = seed * 1000 + i || -1;
    out.set(spec.name, spec.initStd === 0 ? tf.ones(spec.shape) : tf.randomNormal(spec.shape, 0, spec.initStd, 'float32', tfSeed));
  });
  return out;
}
