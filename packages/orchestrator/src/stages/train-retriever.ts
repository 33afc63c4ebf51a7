import { loadCheckpoint } from '@fidkd/core';
import { DataFormatError } from '@fidkd/data';
import { ConfigError } from '../config.js';
import { BiEncoder } from '@fidkd/bi-encoder';
import { retrieverStep } from './retriever-step.js';
import { runRetrieverLoop } from './retriever-loop.js';
import { scheduleOf } from './train-reader.js';
import type { StageContext } from '../runner/stage-runner.js';
import type { TrainRetrieverStageConfig } from '../pipeline.js';
import { readQuestions, readQuestionsWithHasAnswer, type FidExample } from './io.js';
import { loadStageTokenizer, passageBatch, questionBatch, tokenizerVocabSize } from './text.js';
import { NamesakeBatches } from './namesake-batches.js';
import { batchIndices } from './seeded.js';
import { applyTeacherControl } from './teacher-controls.js';

/** @fidkd/bi-encoder's loss name of a pipeline loss. */
export function trainerLoss(c: TrainRetrieverStageConfig): string {
  if (c.loss === 'has_answer') return 'answer';
  return c.loss_variant ?? c.loss;
}

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * The teacher scores G a retriever is trained on must be finite in float32 (the losses' precision): `1e300` is a
 * finite JSON number that becomes Infinity, then a NaN loss. Errors name the file, the question and the field.
 */
export function checkGoldScores(file: string, questions: FidExample[], n: number): void {
  for (const q of questions) {
    q.ctxs.slice(0, n).forEach((p, j) => {
      if (!(Math.abs(p.score!) <= FLOAT32_MAX)) {
        throw new DataFormatError(file, `question ${JSON.stringify(q.id)}`, `field "ctxs[${j}].score": ${p.score} is not a finite float32 teacher score`);
      }
    });
  }
}

/**
 * train-retriever: trains the bi-encoder on (q, Dᵗ, G) with the distillation loss (KL by default; MSE and
 * max-margin for the ablation), or on (q, D⁰, has_answer) with the answer-supervised loss for the baseline.
 * Optionally with in-batch negatives (see retrieverStep). Checkpoints mid-stage for resume; dropout is not
 * applied (deterministic resume). Writes the retriever in HF layout (+ tokenizer).
 */
export async function trainRetrieverStage(ctx: StageContext<TrainRetrieverStageConfig>): Promise<Record<string, number>> {
  const c = ctx.config;
  if (c.accumulation_steps !== 1) throw new ConfigError(`retriever.accumulation_steps ${c.accumulation_steps}: the retriever trainer does not accumulate gradients; raise batch_size instead`);
  const loss = trainerLoss(c);
  let all = loss === 'answer' ? await readQuestionsWithHasAnswer(ctx.inputs.train!, (m) => ctx.log(m)) : await readQuestions(ctx.inputs.train!);
  if (c.teacher_control) all = applyTeacherControl(all, c.teacher_control, c.n_context, c.seed, ctx.inputs.train!);
  const train = all.filter((q) => q.ctxs.length >= c.n_context && (loss !== 'answer' || q.ctxs.slice(0, c.n_context).some((p) => p.has_answer)));
  if (!train.length) {
    throw new DataFormatError(ctx.inputs.train!, undefined, `no training question with ${c.n_context} passages (retriever.n_context)${loss === 'answer' ? ' and a passage with has_answer' : ''}`);
  }
  if (loss !== 'answer') {
    const bad = train.find((q) => q.ctxs.slice(0, c.n_context).some((p) => typeof p.score !== 'number'));
    if (bad) throw new DataFormatError(ctx.inputs.train!, `question ${JSON.stringify(bad.id)}`, `lacks gold scores (ctxs[].score) for its first ${c.n_context} passages`);
    checkGoldScores(ctx.inputs.train!, train, c.n_context);
  }
  const tokenizer = await loadStageTokenizer(ctx.inputs.tokenizer!);
  const create = (): BiEncoder => {
    if (ctx.inputs.init) return BiEncoder.fromCheckpoint(loadCheckpoint(ctx.inputs.init));
    if (!c.model) throw new ConfigError('retriever: give "init" (a checkpoint directory) or "model" (a BERT config)');
    const m = c.model as { bert?: Record<string, unknown>; retriever?: Record<string, unknown> };
    return BiEncoder.create({
      bert: { vocabSize: tokenizerVocabSize(tokenizer), ...m.bert },
      retriever: { questionMaxlength: c.question_maxlength, passageMaxlength: c.passage_maxlength, ...(c.indexing_dimension ? { projection: true, indexingDimension: c.indexing_dimension } : {}), ...m.retriever },
    } as Parameters<typeof BiEncoder.create>[0], { seed: c.seed });
  };
  const schedule = scheduleOf(c);
  const n = c.n_context;
  const group = c.namesake_group ?? 1;
  // a question's title is its first passage's (BM25's best match for its words: mostly the asked entity's)
  const namesakes = group > 1
    ? new NamesakeBatches(train.map((q) => q.ctxs[0]!.title ?? ''), group, train.map((q) => q.ctxs.slice(0, n).map((p) => p.id)))
    : undefined;
  const trainLoss = await runRetrieverLoop(ctx, c, 'retriever', create, async (model, optimizer, step) => {
    const idx = namesakes ? namesakes.batch(c.batch_size, c.seed, step) : batchIndices(train.length, c.batch_size, c.seed, step);
    const qs = idx.map((i) => train[i]!);
    const ctxs = qs.flatMap((q) => q.ctxs.slice(0, n));
    const r = await retrieverStep(model, optimizer, {
      questions: await questionBatch(tokenizer, qs.map((q) => q.question), c.question_maxlength),
      passages: await passageBatch(tokenizer, ctxs, c.passage_maxlength),
      gold: loss === 'answer' ? undefined : Float32Array.from(ctxs, (p) => p.score!),
      hasAnswer: loss === 'answer' ? ctxs.map((p) => Boolean(p.has_answer)) : undefined,
    }, {
      loss, gamma: c.gamma, temperatureGold: c.temperature_gold, temperatureScore: c.temperature_score,
      lr: c.lr * schedule(step), clip: c.clip, inBatchNegatives: c.in_batch_negatives,
    });
    return { loss: r.loss, gradNorm: r.gradNorm, info: { loss: r.loss, lr: c.lr * schedule(step), grad_norm: r.gradNorm } };
  });
  return { train_loss: trainLoss, steps: c.total_steps, questions: train.length };
}
