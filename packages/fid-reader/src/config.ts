/**
 * T5 configuration as the reader needs it, parsed from (and written back to) a Hugging Face `config.json`.
 * Field names follow HF's T5Config; defaults are HF's (and FiD-era configs', which lack
 * `feed_forward_proj` and `relative_attention_max_distance`).
 */
import { CheckpointError } from '@fidkd/core';

export interface T5Config {
  vocab_size: number;
  d_model: number;
  d_kv: number;
  num_heads: number;
  d_ff: number;
  num_layers: number;
  num_decoder_layers: number;
  relative_attention_num_buckets: number;
  /** 128 when absent (FiD-era configs). */
  relative_attention_max_distance: number;
  layer_norm_epsilon: number;
  /** `relu` (T5 v1.0: wi → relu → wo) or `gated-gelu` (T5 v1.1: gelu_new(wi_0 x) * wi_1 x → wo). */
  feed_forward_proj: 'relu' | 'gated-gelu';
  /** Tied: the LM head is `shared` and the decoder output is scaled by d_model^-0.5 first. */
  tie_word_embeddings: boolean;
  pad_token_id: number;
  eos_token_id: number;
  decoder_start_token_id: number;
  /** Dropout probability used by `trainStep` (HF's `dropout_rate`; 0 disables). */
  dropout_rate: number;
}

/** The keys a caller must give to `createT5Config`; every other field has HF's default. */
export type T5ConfigInit = Partial<T5Config> & Pick<T5Config, 'vocab_size' | 'd_model'>;

/** Builds a complete config from a partial one, with HF T5Config defaults (t5-small shapes). */
export function createT5Config(init: T5ConfigInit): T5Config {
  const c: T5Config = {
    d_kv: 64,
    num_heads: 8,
    d_ff: 2048,
    num_layers: 6,
    relative_attention_num_buckets: 32,
    relative_attention_max_distance: 128,
    layer_norm_epsilon: 1e-6,
    feed_forward_proj: 'relu',
    tie_word_embeddings: true,
    pad_token_id: 0,
    eos_token_id: 1,
    decoder_start_token_id: 0,
    dropout_rate: 0.1,
    ...init,
    num_decoder_layers: init.num_decoder_layers ?? init.num_layers ?? 6,
  };
  validateT5Config(c, 'T5 config');
  return c;
}

