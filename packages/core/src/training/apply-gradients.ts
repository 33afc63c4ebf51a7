import * as tf from '@tensorflow/tfjs';
import type { AdamW } from './adamw.js';
import { clipCoefficient, globalGradNorm } from './clip-grad-norm.js';

export interface ApplyVariableGradsOptions {
  /** Learning rate of this step (schedule already applied). */
  lr: number;
  /** Global-norm clipping threshold; 0 or less disables clipping (the norm is still reported). */
  maxGradNorm: number;
}

/**
 * The tail of every training step: maps the gradients of `tf.variableGrads` (keyed by tfjs variable name) back to
 * the parameter names of `vars`, clips them by global norm, applies AdamW and frees every gradient tensor.
 * Returns the global gradient norm before clipping.
 */
export function applyVariableGrads(
  optimizer: AdamW,
  vars: Map<string, tf.Variable>,
  grads: tf.NamedTensorMap,
  { lr, maxGradNorm }: ApplyVariableGradsOptions,
): number {
  const byName = new Map<string, tf.Tensor>();
  for (const [name, v] of vars) {
    const g = grads[v.name];
    if (g) byName.set(name, g);
  }
  const gradNorm = globalGradNorm(byName.values());
  // Clipping as clip_grad_norm_, applied by the optimizer as it reads each gradient instead of as a scaled copy
  optimizer.applyGradients(vars, byName, lr, maxGradNorm > 0 ? clipCoefficient(gradNorm, maxGradNorm) : 1);
  tf.dispose(Object.values(grads));
  return gradNorm;
}
