/**
 * Relevance scores G[q, p] from the reader's cross-attention (the teacher signal of the distillation).
 * Default = FiDT5.get_crossattention_scores of the official code: pre-softmax cross-attention logits of the first
 * decoding step, padded tokens zeroed, summed over heads, decoder layers and the passage's tokens, divided by
 * (real tokens × layers × heads).
 */
import * as tf from '@tensorflow/tfjs';

/** How to aggregate cross-attention into one score per passage. */
export interface PassageScoreOptions {
  /**
   * `pre` (official): raw q·kᵀ logits; `post`: softmax probabilities over all n·L encoder positions
   * (the paper's alternative).
   */
  softmax?: 'pre' | 'post';
  /**
   * `first` (official): the first decoding step only (decoder start token, no labels needed);
   * `all`: mean over every teacher-forced decoder position whose label is not −100 (needs `labels`).
   */
  positions?: 'first' | 'all';
  /** Decoder layer indices to aggregate (default: all layers). */
  layers?: number[];
}

/** Resolves the options against the number of decoder layers, with the official defaults. */
export function resolveScoreOptions(o: PassageScoreOptions, numDecoderLayers: number): Required<PassageScoreOptions> {
  const layers = o.layers ?? Array.from({ length: numDecoderLayers }, (_, i) => i);
  if (layers.length === 0) throw new Error('passage scores: "layers" must name at least one decoder layer');
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= numDecoderLayers) {
      throw new Error(`passage scores: layer ${l} is out of range (the decoder has ${numDecoderLayers} layers)`);
    }
  }
  const softmax = o.softmax ?? 'pre';
  const positions = o.positions ?? 'first';
  if (softmax !== 'pre' && softmax !== 'post') throw new Error(`passage scores: softmax must be "pre" or "post", got ${JSON.stringify(softmax)}`);
  if (positions !== 'first' && positions !== 'all') throw new Error(`passage scores: positions must be "first" or "all", got ${JSON.stringify(positions)}`);
  return { softmax, positions, layers };
}

/**
 * Aggregates per-layer cross-attention logits [B, H, T, S] (S = n·L, passage-major) into scores [B, n].
 * `mask` [B, S] is the 0/1 encoder mask, `maskAdd` [B, 1, 1, S] the additive one (for the softmax),
 * `positionWeights` [B, T] selects/weights the decoder positions (each row sums to > 0).
 * A passage without real tokens scores 0 (the official code would divide by zero).
 */
export function aggregatePassageScores(
  crossLogits: tf.Tensor[],
  mask: tf.Tensor,
  maskAdd: tf.Tensor,
  positionWeights: tf.Tensor,
  nContext: number,
  softmax: 'pre' | 'post',
): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, h, , s] = crossLogits[0]!.shape as [number, number, number, number];
    const l = s / nContext;
    const maps = crossLogits.map((x) => (softmax === 'post' ? tf.softmax(tf.add(x, maskAdd), -1) : x));
    const summed = tf.sum(tf.stack(maps), [0, 2]); // [B, T, S]
    const w = tf.cast(positionWeights, 'float32');
    const perPos = tf.sum(tf.mul(summed, tf.expandDims(w, 2)), 1); // [B, S]
    const nPos = tf.sum(w, 1, true); // [B, 1]
    const m = tf.cast(mask, 'float32');
    const perPassage = tf.sum(tf.reshape(tf.mul(perPos, m), [b, nContext, l]), 2);
    const nTok = tf.sum(tf.reshape(m, [b, nContext, l]), 2);
    const denom = tf.mul(tf.mul(nTok, crossLogits.length * h), nPos);
    return tf.where(tf.greater(nTok, 0), tf.div(perPassage, tf.maximum(denom, 1e-30)), tf.zerosLike(perPassage)) as tf.Tensor2D;
  });
}
