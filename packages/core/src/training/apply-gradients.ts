import * as tf from '@tensorflow/tfjs';
import { AdamW } from './adamw.js';
import { clipCoefficient, clipCoefficientTensor, globalGradNorm, globalGradNormTensor } from './clip-grad-norm.js';
import type { DeviceNumber } from '../backend/reads.js';
import { assertSyncReads, hostBackend } from '../backend/sync-reads.js';

export interface ApplyVariableGradsOptions {
  /** Learning rate of this step (schedule already applied). */
  lr: number;
  /** Global-norm clipping threshold; 0 or less disables clipping (the norm is still reported). */
  maxGradNorm: number;
}

/** Anything with AdamW's `applyGradients` (core's AdamW satisfies it; it also takes a tensor scale). */
export interface GradientOptimizer {
  applyGradients(vars: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr?: number): void;
}

/** The gradients of `tf.variableGrads` (keyed by tfjs variable name) under the parameter names of `vars`. */
function byParameterName(vars: Map<string, tf.Variable>, grads: tf.NamedTensorMap): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, v] of vars) {
    const g = grads[v.name];
    if (g) out.set(name, g);
  }
  return out;
}

/**
 * Clips `grads` (by parameter name) by global norm as clip_grad_norm_ and applies the optimizer; the gradients are
 * read, not disposed. Returns the global norm before clipping (none when `maxGradNorm` is undefined; 0 or less
 * reports it without clipping). On host backends (cpu, wasm, tensorflow) the norm is a number and the clipping
 * factor is applied by core's AdamW as it reads each gradient, as {@link applyVariableGrads} does; on the others
 * (webgpu) norm and factor stay on the device, so the step needs no read-back: read the norm with `readNumbers`.
 */
export function applyClippedGradients(
  optimizer: GradientOptimizer,
  vars: Map<string, tf.Variable>,
  grads: Map<string, tf.Tensor>,
  { lr, maxGradNorm }: { lr?: number; maxGradNorm?: number },
): DeviceNumber | undefined {
  if (maxGradNorm === undefined) {
    optimizer.applyGradients(vars, grads, lr);
    return undefined;
  }
  const clip = maxGradNorm > 0;
  if (hostBackend()) {
    const norm = globalGradNorm(grads.values());
    const coef = clip ? clipCoefficient(norm, maxGradNorm) : 1;
    applyScaled(optimizer, vars, grads, lr, coef);
    return norm;
  }
  const norm = globalGradNormTensor(grads.values());
  if (!clip) {
    optimizer.applyGradients(vars, grads, lr);
    return norm;
  }
  const coef = clipCoefficientTensor(norm, maxGradNorm);
  try {
    applyScaled(optimizer, vars, grads, lr, coef);
  } finally {
    coef.dispose();
  }
  return norm;
}

/** Applies `grads` × `scale`: core's AdamW scales as it reads each gradient, another optimizer gets scaled copies. */
function applyScaled(optimizer: GradientOptimizer, vars: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number | undefined, scale: number | tf.Scalar): void {
  if (optimizer instanceof AdamW) {
    optimizer.applyGradients(vars, grads, lr, scale);
    return;
  }
  if (scale === 1) {
    optimizer.applyGradients(vars, grads, lr);
    return;
  }
  const scaled = new Map([...grads].map(([k, g]) => [k, tf.mul(g, scale)]));
  try {
    optimizer.applyGradients(vars, scaled, lr);
  } finally {
    tf.dispose([...scaled.values()]);
  }
}

/**
 * The tail of every training step: maps the gradients of `tf.variableGrads` (keyed by tfjs variable name) back to
 * the parameter names of `vars`, clips them by global norm, applies AdamW and frees every gradient tensor.
 * Returns the global norm before clipping: a number on host backends, a scalar tensor on the device elsewhere
 * (see {@link applyClippedGradients}; `readNumbers` reads it with the step's loss in one transfer).
 */
export function applyVariableGradsOnDevice(
  optimizer: AdamW,
  vars: Map<string, tf.Variable>,
  grads: tf.NamedTensorMap,
  { lr, maxGradNorm }: ApplyVariableGradsOptions,
): DeviceNumber {
  try {
    return applyClippedGradients(optimizer, vars, byParameterName(vars, grads), { lr, maxGradNorm })!;
  } finally {
    tf.dispose(Object.values(grads));
  }
}

/**
 * {@link applyVariableGradsOnDevice} returning the norm as a number (read synchronously: cpu, wasm, tensorflow
 * backends; on webgpu call applyVariableGradsOnDevice and read the norm with `readNumbers`).
 */
export function applyVariableGrads(
  optimizer: AdamW,
  vars: Map<string, tf.Variable>,
  grads: tf.NamedTensorMap,
  options: ApplyVariableGradsOptions,
): number {
  assertSyncReads('applyVariableGrads', 'applyVariableGradsOnDevice and readNumbers');
  const norm = applyVariableGradsOnDevice(optimizer, vars, grads, options);
  if (typeof norm === 'number') return norm;
  const value = norm.dataSync()[0]!;
  norm.dispose();
  return value;
}
