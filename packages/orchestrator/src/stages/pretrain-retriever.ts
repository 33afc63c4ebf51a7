import { BiEncoder } from '@fidkd/bi-encoder';
import type { StageContext } from '../runner/stage-runner.js';
import { streamPassages, type Passage } from './io.js';
import { retrieverStep } from './retriever-step.js';
import { runRetrieverLoop } from './retriever-loop.js';
import { NamesakeBatches } from './namesake-batches.js';
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
  /**
   * Hard negatives: the batch is made of groups of this many passages whose titles share a word (namesakes), so
   * the bi-encoder learns to match a whole name, not one of its words. Default 1: random batches.
   */
  namesake_group?: number;
}

/**
 * pretrain-retriever: the stand-in for the pretrained BERT the paper starts from, for a world whose retriever is
 * trained from scratch. Unsupervised (no question, no answer): each passage's title is a query for its passage,
 * the other passages of the batch are negatives (softmax over the batch, `answerSupervisedLoss` with the
 * identity as positives; with `namesake_group`, groups of namesakes' passages as hard negatives). It teaches the
 * bi-encoder to match names; which relation a question asks for is left to the distillation. Inputs: passages,
 * tokenizer. Output: a bi-encoder checkpoint (+ tokenizer).
 */
export async function pretrainRetrieverStage(ctx: StageContext<PretrainRetrieverConfig>): Promise<Record<string, number>> {
  const c = ctx.config;
  const tokenizer = await loadStageTokenizer(ctx.inputs.tokenizer!);
  const passages: Passage[] = [];
  for await (const p of streamPassages(ctx.inputs.passages!)) passages.push(p);
  const schedule = scheduleOf({ ...c, scheduler: 'linear' });
  const group = c.namesake_group ?? 1;
  const namesakes = group > 1 ? new NamesakeBatches(passages.map((p) => p.title), group) : undefined;
  const create = (): BiEncoder => {
    const m = c.model as { bert?: Record<string, unknown>; retriever?: Record<string, unknown> };
    return BiEncoder.create({
      bert: { vocabSize: tokenizerVocabSize(tokenizer), ...m.bert },
      retriever: { questionMaxlength: c.question_maxlength, passageMaxlength: c.passage_maxlength, ...m.retriever },
    } as Parameters<typeof BiEncoder.create>[0], { seed: c.seed });
  };
  const trainLoss = await runRetrieverLoop(ctx, c, 'pretrain_retriever', create, async (model, optimizer, step) => {
    const indices = namesakes ? namesakes.batch(c.batch_size, c.seed, step) : batchIndices(passages.length, c.batch_size, c.seed, step);
    const batch = indices.map((i) => passages[i]!);
    const r = await retrieverStep(model, optimizer, {
      questions: await questionBatch(tokenizer, batch.map((p) => p.title), c.question_maxlength),
      passages: await passageBatch(tokenizer, batch, c.passage_maxlength),
      hasAnswer: batch.map(() => true),
    }, { loss: 'answer', lr: c.lr * schedule(step), clip: c.clip, inBatchNegatives: true });
    return { loss: r.loss, gradNorm: r.gradNorm, info: { loss: r.loss, grad_norm: r.gradNorm } };
  });
  return { train_loss: trainLoss, steps: c.total_steps, passages: passages.length };
}