function positiveInt(v: unknown, key: string, source: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new CheckpointError(source, `"${key}" must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function nonNegInt(v: unknown, key: string, source: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new CheckpointError(source, `"${key}" must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Throws an error naming `source` and the key when a field is missing or out of range. */
export function validateT5Config(c: T5Config, source: string): void {
  for (const k of [
    'vocab_size',
    'd_model',
    'd_kv',
    'num_heads',
    'd_ff',
    'num_layers',
    'num_decoder_layers',
    'relative_attention_num_buckets',
    'relative_attention_max_distance',
  ] as const) {
    positiveInt(c[k], k, source);
  }
  for (const k of ['pad_token_id', 'eos_token_id', 'decoder_start_token_id'] as const) {
    nonNegInt(c[k], k, source);
    if (c[k] >= c.vocab_size) throw new CheckpointError(source, `"${k}" = ${c[k]} is outside the vocabulary (vocab_size ${c.vocab_size})`);
  }
  if (c.relative_attention_num_buckets < 4) {
    throw new CheckpointError(source, `"relative_attention_num_buckets" must be at least 4, got ${c.relative_attention_num_buckets}`);
  }
  if (typeof c.layer_norm_epsilon !== 'number' || !(c.layer_norm_epsilon > 0) || !Number.isFinite(c.layer_norm_epsilon)) {
    throw new CheckpointError(source, `"layer_norm_epsilon" must be a finite positive number, got ${String(c.layer_norm_epsilon)}`);
  }
  if (c.feed_forward_proj !== 'relu' && c.feed_forward_proj !== 'gated-gelu') {
    throw new CheckpointError(source, `"feed_forward_proj" must be "relu" or "gated-gelu", got ${JSON.stringify(c.feed_forward_proj)}`);
  }
  if (typeof c.tie_word_embeddings !== 'boolean') {
    throw new CheckpointError(source, `"tie_word_embeddings" must be a boolean, got ${JSON.stringify(c.tie_word_embeddings)}`);
  }
  if (typeof c.dropout_rate !== 'number' || !(c.dropout_rate >= 0 && c.dropout_rate < 1)) {
    throw new CheckpointError(source, `"dropout_rate" must be in [0, 1), got ${typeof c.dropout_rate === 'number' ? String(c.dropout_rate) : JSON.stringify(c.dropout_rate)}`);
  }
}

/**
 * Parses an HF T5 `config.json` object. `source` (usually the file path) prefixes every error.
 * `feed_forward_proj` absent → `relu`; `relative_attention_max_distance` absent → 128;
 * `num_decoder_layers` absent → `num_layers`; `tie_word_embeddings` absent → true.
 */
export function parseT5Config(json: Record<string, unknown>, source = 'config.json'): T5Config {
  if (json === null || typeof json !== 'object') throw new CheckpointError(source, `not a JSON object`);
  const mt = json['model_type'];
  if (mt !== undefined && mt !== 't5') throw new CheckpointError(source, `"model_type" is ${JSON.stringify(mt)}, expected "t5"`);
  const num = (k: string, dflt?: number): number => {
    const v = json[k];
    if (v === undefined || v === null) {
      if (dflt === undefined) throw new CheckpointError(source, `missing required key "${k}"`);
      return dflt;
    }
    if (typeof v !== 'number') throw new CheckpointError(source, `"${k}" must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  let ff = json['feed_forward_proj'] ?? 'relu';
  // HF maps "gated-gelu" to gelu_new; older v1.1 configs also spell it "gated-gelu_new".
  if (ff === 'gated-gelu_new') ff = 'gated-gelu';
  const numLayers = num('num_layers');
  const c: T5Config = {
    vocab_size: num('vocab_size'),
    d_model: num('d_model'),
    d_kv: num('d_kv'),
    num_heads: num('num_heads'),
    d_ff: num('d_ff'),
    num_layers: numLayers,
    num_decoder_layers: num('num_decoder_layers', numLayers),
    relative_attention_num_buckets: num('relative_attention_num_buckets', 32),
    relative_attention_max_distance: num('relative_attention_max_distance', 128),
    layer_norm_epsilon: num('layer_norm_epsilon', 1e-6),
    feed_forward_proj: ff as T5Config['feed_forward_proj'],
    tie_word_embeddings: (json['tie_word_embeddings'] ?? true) as boolean,
    pad_token_id: num('pad_token_id', 0),
    eos_token_id: num('eos_token_id', 1),
    decoder_start_token_id: num('decoder_start_token_id', 0),
    dropout_rate: num('dropout_rate', 0.1),
  };
  validateT5Config(c, source);
  return c;
}

/** The `config.json` object HF `transformers` loads as a T5ForConditionalGeneration (keys sorted). */
export function toHfConfig(c: T5Config): Record<string, unknown> {
  const gated = c.feed_forward_proj === 'gated-gelu';
  const out: Record<string, unknown> = {
    architectures: ['T5ForConditionalGeneration'],
    d_ff: c.d_ff,
    d_kv: c.d_kv,
    d_model: c.d_model,
    decoder_start_token_id: c.decoder_start_token_id,
    dense_act_fn: gated ? 'gelu_new' : 'relu',
    dropout_rate: c.dropout_rate,
    eos_token_id: c.eos_token_id,
    feed_forward_proj: c.feed_forward_proj,
    initializer_factor: 1.0,
    is_encoder_decoder: true,
    is_gated_act: gated,
    layer_norm_epsilon: c.layer_norm_epsilon,
    model_type: 't5',
    num_decoder_layers: c.num_decoder_layers,
    num_heads: c.num_heads,
    num_layers: c.num_layers,
    pad_token_id: c.pad_token_id,
    relative_attention_max_distance: c.relative_attention_max_distance,
    relative_attention_num_buckets: c.relative_attention_num_buckets,
    tie_word_embeddings: c.tie_word_embeddings,
    torch_dtype: 'float32',
    use_cache: true,
    vocab_size: c.vocab_size,
  };
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
}
