import { existsSync } from 'node:fs';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, loadTrainingCheckpoint, saveTrainingCheckpoint, loadCheckpoint } from '@fidkd/core';
import { BiEncoder } from '@fidkd/bi-encoder';
import { retrieverStep } from './retriever-step.js';
import { scheduleOf } from './train-reader.js';
import type { StageContext } from '../runner/stage-runner.js';
import type { TrainRetrieverStageConfig } from '../pipeline.js';
import { readQuestions } from './io.js';
import { loadStageTokenizer, passageBatch, questionBatch, tokenizerVocabSize } from './text.js';
import { batchIndices } from './seeded.js';

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
  const all = await readQuestions(ctx.inputs.train!);
  const train = all.filter((q) => q.ctxs.length >= c.n_context && (loss !== 'answer' || q.ctxs.slice(0, c.n_context).some((p) => p.has_answer)));
  if (!train.length) {
    throw new Error(`${ctx.inputs.train}: no training question with ${c.n_context} passages${loss === 'answer' ? ' and a passage with has_answer' : ''}`);
  }
  if (loss !== 'answer') {
    const bad = train.find((q) => q.ctxs.slice(0, c.n_context).some((p) => typeof p.score !== 'number'));
    if (bad) throw new Error(`${ctx.inputs.train}: question ${bad.id} lacks gold scores (ctxs[].score) for its first ${c.n_context} passages`);
  }
  const tokenizer = await loadStageTokenizer(ctx.inputs.tokenizer!);
  const latest = join(ctx.checkpointDir, 'latest');
  let model: BiEncoder;
  let start = 0;
  let resumed: ReturnType<typeof loadTrainingCheckpoint> | undefined;
  if (existsSync(latest) || existsSync(`${latest}.previous`)) {
    resumed = loadTrainingCheckpoint(latest);
    model = BiEncoder.fromCheckpoint({ dir: resumed.dir, config: resumed.config, weightsFile: join(resumed.dir, 'model.safetensors'), tensors: resumed.weights });
    start = resumed.step;
    ctx.log(`resuming from step ${start}`);
  } else if (ctx.inputs.init) {
    model = BiEncoder.fromCheckpoint(loadCheckpoint(ctx.inputs.init));
  } else {
    if (!c.model) throw new Error('retriever: give "init" (a checkpoint directory) or "model" (a BERT config)');
    const m = c.model as { bert?: Record<string, unknown>; retriever?: Record<string, unknown> };
    model = BiEncoder.create({
      bert: { vocabSize: tokenizerVocabSize(tokenizer), ...m.bert },
      retriever: { questionMaxlength: c.question_maxlength, passageMaxlength: c.passage_maxlength, ...(c.indexing_dimension ? { projection: true, indexingDimension: c.indexing_dimension } : {}), ...m.retriever },
    } as Parameters<typeof BiEncoder.create>[0], { seed: c.seed });
  }
  const optimizer = new AdamW({ lr: c.lr, weightDecay: c.weight_decay });
  if (resumed) optimizer.setState(resumed.optimizerState, resumed.optimizerStep);
  const schedule = scheduleOf(c);
  const n = c.n_context;
  const tail: number[] = [];
  try {
    for (let step = start; step < c.total_steps; step++) {
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
      tail.push(r.loss);
      if (tail.length > 20) tail.shift();
      ctx.step(step + 1, { loss: r.loss, lr: c.lr * schedule(step), grad_norm: r.gradNorm }, c.total_steps);
      if (c.checkpoint_every > 0 && (step + 1) % c.checkpoint_every === 0 && step + 1 < c.total_steps) {
        saveTrainingCheckpoint(latest, { weights: model.stateDict(), config: model.hfConfig(), optimizer, step: step + 1 });
        ctx.checkpointSaved(step + 1, latest);
      }
      await new Promise((res) => setImmediate(res));
    }
    model.save(ctx.outDir);
    copyFileSync(ctx.inputs.tokenizer!, join(ctx.outDir, 'tokenizer.json'));
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  return { train_loss: tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length), steps: c.total_steps, questions: train.length };
}
