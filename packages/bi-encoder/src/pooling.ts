/**
 * FiD Retriever.embed_text: optional projection (Linear + LayerNorm eps 1e-5) on every token state, then pooling —
 * [CLS] (position 0), masked mean over real tokens, or plain mean over all positions when the mask is off.
 */
import * as tf from '@tensorflow/tfjs';
import { layerNorm, linear, type ParameterMap } from './bert.js';
import { PROJECTION_LAYER_NORM_EPS } from './config.js';

export interface PoolingFlags {
  projection: boolean;
  extractCls: boolean;
  /** Whether the mask was applied (masked mean); false = mean over every position. */
  applyMask: boolean;
}

/** [N, L, hidden] token states (+ mask [N, L] when applyMask) → [N, d] text embeddings. */
export function poolEmbeddings(params: ParameterMap, hidden: tf.Tensor3D, mask: tf.Tensor2D | null, flags: PoolingFlags): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, len, h] = hidden.shape;
    let states: tf.Tensor3D = hidden;
    let width = h;
    if (flags.projection) {
      // As in FiD: project and normalise every token, then pool (LayerNorm does not commute with the mean).
      const projected = linear(tf.reshape(hidden, [n * len, h]) as tf.Tensor2D, params, 'proj');
      width = projected.shape[1];
      states = tf.reshape(layerNorm(projected, params, 'norm', PROJECTION_LAYER_NORM_EPS), [n, len, width]) as tf.Tensor3D;
    }
    if (flags.extractCls) return tf.reshape(tf.slice(states, [0, 0, 0], [n, 1, width]), [n, width]) as tf.Tensor2D;
    if (!flags.applyMask) return tf.mean(states, 1) as tf.Tensor2D;
    if (!mask) throw new Error('bi-encoder: masked mean pooling needs the attention mask');
    // Σ_t m_t·h_t / Σ_t m_t as one batched product: weights [N, 1, L] × states [N, L, d].
    const m = tf.cast(mask, 'float32');
    const weights = tf.div(m, tf.sum(m, 1, true));
    return tf.reshape(tf.matMul(tf.reshape(weights, [n, 1, len]), states), [n, width]) as tf.Tensor2D;
  });
}

/** S[b, j] = <q_b, p_(b·n + j)> / sqrt(d): each question against its own n passages. */
export function ownPassageScores(questions: tf.Tensor2D, passages: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, d] = questions.shape;
    const total = passages.shape[0];
    if (total % b !== 0) throw new Error(`bi-encoder: ${total} passage embeddings is not a multiple of ${b} questions`);
    const n = total / b;
    const p = tf.reshape(passages, [b, n, d]);
    const dots = tf.matMul(p, tf.reshape(questions, [b, d, 1])); // [b, n, 1]
    return tf.div(tf.reshape(dots, [b, n]), Math.sqrt(d)) as tf.Tensor2D;
  });
}
