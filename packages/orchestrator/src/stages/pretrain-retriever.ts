import { join } from 'node:path';
import { copyFileSync, existsSync } from 'node:fs';
import { AdamW, loadTrainingCheckpoint, saveTrainingCheckpoint } from '@fidkd/core';
import { BiEncoder } from '@fidkd/bi-encoder';
import type { StageContext } from '../runner/stage-runner.js';
import { streamPassages, type Passage } from './io.js';
import { retrieverStep } from './retriever-step.js';
import { batchIndices } from './seeded.js';
import { loadStageTokenizer, passageBatch, questionBatch, tokenizerVocabSize } from './text.js';
import { scheduleOf } from './train-reader.js';

/** Settings of the retriever pretraining (title → passage contrastive learning on the collection). */
export interface PretrainRetrieverConfig {
  seed: number;
  model: Record<string, unknown>;
  lr: number;
  weight_decay: number;
  warmup_steps: number;
  total_steps: number;
  batch_size: number;
  clip: number;
  checkpoint_every: number;
  question_maxlength: number;
  passage_maxlength: number;
}

/**
 * pretrain-retriever: the stand-in for the pretrained BERT the paper starts from, for a world whose retriever is
 * trained from scratch. Unsupervised (no question, no answer): each passage's title is a query for its passage,
 * the other passages of the batch are negatives (softmax over the batch, `answerSupervisedLoss` with the
 * identity as positives). It teaches the bi-encoder to match names; which relation a question asks for is left
 * to the distillation. Inputs: passages, tokenizer. Output: a bi-encoder checkpoint (+ tokenizer).
 */
export async function pretrainRetrieverStage(ctx: StageContext<PretrainRetrieverConfig>): Promise<Record<string, number>> {
  const c = ctx.config;
  const tokenizer = await loadStageTokenizer(ctx.inputs.tokenizer!);
  const passages: Passage[] = [];
  for await (const p of streamPassages(ctx.inputs.passages!)) passages.push(p);
  const latest = join(ctx.checkpointDir, 'latest');
  let model: BiEncoder;
  const optimizer = new AdamW({ lr: c.lr, weightDecay: c.weight_decay });
  let start = 0;
  if (existsSync(latest) || existsSync(`${latest}.previous`)) {
    const ck = loadTrainingCheckpoint(latest);
    model = BiEncoder.fromCheckpoint({ dir: ck.dir, config: ck.config, weightsFile: join(ck.dir, 'model.safetensors'), tensors: ck.weights });
    optimizer.setState(ck.optimizerState, ck.optimizerStep);
    start = ck.step;
    ctx.log(`resuming from step ${start}`);
  } else {
    const m = c.model as { bert?: Record<string, unknown>; retriever?: Record<string, unknown> };
    model = BiEncoder.create({
      bert: { vocabSize: tokenizerVocabSize(tokenizer), ...m.bert },
      retriever: { questionMaxlength: c.question_maxlength, passageMaxlength: c.passage_maxlength, ...m.retriever },
    } as Parameters<typeof BiEncoder.create>[0], { seed: c.seed });
  }
  const schedule = scheduleOf({ ...c, scheduler: 'linear' });
  const tail: number[] = [];
  try {
    for (let step = start; step < c.total_steps; step++) {
      const batch = batchIndices(passages.length, c.batch_size, c.seed, step).map((i) => passages[i]!);
      const r = retrieverStep(model, optimizer, {
        questions: await questionBatch(tokenizer, batch.map((p) => p.title), c.question_maxlength),
        passages: await passageBatch(tokenizer, batch, c.passage_maxlength),
        hasAnswer: batch.map(() => true),
      }, { loss: 'answer', lr: c.lr * schedule(step), clip: c.clip, inBatchNegatives: true });
      tail.push(r.loss);
      if (tail.length > 20) tail.shift();
      ctx.step(step + 1, { loss: r.loss, grad_norm: r.gradNorm }, c.total_steps);
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
  return { train_loss: tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length), steps: c.total_steps, passages: passages.length };
}
