import * as tf from '@tensorflow/tfjs';
import {
  GradientAccumulator, applyClippedGradients, clipCoefficient, globalGradNorm, globalGradNormTensor, hostBackend, readNumbers,
  type AdamW, type DeviceNumber,
} from '@fidkd/core';

/**
 * Loss and gradients (by parameter name) of one micro-batch; the step disposes the gradients. The loss may stay
 * on the device (a scalar tensor, read with the step's other numbers in one transfer at its end).
 */
export interface MicroBatchGradients {
  loss: DeviceNumber;
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
export async function accumulatedStep(
  vars: Map<string, tf.Variable>,
  optimizer: AdamW,
  micro: ReadonlyArray<() => MicroBatchGradients>,
  o: OptimizerStepOptions,
): Promise<OptimizerStepResult> {
  if (micro.length === 0) throw new Error('accumulatedStep: no micro-batch');
  // every number of the step (micro-batch losses, norms) stays where it was computed until one read at the end:
  // no device round trip per micro-batch on webgpu, plain numbers on host backends
  const losses: DeviceNumber[] = [];
  let grads: Map<string, tf.Tensor>;
  let tensorNorms: DeviceNumber[] = [];
  try {
    if (micro.length === 1) {
      const r = micro[0]!();
      losses.push(r.loss);
      grads = r.grads;
    } else {
      const acc = new GradientAccumulator();
      try {
        for (const gradientsOf of micro) {
          const r = gradientsOf();
          losses.push(r.loss);
          try {
            acc.add(r.grads);
          } finally {
            tf.dispose([...r.grads.values()]);
          }
        }
        grads = acc.mean();
      } finally {
        acc.dispose();
      }
    }
    let norm: DeviceNumber;
    try {
      if (o.tensorNorms) tensorNorms = [...grads.values()].map((g) => (hostBackend() ? globalGradNorm([g]) : globalGradNormTensor([g])));
      // clip_grad_norm_ (0 or less: measured, not clipped); AdamW applies the coefficient as it reads each gradient
      norm = applyClippedGradients(optimizer, vars, grads, { lr: o.lr, maxGradNorm: o.clip })!;
    } finally {
      tf.dispose([...grads.values()]);
    }
    const names = [...grads.keys()];
    const values = await readNumbers([norm, ...tensorNorms.splice(0), ...losses.splice(0)]);
    const gradNorm = values[0]!;
    const perTensor = values.slice(1, 1 + (o.tensorNorms ? names.length : 0));
    let loss = 0;
    for (const v of values.slice(1 + perTensor.length)) loss += v!;
    loss /= micro.length;
    const coefficient = o.clip > 0 ? clipCoefficient(gradNorm, o.clip) : 1;
    return {
      loss, gradNorm, clipCoefficient: coefficient,
      ...(o.tensorNorms ? { tensorNorms: new Map(names.map((name, i) => [name, perTensor[i]!])) } : {}),
    };
  } finally {
    // what an error left unread
    tf.dispose([...losses, ...tensorNorms].filter((v): v is tf.Scalar => typeof v !== 'number'));
  }
}
