/** Seeded random initialisation as HF BertPreTrainedModel._init_weights does (N(0, 0.02), zero biases, LN = 1/0). */

/** mulberry32: a small, fast, seedable 32-bit PRNG (the same weights on every backend and platform). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `size` values from N(0, std²) with Box–Muller. */
export function normalArray(size: number, std: number, rand: () => number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const r = std * Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < size) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** Initial value of one canonical parameter. */
export function initialValue(name: string, shape: number[], rand: () => number, padTokenId: number, std = 0.02): Float32Array {
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
