import * as tf from '@tensorflow/tfjs';
import { DataFormatError } from '@fidkd/data';
import { ConfigError } from '../config.js';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, GradientAccumulator, clipGradNorm, linearWarmupDecay, loadTrainingCheckpoint, saveTrainingCheckpoint } from '@fidkd/core';
import { FiDReader, parseT5Config, toHfConfig } from '@fidkd/fid-reader';
import type { StageContext } from '../runner/stage-runner.js';
import type { TrainReaderStageConfig } from '../pipeline.js';
import { readQuestions, type FidExample } from './io.js';
import { loadStageTokenizer, readerBatch, tokenizerVocabSize } from './text.js';
import { batchIndices, mulberry32 } from './seeded.js';
import { checkFiniteStep, type DivergenceContext } from './diverged.js';
import { RecentLosses } from './recent-losses.js';

/** The answer a training example is taught: `target`, else a seeded choice among `answers` (as FiD does). */
export function trainingTarget(ex: FidExample, seed: number): string {
  if (ex.target) return ex.target;
  if (!ex.answers.length) throw new DataFormatError('training questions', `question ${JSON.stringify(ex.id)}`, 'has neither "target" nor "answers"');
  return ex.answers[Math.floor(mulberry32(seed)() * ex.answers.length)]!;
}

/** Builds the learning-rate multiplier of a stage's optimisation config. */
export function scheduleOf(c: { warmup_steps: number; total_steps: number; scheduler_steps?: number; scheduler: 'linear' | 'fixed' }): (step: number) => number {
  return linearWarmupDecay({ warmupSteps: c.warmup_steps, totalSteps: c.scheduler_steps ?? c.total_steps, fixedLr: c.scheduler === 'fixed' });
}

/**
 * train-reader: trains a FiD reader on (q, Dᵗ) — teacher forcing on the target answer, AdamW with FiD's linear
 * warmup/decay, global-norm clipping, gradient accumulation — checkpointing every `checkpoint_every` steps into
 * the stage's scratch dir so that a killed run continues mid-stage. Writes the reader in HF layout (+ tokenizer).
 */
export async function trainReaderStage(ctx: StageContext<TrainReaderStageConfig>): Promise<Record<string, number>> {
  const c = ctx.config;
  const train = (await readQuestions(ctx.inputs.train!)).filter((q) => q.ctxs.length > 0);
  if (!train.length) throw new DataFormatError(ctx.inputs.train!, undefined, 'no question with passages (ctxs) to train the reader on');
  // checked before any training step, not when a batch happens to draw the question
  const short = train.find((q) => q.ctxs.length < c.n_context);
  if (short) throw new DataFormatError(ctx.inputs.train!, `question ${JSON.stringify(short.id)}`, `has ${short.ctxs.length} passages (ctxs), fewer than reader.n_context ${c.n_context}`);
  const tokenizer = await loadStageTokenizer(ctx.inputs.tokenizer!);
  const latest = join(ctx.checkpointDir, 'latest');
  let reader: FiDReader;
  const optimizer = new AdamW({ lr: c.lr, weightDecay: c.weight_decay });
  let start = 0;
  const tail = new RecentLosses();
  if (existsSync(latest) || existsSync(`${latest}.previous`)) {
    const ck = loadTrainingCheckpoint(latest);
    reader = FiDReader.fromStateDict(parseT5Config(ck.config, join(ck.dir, 'config.json')), ck.weights, ck.dir);
    optimizer.setState(ck.optimizerState, ck.optimizerStep);
    start = ck.step;
    tail.restore(ck.extra);
    ctx.log(`resuming from step ${start}`);
  } else if (ctx.inputs.init) {
    reader = FiDReader.load(ctx.inputs.init);
  } else {
    if (!c.model) throw new ConfigError('reader: give "init" (a checkpoint directory) or "model" (a T5 config)');
    reader = FiDReader.create({ vocab_size: tokenizerVocabSize(tokenizer), ...c.model } as Parameters<typeof FiDReader.create>[0], { seed: c.seed });
  }
  const schedule = scheduleOf(c);
  const diverged: DivergenceContext = { stage: ctx.ref.stage, iteration: ctx.ref.iteration, section: 'reader', lr: c.lr, clip: c.clip, init: start === 0 ? ctx.inputs.init : undefined, firstStep: start };
  try {
    for (let step = start; step < c.total_steps; step++) {
      const lr = c.lr * schedule(step);
      let loss = 0;
      let gradNorm: number | undefined;
      if (c.accumulation_steps <= 1) {
        const idx = batchIndices(train.length, c.batch_size, c.seed, step);
        const batch = await readerBatch(tokenizer, idx.map((i) => train[i]!), idx.map((i) => trainingTarget(train[i]!, c.seed + i * 31 + step)), c, ctx.inputs.train);
        ({ loss, gradNorm } = reader.trainStep(batch, { optimizer, lr, maxGradNorm: c.clip > 0 ? c.clip : undefined }));
      } else {
        const acc = new GradientAccumulator();
        try {
          for (let m = 0; m < c.accumulation_steps; m++) {
            const idx = batchIndices(train.length, c.batch_size, c.seed, step * c.accumulation_steps + m);
            const batch = await readerBatch(tokenizer, idx.map((i) => train[i]!), idx.map((i) => trainingTarget(train[i]!, c.seed + i * 31 + step)), c, ctx.inputs.train);
            const g = reader.computeGradients(batch);
            acc.add(g.grads);
            tf.dispose([...g.grads.values()]);
            loss += g.loss / c.accumulation_steps;
          }
          const mean = acc.mean();
          const clip = c.clip > 0 ? clipGradNorm(mean, c.clip) : undefined;
          const clipped = clip ? clip.grads : mean;
          gradNorm = clip?.totalNorm;
          optimizer.applyGradients(reader.variables, clipped, lr);
          tf.dispose([...mean.values(), ...clipped.values()]);
        } finally {
          acc.dispose();
        }
      }
      checkFiniteStep(diverged, step + 1, loss, gradNorm);
      tail.push(loss);
      ctx.step(step + 1, { loss, lr }, c.total_steps);
      if (c.checkpoint_every > 0 && (step + 1) % c.checkpoint_every === 0 && step + 1 < c.total_steps) {
        saveTrainingCheckpoint(latest, { weights: reader.stateDict(), config: toHfConfig(reader.config), optimizer, step: step + 1, extra: { recent_losses: tail.toJSON() } });
        ctx.checkpointSaved(step + 1, latest);
      }
      await new Promise((r) => setImmediate(r)); // let signals and progress rendering through
    }
    reader.save(ctx.outDir);
    copyFileSync(ctx.inputs.tokenizer!, join(ctx.outDir, 'tokenizer.json'));
  } finally {
    reader.dispose();
    optimizer.dispose();
  }
  return { train_loss: tail.mean(), steps: c.total_steps, questions: train.length };
}
