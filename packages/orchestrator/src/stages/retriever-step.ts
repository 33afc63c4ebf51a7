import * as tf from '@tensorflow/tfjs';
import type { AdamW, TokenBatch } from '@fidkd/core';
import type { BiEncoder } from '@fidkd/bi-encoder';
import { answerSupervisedLoss, distillationLoss } from '@fidkd/losses';
import { accumulatedStep, type MicroBatchGradients, type OptimizerStepResult } from './optimizer-step.js';

/** One retriever training batch: B questions, their n passages each (row b·n + j), gold G or has_answer [B, n]. */
export interface RetrieverBatch {
  questions: TokenBatch;
  passages: TokenBatch;
  gold?: Float32Array;
  hasAnswer?: boolean[];
}

export interface RetrieverStepOptions {
  /** @fidkd/losses variant or family ('kl', 'kl_repo', 'mse', 'margin', …), or 'answer' for answerSupervisedLoss. */
  loss: string;
  gamma?: number;
  temperatureGold?: number;
  temperatureScore?: number;
  lr: number;
  clip: number;
  /**
   * Also score each question against the other questions' passages of the batch, as passages it should rank
   * below its own: gold −1e4 (KL: target mass 0), below every own passage (margin), has_answer false (answer
   * loss). MSE has no sensible target for them and ignores this option. Not in the paper's training (which uses
   * only the question's own n passages); it lets a retriever trained from scratch also learn to tell entities
   * apart, which the paper's pretrained BERT already can.
   */
  inBatchNegatives: boolean;
  /** Also return each parameter's gradient norm. */
  tensorNorms?: boolean;
}

/**
 * One optimisation step of the bi-encoder: S(q, p) = E(q)·E(p)/sqrt(d) over the question's passages (and the
 * batch's other passages with `inBatchNegatives`), the distillation or answer-supervised loss, global-norm
 * clipping, AdamW. Several batches are micro-batches of one step (gradient accumulation: their mean gradient; in-batch
 * negatives stay within a micro-batch). Deterministic (no dropout: the caller's model config decides; dropout is not
 * applied here). Works on every backend: losses and gradient norm stay on the device until the step's end, then
 * one read.
 */
export function retrieverStep(model: BiEncoder, optimizer: AdamW, batch: RetrieverBatch | RetrieverBatch[], o: RetrieverStepOptions): Promise<OptimizerStepResult> {
  const vars = model.trainableParameters();
  const micro = Array.isArray(batch) ? batch : [batch];
  return accumulatedStep(vars, optimizer, micro.map((b) => () => retrieverGradients(model, vars, b, o)), { lr: o.lr, clip: o.clip, tensorNorms: o.tensorNorms });
}

/** Loss and gradients (by parameter name) of one batch. */
function retrieverGradients(model: BiEncoder, vars: Map<string, tf.Variable>, batch: RetrieverBatch, o: RetrieverStepOptions): MicroBatchGradients {
  const b = batch.questions.count;
  const n = batch.passages.count / b;
  const useAll = o.inBatchNegatives && !/^mse/.test(o.loss);
  const cols = useAll ? b * n : n;
  // targets over the scored columns
  const target = new Float32Array(b * cols);
  if (o.loss === 'answer') {
    for (let q = 0; q < b; q++) for (let j = 0; j < n; j++) target[q * cols + (useAll ? q * n + j : j)] = batch.hasAnswer![q * n + j] ? 1 : 0;
  } else {
    const isMargin = /^margin/.test(o.loss);
    for (let q = 0; q < b; q++) {
      const own = batch.gold!.subarray(q * n, (q + 1) * n);
      const low = isMargin ? Math.min(...own) - 1 : -1e4;
      if (useAll) target.fill(low, q * cols, (q + 1) * cols);
      for (let j = 0; j < n; j++) target[q * cols + (useAll ? q * n + j : j)] = own[j]!;
    }
  }
  const { value, grads } = tf.variableGrads(() => {
    const qe = model.embedRows(batch.questions, 'question');
    const pe = model.embedRows(batch.passages, 'passage');
    const d = qe.shape[1];
    let s: tf.Tensor2D;
    if (useAll) {
      s = tf.div(tf.matMul(qe, pe, false, true), Math.sqrt(d)) as tf.Tensor2D;
    } else {
      const dots = tf.matMul(tf.reshape(pe, [b, n, d]), tf.reshape(qe, [b, d, 1]));
      s = tf.div(tf.reshape(dots, [b, n]), Math.sqrt(d)) as tf.Tensor2D;
    }
    const t = tf.tensor2d(target, [b, cols]);
    return o.loss === 'answer'
      ? answerSupervisedLoss(s, t)
      : distillationLoss(s, t, { variant: o.loss as never, gamma: o.gamma, temperatureGold: o.temperatureGold, temperatureScore: o.temperatureScore });
  }, [...vars.values()]);
  const byName = new Map<string, tf.Tensor>();
  for (const [name, v] of vars) {
    const g = grads[v.name];
    if (g) byName.set(name, g);
  }
  return { loss: value, grads: byName };
}
