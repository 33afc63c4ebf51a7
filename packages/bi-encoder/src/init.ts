/** Seeded random initialisation as HF BertPreTrainedModel._init_weights does (N(0, 0.02), zero biases, LN = 1/0). */
import { normalArray, type UniformSource } from '@fidkd/core';

/** Initial value of one canonical parameter. */
export function initialValue(name: string, shape: number[], rand: UniformSource, padTokenId: number, std = 0.02): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (name.endsWith('LayerNorm.weight') || name === 'norm.weight') return new Float32Array(size).fill(1);
  if (name.endsWith('.bias')) return new Float32Array(size);
  const w = normalArray(size, std, rand);
  // nn.Embedding(padding_idx=pad_token_id): the pad row starts at zero.
  if (name === 'embeddings.word_embeddings.weight' && padTokenId >= 0 && padTokenId < shape[0]!) {
    w.fill(0, padTokenId * shape[1]!, (padTokenId + 1) * shape[1]!);
  }
  return w;
}
