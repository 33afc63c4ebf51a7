import * as tf from '@tensorflow/tfjs';

/**
 * `torch.nn.utils.clip_grad_norm_` with the L2 norm: the total norm is the L2 norm of the per-gradient L2 norms
 * (= over all elements of all gradients); when it exceeds `maxNorm` every gradient is multiplied by
 * maxNorm / (totalNorm + 1e-6). Returns new tensors (the caller disposes them and, separately, its inputs) and
 * the total norm before clipping (NaN / Infinity are passed through, as PyTorch does by default).
 */
export function clipGradNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { grads: Map<string, tf.Tensor>; totalNorm: number } {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  let totalNorm = 0;
  if (grads.size > 0) {
    const norm = tf.tidy(() => tf.stack([...grads.values()].map((g) => tf.norm(g.asType('float32')))).norm());
    totalNorm = norm.dataSync()[0]!;
    norm.dispose();
  }
  const coef = Math.min(1, maxNorm / (totalNorm + 1e-6));
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) out.set(name, coef < 1 || Number.isNaN(coef) ? tf.tidy(() => g.mul(coef)) : g.clone());
  return { grads: out, totalNorm };
}
