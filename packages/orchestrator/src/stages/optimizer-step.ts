import * as tf from '@tensorflow/tfjs';
import { GradientAccumulator, clipCoefficient, globalGradNorm, type AdamW } from '@fidkd/core';

/** Loss and gradients (by parameter name) of one micro-batch; the step disposes the gradients. */
export interface MicroBatchGradients {
  loss: number;
  grads: Map<string, tf.Tensor>;
}

export interface OptimizerStepOptions {
  /** Learning rate of this update (schedule applied). */
  lr: number;
  /** clip_grad_norm_'s max_norm; 0 or less: no clipping (the norm is still measured). */
  clip: number;
  /** Also return each parameter's gradient norm (training parity names the tensor that differs). */
  tensorNorms?: boolean;
}

export interface OptimizerStepResult {
  /** Mean loss of the micro-batches. */
  loss: number;
  /** Total L2 norm of the (mean) gradient before clipping. */
  gradNorm: number;
  /** The factor clip_grad_norm_ multiplied the gradients by (1 when not clipped). */
  clipCoefficient: number;
  /** Per parameter, the L2 norm of its (mean) gradient before clipping, when asked for. */
  tensorNorms?: Map<string, number>;
}

/**
 * One optimizer update over `micro` micro-batches (FiD's `accumulation_steps`): each micro-batch's gradients, their
 * mean, clip_grad_norm_, one AdamW update. The mean is what one batch of all the micro-batches' examples gives: the
 * paper's batch (64 on 64 GPUs, which data-parallel training averages) and Hugging Face's Trainer; FiD's own
 * scripts call backward on undivided losses, i.e. sum the micro-batches, which only scales the gradient (clipping
 * and Adam's ε then see it `micro` times larger). Frees every gradient.
 */
export function accumulatedStep(
  vars: Map<string, tf.Variable>,
  optimizer: AdamW,
  micro: ReadonlyArray<() => MicroBatchGradients>,
  o: OptimizerStepOptions,
): OptimizerStepResult {
  if (micro.length === 0) throw new Error('accumulatedStep: no micro-batch');
  let grads: Map<string, tf.Tensor>;
  let loss = 0;
  if (micro.length === 1) {
    ({ loss, grads } = micro[0]!());
  } else {
    const acc = new GradientAccumulator();
    try {
      for (const gradientsOf of micro) {
        const r = gradientsOf();
        try {
          acc.add(r.grads);
        } finally {
          tf.dispose([...r.grads.values()]);
        }
        loss += r.loss;
      }
      grads = acc.mean();
    } finally {
      acc.dispose();
    }
    loss /= micro.length;
  }
  try {
    const gradNorm = globalGradNorm(grads.values());
    const coefficient = o.clip > 0 ? clipCoefficient(gradNorm, o.clip) : 1;
    const tensorNorms = o.tensorNorms ? new Map([...grads].map(([name, g]) => [name, globalGradNorm([g])])) : undefined;
    // AdamW applies the coefficient as it reads each gradient (clip_grad_norm_ without a scaled copy)
    optimizer.applyGradients(vars, grads, o.lr, coefficient);
    return { loss, gradNorm, clipCoefficient: coefficient, ...(tensorNorms ? { tensorNorms } : {}) };
  } finally {
    tf.dispose([...grads.values()]);
  }
}
