import { DataFormatError } from '@fidkd/data';
import { ConfigError } from '../config.js';
import { linearWarmupDecay, type ReaderBatch } from '@fidkd/core';
import { FiDReader } from '@fidkd/fid-reader';
import type { StageContext } from '../runner/stage-runner.js';
import type { TrainReaderStageConfig } from '../pipeline.js';
import { readQuestions, type FidExample } from './io.js';
import { loadStageTokenizer, readerBatch, tokenizerVocabSize } from './text.js';
import { batchIndices, mulberry32 } from './seeded.js';
import { runReaderLoop } from './reader-loop.js';
import { readerStep } from './reader-step.js';

/** The answer a training example is taught: `target`, else a seeded choice among `answers` (as FiD does); `file` is named in errors. */
export function trainingTarget(ex: FidExample, seed: number, file = 'training questions'): string {
  if (ex.target) return ex.target;
  if (!ex.answers.length) throw new DataFormatError(file, `question ${JSON.stringify(ex.id)}`, 'has neither "target" nor "answers"');
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
  const create = (): FiDReader => {
    if (ctx.inputs.init) return FiDReader.load(ctx.inputs.init);
    if (!c.model) throw new ConfigError('reader: give "init" (a checkpoint directory) or "model" (a T5 config)');
    return FiDReader.create({ vocab_size: tokenizerVocabSize(tokenizer), ...c.model } as Parameters<typeof FiDReader.create>[0], { seed: c.seed });
  };
  const schedule = scheduleOf(c);
  const batchOf = (step: number, m: number): Promise<ReaderBatch> => {
    const idx = batchIndices(train.length, c.batch_size, c.seed, step * c.accumulation_steps + m);
    return readerBatch(tokenizer, idx.map((i) => train[i]!), idx.map((i) => trainingTarget(train[i]!, c.seed + i * 31 + step, ctx.inputs.train)), c, ctx.inputs.train);
  };
  const trainLoss = await runReaderLoop(ctx, c, 'reader', create, async (reader, optimizer, step) => {
    const lr = c.lr * schedule(step);
    const micro: ReaderBatch[] = [];
    for (let m = 0; m < Math.max(1, c.accumulation_steps); m++) micro.push(await batchOf(step, m));
    // one step over the micro-batches; its numbers are read once, at the end (every backend)
    const { loss, gradNorm } = await readerStep(reader, optimizer, micro, { lr, clip: c.clip });
    return { loss, gradNorm, info: { loss, lr } };
  });
  return { train_loss: trainLoss, steps: c.total_steps, questions: train.length };
}
