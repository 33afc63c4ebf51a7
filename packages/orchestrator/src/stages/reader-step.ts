import type { AdamW, ReaderBatch } from '@fidkd/core';
import type { FiDReader } from '@fidkd/fid-reader';
import { accumulatedStep, type OptimizerStepResult } from './optimizer-step.js';

export interface ReaderStepOptions {
  lr: number;
  /** clip_grad_norm_'s max_norm (FiD `--clip`); 0: no clipping. */
  clip: number;
  /** Dropout probability; default the reader config's `dropout_rate` (FiD trains with model.train()). */
  dropout?: number;
  /** Also return each parameter's gradient norm. */
  tensorNorms?: boolean;
}

/**
 * One optimizer step of the FiD reader over its micro-batches (teacher-forced mean token cross-entropy of each,
 * the mean gradient, clip_grad_norm_, AdamW): train-reader's step and `fidkd parity --train-steps`'s.
 */
export function readerStep(reader: FiDReader, optimizer: AdamW, micro: ReaderBatch[], o: ReaderStepOptions): Promise<OptimizerStepResult> {
  // the loss stays on the device until the step's end (every backend, webgpu included)
  return accumulatedStep(reader.variables, optimizer, micro.map((batch) => () => reader.lossAndGradients(batch, { dropout: o.dropout })), o);
}
