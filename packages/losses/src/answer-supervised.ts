import * as tf from '@tensorflow/tfjs';

/**
 * The answer-string supervised baseline (DPR-style, the signal the paper argues is noisy): for each question q
 * with at least one passage containing the answer,
 *
 *   L_q = −log Σ_{p : hasAnswer[q,p]} softmax(S[q, :])_p = logsumexp_p S[q,p] − logsumexp_{p has answer} S[q,p],
 *
 * and the loss is the mean of L_q over the questions that have a positive. Questions without any positive are
 * skipped (they carry no signal); if no question has one the loss is 0 (with zero gradient).
 *
 * `hasAnswer` is [Q, P], either a tensor (non-zero = has answer) or a flat row-major array of Q*P values.
 */
export function answerSupervisedLoss(
  scores: tf.Tensor2D,
  hasAnswer: tf.Tensor2D | ArrayLike<number | boolean>,
): tf.Scalar {
  if (scores.rank !== 2) throw new Error(`answerSupervisedLoss: scores must be [question, passage], got rank ${scores.rank}`);
  const [q, p] = scores.shape;
  return tf.tidy(() => {
    let pos: tf.Tensor2D;
    if (hasAnswer instanceof tf.Tensor) {
      if (hasAnswer.rank !== 2 || hasAnswer.shape[0] !== q || hasAnswer.shape[1] !== p) {
        throw new Error(`answerSupervisedLoss: hasAnswer shape [${hasAnswer.shape.join(', ')}] differs from scores shape [${q}, ${p}]`);
      }
      pos = tf.step(tf.abs(tf.cast(hasAnswer, 'float32'))) as tf.Tensor2D;
    } else {
      if (hasAnswer.length !== q * p) {
        throw new Error(`answerSupervisedLoss: hasAnswer has ${hasAnswer.length} values, expected ${q}*${p} = ${q * p}`);
      }
      pos = tf.tensor2d(Float32Array.from(Array.from(hasAnswer, (v) => (v ? 1 : 0))), [q, p]);
    }
    const s = scores.toFloat();
    // A finite large negative (not -inf) keeps rows without positives finite; their weight is 0 anyway.
    const maskedS = tf.add(s, tf.mul(tf.sub(1, pos), -1e9));
    const perQuestion = tf.sub(tf.logSumExp(s, 1), tf.logSumExp(maskedS, 1)); // [Q]
    const hasPos = tf.step(tf.sum(pos, 1));
    const n = tf.maximum(tf.sum(hasPos), 1);
    return tf.div(tf.sum(tf.mul(perQuestion, hasPos)), n) as tf.Scalar;
  });
}
