import * as tf from '@tensorflow/tfjs';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, GradientAccumulator, clipGradNorm, linearWarmupDecay, loadTrainingCheckpoint, saveTrainingCheckpoint } from '@fidkd/core';
import { FiDReader, parseT5Config, toHfConfig } from '@fidkd/fid-reader';
import type { StageContext } from '../runner/stage-runner.js';
import type { TrainReaderStageConfig } from '../pipeline.js';
import { readQuestions, type FidExample } from './io.js';
import { loadStageTokenizer, readerBatch, tokenizerVocabSize } from './text.js';
import { batchIndices, mulberry32 } from './seeded.js';

/** The answer a training example is taught: `target`, else a seeded choice among `answers` (as FiD does). */
export function trainingTarget(ex: FidExample, seed: number): string {
  if (ex.target) return ex.target;
  if (!ex.answers.length) throw new Error(`question ${ex.id} has neither "target" nor "answers"`);
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
  if (!train.length) throw new Error(`${ctx.inputs.train}: no question with passages to train the reader on`);
  const tokenizer = await loadStageTokenizer(ctx.inputs.tokenizer!);
  const latest = join(ctx.checkpointDir, 'latest');
  let reader: FiDReader;
  const optimizer = new AdamW({ lr: c.lr, weightDecay: c.weight_decay });
  let start = 0;
  if (existsSync(latest) || existsSync(`${latest}.previous`)) {
    const ck = loadTrainingCheckpoint(latest);
    reader = FiDReader.fromStateDict(parseT5Config(ck.config, join(ck.dir, 'config.json')), ck.weights, ck.dir);
    optimizer.setState(ck.optimizerState, ck.optimizerStep);
    start = ck.step;
    ctx.log(`resuming from step ${start}`);
  } else if (ctx.inputs.init) {
    reader = FiDReader.load(ctx.inputs.init);
  } else {
    if (!c.model) throw new Error('reader: give "init" (a checkpoint directory) or "model" (a T5 config)');
    reader = FiDReader.create({ vocab_size: tokenizerVocabSize(tokenizer), ...c.model } as Parameters<typeof FiDReader.create>[0], { seed: c.seed });
  }
  const schedule = scheduleOf(c);
  const tail: number[] = [];
  try {
    for (let step = start; step < c.total_steps; step++) {
      const lr = c.lr * schedule(step);
      let loss = 0;
      if (c.accumulation_steps <= 1) {
        const idx = batchIndices(train.length, c.batch_size, c.seed, step);
        const batch = await readerBatch(tokenizer, idx.map((i) => train[i]!), idx.map((i) => trainingTarget(train[i]!, c.seed + i * 31 + step)), c);
        loss = reader.trainStep(batch, { optimizer, lr, maxGradNorm: c.clip > 0 ? c.clip : undefined }).loss;
      } else {
        const acc = new GradientAccumulator();
        try {
          for (let m = 0; m < c.accumulation_steps; m++) {
            const idx = batchIndices(train.length, c.batch_size, c.seed, step * c.accumulation_steps + m);
            const batch = await readerBatch(tokenizer, idx.map((i) => train[i]!), idx.map((i) => trainingTarget(train[i]!, c.seed + i * 31 + step)), c);
            const g = reader.computeGradients(batch);
            acc.add(g.grads);
            tf.dispose([...g.grads.values()]);
            loss += g.loss / c.accumulation_steps;
          }
          const mean = acc.mean();
          const clipped = c.clip > 0 ? clipGradNorm(mean, c.clip).grads : mean;
          optimizer.applyGradients(reader.variables, clipped, lr);
          tf.dispose([...mean.values(), ...clipped.values()]);
        } finally {
          acc.dispose();
        }
      }
      tail.push(loss);
      if (tail.length > 20) tail.shift();
      ctx.step(step + 1, { loss, lr }, c.total_steps);
      if (c.checkpoint_every > 0 && (step + 1) % c.checkpoint_every === 0 && step + 1 < c.total_steps) {
        saveTrainingCheckpoint(latest, { weights: reader.stateDict(), config: toHfConfig(reader.config), optimizer, step: step + 1 });
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
  return { train_loss: tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length), steps: c.total_steps, questions: train.length };
}
