/**
 * Retriever training: S = scores of each question against its n passages, loss against the gold scores G
 * (@fidkd/losses, default kl_repo as in FiD) or the answer-supervised baseline, core's AdamW with FiD's
 * linear warmup/decay schedule and gradient-norm clipping.
 */
import * as tf from '@tensorflow/tfjs';
import { AdamW, applyVariableGradsOnDevice, linearWarmupDecay, readNumbersTask, runReadTask, runReadTaskSync, type DeviceNumber, type ReadTask, type TokenBatch } from '@fidkd/core';
import { answerSupervisedLoss, distillationLoss, type DistillationFamily, type DistillationVariant } from '@fidkd/losses';
import type { BiEncoder } from './bi-encoder.js';
import type { DropoutSpec } from './bert.js';
import { ownPassageScores } from './pooling.js';
import { checkTokenBatch } from './token-batch.js';

export interface RetrieverTrainBatch {
  /** B questions [B, Lq]. */
  questions: TokenBatch;
  /** B*n passages [B*n, Lp]; passage j of question b at row b*n + j. */
  passages: TokenBatch;
  /** Gold (reader) scores G, row-major [B, n]; required by the distillation losses. */
  gold?: Float32Array | ArrayLike<number>;
  /** Has-answer flags [B, n] (non-zero = the passage contains an answer); required by loss 'answer'. */
  hasAnswer?: ArrayLike<number | boolean>;
}

export interface RetrieverTrainOptions {
  /** Distillation variant / family, or 'answer' for the answer-supervised baseline (default 'kl_repo'). */
  loss?: DistillationVariant | DistillationFamily | 'answer';
  gamma?: number;
  temperatureGold?: number;
  temperatureScore?: number;
  /** Peak learning rate (default 1e-4, FiD's). Read at the first step only, like the fields below. */
  lr?: number;
  /** AdamW weight decay (default 0.1, FiD's --weight_decay). */
  weightDecay?: number;
  /** Linear warmup steps (default 0). */
  warmupSteps?: number;
  /** Steps of the linear decay; omitted = constant learning rate after warmup. */
  totalSteps?: number;
  /** Final lr ratio of the decay (default 0). */
  minRatio?: number;
  /** Gradient-norm clipping (default 1, FiD's --clip; 0 = off). */
  maxGradNorm?: number;
  /** Apply the config's dropout (hidden / attention) during training (default true, as FiD does). */
  dropout?: boolean;
  /** Seed of the dropout masks (default 0). */
  seed?: number;
}

export interface TrainStepResult {
  loss: number;
  /** Gradient norm before clipping. */
  gradNorm: number;
  /** Learning rate used for this step. */
  lr: number;
  /** Optimizer steps done after this one. */
  step: number;
}

export class RetrieverTrainer {
  readonly optimizer: AdamW;
  private readonly schedule: (step: number) => number;
  private readonly baseLr: number;
  private readonly maxGradNorm: number;
  private readonly dropout: boolean;
  private seedCounter: number;

  constructor(
    private readonly model: BiEncoder,
    options: RetrieverTrainOptions = {},
  ) {
    this.baseLr = options.lr ?? 1e-4;
    this.optimizer = new AdamW({ lr: this.baseLr, weightDecay: options.weightDecay ?? 0.1 });
    const warmupSteps = options.warmupSteps ?? 0;
    this.schedule = options.totalSteps !== undefined
      ? linearWarmupDecay({ warmupSteps, totalSteps: options.totalSteps, minRatio: options.minRatio ?? 0 })
      : (step: number) => (warmupSteps > 0 && step < warmupSteps ? step / warmupSteps : 1);
    this.maxGradNorm = options.maxGradNorm ?? 1;
    this.dropout = options.dropout ?? true;
    this.seedCounter = (options.seed ?? 0) * 1_000_003;
  }

  /**
   * One step; loss options may change from call to call, the optimizer options are those of the constructor.
   * Reads synchronously (cpu, wasm, tensorflow backends); {@link stepAsync} works on every backend.
   */
  step(batch: RetrieverTrainBatch, options: RetrieverTrainOptions = {}): TrainStepResult {
    return runReadTaskSync(this.stepTask(batch, options), 'RetrieverTrainer.step', 'stepAsync (BiEncoder.trainStepAsync)');
  }

  /** {@link step} on every backend (webgpu included): loss and gradient norm are read once, at the step's end. */
  stepAsync(batch: RetrieverTrainBatch, options: RetrieverTrainOptions = {}): Promise<TrainStepResult> {
    return runReadTask(this.stepTask(batch, options));
  }

  private *stepTask(batch: RetrieverTrainBatch, options: RetrieverTrainOptions): ReadTask<TrainStepResult> {
    const { questions, passages } = batch;
    checkTokenBatch(questions, 'trainStep (questions)');
    checkTokenBatch(passages, 'trainStep (passages)');
    const b = questions.count;
    if (b === 0 || passages.count % b !== 0) throw new Error(`trainStep: ${passages.count} passages is not a multiple of ${b} questions`);
    const n = passages.count / b;
    const lossName = options.loss ?? 'kl_repo';
    const target = lossName === 'answer' ? batch.hasAnswer : batch.gold;
    if (!target) throw new Error(`trainStep: loss '${lossName}' needs ${lossName === 'answer' ? 'hasAnswer' : 'gold'} [${b}, ${n}]`);
    if (target.length !== b * n) throw new Error(`trainStep: ${lossName === 'answer' ? 'hasAnswer' : 'gold'} has ${target.length} values, expected ${b}*${n}`);

    const cfg = this.model.config.bert;
    const drop: DropoutSpec | undefined = this.dropout
      ? { hidden: cfg.hiddenDropoutProb, attention: cfg.attentionProbsDropoutProb, seed: () => ++this.seedCounter }
      : undefined;
    const vars = this.model.trainableParameters();
    const lr = this.baseLr * this.schedule(this.optimizer.step);

    const gold = lossName === 'answer' ? null : tf.tensor2d(Float32Array.from(target as ArrayLike<number>), [b, n]);
    const { value, grads } = tf.variableGrads(() => {
      const q = this.model.embedRows(questions, 'question', 0, b, drop);
      const p = this.model.embedRows(passages, 'passage', 0, passages.count, drop);
      const s = ownPassageScores(q, p);
      return lossName === 'answer'
        ? answerSupervisedLoss(s, batch.hasAnswer!)
        : distillationLoss(s, gold!, {
            variant: lossName,
            gamma: options.gamma,
            temperatureGold: options.temperatureGold,
            temperatureScore: options.temperatureScore,
          });
    }, [...vars.values()]);
    gold?.dispose();

    let norm: DeviceNumber;
    try {
      norm = applyVariableGradsOnDevice(this.optimizer, vars, grads, { lr, maxGradNorm: this.maxGradNorm });
    } catch (err) {
      value.dispose();
      throw err;
    }
    const step = this.optimizer.step;
    const [loss, gradNorm] = yield* readNumbersTask([value, norm]);
    return { loss: loss!, gradNorm: gradNorm!, lr, step };
  }

  /** Frees the optimizer state. */
  dispose(): void {
    this.optimizer.dispose();
  }
}
