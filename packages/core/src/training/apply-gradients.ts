import * as tf from '@tensorflow/tfjs';
import type { AdamW } from './adamw.js';
import { clipGradNorm } from './clip-grad-norm.js';

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
  let applied = byName;
  let gradNorm: number;
  if (maxGradNorm > 0) {
    const clipped = clipGradNorm(byName, maxGradNorm);
    applied = clipped.grads;
    gradNorm = clipped.totalNorm;
  } else {
    gradNorm = tf.tidy(() => Math.sqrt(tf.addN([...byName.values()].map((g) => tf.sum(tf.square(g)))).dataSync()[0]!));
  }
  optimizer.applyGradients(vars, applied, lr);
  tf.dispose(Object.values(grads));
  if (applied !== byName) tf.dispose([...applied.values()]);
  return gradNorm;
}
