import * as tf from '@tensorflow/tfjs';
import { FUSED_SUM_SQUARES_KERNEL, fusedSumSquares, hasFusedKernels } from '../backend/fused-kernels.js';
import { assertSyncReads } from '../backend/sync-reads.js';

/**
 * The L2 norm over all elements of all gradients (torch's total_norm of clip_grad_norm_): through the fused
 * sum-of-squares kernel where @fidkd/tfjs-blas registered it (one pass, summed in double), else the norm of the
 * per-gradient norms in tf ops.
 */
export function globalGradNorm(grads: Iterable<tf.Tensor>): number {
  assertSyncReads('globalGradNorm', 'globalGradNormTensor');
  const list = [...grads];
  if (list.length === 0) return 0;
  if (hasFusedKernels(FUSED_SUM_SQUARES_KERNEL) && list.every((g) => g.dtype === 'float32')) return Math.sqrt(fusedSumSquares(list));
  const norm = tf.tidy(() => tf.stack(list.map((g) => tf.norm(g.asType('float32')))).norm());
  const value = norm.dataSync()[0]!;
  norm.dispose();
  return value;
}

/**
 * {@link globalGradNorm} as a scalar tensor, computed on the device (no read-back); the caller disposes it. Where
 * the fused kernel is registered (the cpu backend) it is the kernel's double-precision sum, rounded to float32.
 */
export function globalGradNormTensor(grads: Iterable<tf.Tensor>): tf.Scalar {
  const list = [...grads];
  if (list.length === 0) return tf.scalar(0);
  if (hasFusedKernels(FUSED_SUM_SQUARES_KERNEL) && list.every((g) => g.dtype === 'float32')) return tf.scalar(Math.sqrt(fusedSumSquares(list)));
  return tf.tidy(() => tf.stack(list.map((g) => tf.norm(g.asType('float32')))).norm() as tf.Scalar);
}

/**
 * The factor clip_grad_norm_ multiplies every gradient by: maxNorm / (totalNorm + 1e-6) when that is below 1 (NaN
 * too, as torch propagates it), else exactly 1 (gradients left as they are).
 */
export function clipCoefficient(totalNorm: number, maxNorm: number): number {
  const coef = Math.min(1, maxNorm / (totalNorm + 1e-6));
  return coef < 1 || Number.isNaN(coef) ? coef : 1;
}

/** {@link clipCoefficient} of a norm held as a scalar tensor, as a scalar tensor (float32; NaN propagates). */
export function clipCoefficientTensor(totalNorm: tf.Scalar, maxNorm: number): tf.Scalar {
  return tf.tidy(() => {
    const coef = tf.div(maxNorm, tf.add(totalNorm, 1e-6));
    // `greater` is false for NaN, which therefore passes through as torch's clamp passes it
    return tf.where(tf.greater(coef, 1), tf.onesLike(coef), coef) as tf.Scalar;
  });
}

/**
 * `torch.nn.utils.clip_grad_norm_` with the L2 norm: the total norm is the L2 norm of the per-gradient L2 norms
 * (= over all elements of all gradients); when it exceeds `maxNorm` every gradient is multiplied by
 * maxNorm / (totalNorm + 1e-6). Returns new tensors (the caller disposes them and, separately, its inputs) and
 * the total norm before clipping (NaN / Infinity are passed through, as PyTorch does by default).
 */
export function clipGradNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { grads: Map<string, tf.Tensor>; totalNorm: number } {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const totalNorm = globalGradNorm(grads.values());
  const coef = clipCoefficient(totalNorm, maxNorm);
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) out.set(name, coef !== 1 ? tf.tidy(() => g.mul(coef)) : g.clone());
  return { grads: out, totalNorm };
}
