import { loadCheckpoint } from '@fidkd/core';
import { BiEncoder } from '@fidkd/bi-encoder';
import { retrieverStep } from './retriever-step.js';
import { runRetrieverLoop } from './retriever-loop.js';
import { scheduleOf } from './train-reader.js';
import type { StageContext } from '../runner/stage-runner.js';
import type { TrainRetrieverStageConfig } from '../pipeline.js';
import { readQuestions } from './io.js';
import { loadStageTokenizer, passageBatch, questionBatch, tokenizerVocabSize } from './text.js';
import { batchIndices } from './seeded.js';
import { applyTeacherControl } from './teacher-controls.js';

/** @fidkd/bi-encoder's loss name of a pipeline loss. */
export function trainerLoss(c: TrainRetrieverStageConfig): string {
  if (c.loss === 'has_answer') return 'answer';
  return c.loss_variant ?? c.loss;
}

/**
 * train-retriever: trains the bi-encoder on (q, Dᵗ, G) with the distillation loss (KL by default; MSE and
 * max-margin for the ablation), or on (q, D⁰, has_answer) with the answer-supervised loss for the baseline.
 * Optionally with in-batch negatives (see retrieverStep). Checkpoints mid-stage for resume; dropout is not
 * applied (deterministic resume). Writes the retriever in HF layout (+ tokenizer).
 */
export async function trainRetrieverStage(ctx: StageContext<TrainRetrieverStageConfig>): Promise<Record<string, number>> {
  const c = ctx.config;
  if (c.accumulation_steps !== 1) throw new Error(`retriever.accumulation_steps ${c.accumulation_steps}: the retriever trainer does not accumulate gradients; raise batch_size instead`);
  const loss = trainerLoss(c);
  let all = await readQuestions(ctx.inputs.train!);
  if (c.teacher_control) all = applyTeacherControl(all, c.teacher_control, c.n_context, c.seed, ctx.inputs.train!);
  const train = all.filter((q) => q.ctxs.length >= c.n_context && (loss !== 'answer' || q.ctxs.slice(0, c.n_context).some((p) => p.has_answer)));
  if (!train.length) {
    throw new Error(`${ctx.inputs.train}: no training question with ${c.n_context} passages${loss === 'answer' ? ' and a passage with has_answer' : ''}`);
  }
  if (loss !== 'answer') {
    const bad = train.find((q) => q.ctxs.slice(0, c.n_context).some((p) => typeof p.score !== 'number'));
    if (bad) throw new Error(`${ctx.inputs.train}: question ${bad.id} lacks gold scores (ctxs[].score) for its first ${c.n_context} passages`);
  }
  const tokenizer = await loadStageTokenizer(ctx.inputs.tokenizer!);
  const create = (): BiEncoder => {
    if (ctx.inputs.init) return BiEncoder.fromCheckpoint(loadCheckpoint(ctx.inputs.init));
    if (!c.model) throw new Error('retriever: give "init" (a checkpoint directory) or "model" (a BERT config)');
    const m = c.model as { bert?: Record<string, unknown>; retriever?: Record<string, unknown> };
    return BiEncoder.create({
      bert: { vocabSize: tokenizerVocabSize(tokenizer), ...m.bert },
      retriever: { questionMaxlength: c.question_maxlength, passageMaxlength: c.passage_maxlength, ...(c.indexing_dimension ? { projection: true, indexingDimension: c.indexing_dimension } : {}), ...m.retriever },
    } as Parameters<typeof BiEncoder.create>[0], { seed: c.seed });
  };
  const schedule = scheduleOf(c);
  const n = c.n_context;
  const trainLoss = await runRetrieverLoop(ctx, c, create, async (model, optimizer, step) => {
    const idx = batchIndices(train.length, c.batch_size, c.seed, step);
    const qs = idx.map((i) => train[i]!);
    const ctxs = qs.flatMap((q) => q.ctxs.slice(0, n));
    const r = retrieverStep(model, optimizer, {
      questions: await questionBatch(tokenizer, qs.map((q) => q.question), c.question_maxlength),
      passages: await passageBatch(tokenizer, ctxs, c.passage_maxlength),
      gold: loss === 'answer' ? undefined : Float32Array.from(ctxs, (p) => p.score!),
      hasAnswer: loss === 'answer' ? ctxs.map((p) => Boolean(p.has_answer)) : undefined,
    }, {
      loss, gamma: c.gamma, temperatureGold: c.temperature_gold, temperatureScore: c.temperature_score,
      lr: c.lr * schedule(step), clip: c.clip, inBatchNegatives: c.in_batch_negatives,
    });
    return { loss: r.loss, info: { loss: r.loss, lr: c.lr * schedule(step), grad_norm: r.gradNorm } };
  });
  return { train_loss: trainLoss, steps: c.total_steps, questions: train.length };
}
