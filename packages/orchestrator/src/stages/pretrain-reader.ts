import { SeededRandom } from '@fidkd/core';
import { Bm25Index, DataFormatError, generateSyntheticWorld, type FidExample, type SyntheticWorldOptions } from '@fidkd/data';
import { exactMatch } from '@fidkd/eval';
import { FiDReader } from '@fidkd/fid-reader';
import type { StageContext } from '../runner/stage-runner.js';
import { clozeExamples, type ClozeContexts } from '../synthetic/reader-cloze.js';
import { runReaderLoop } from './reader-loop.js';
import { batchIndices } from './seeded.js';
import { decodeAnswers, loadStageTokenizer, readerBatch, tokenizerVocabSize } from './text.js';
import { teacherGoldAt1 } from './teacher-quality.js';
import { scheduleOf } from './train-reader.js';

/** Settings of the reader pretraining (self-supervised cloze over synthetic worlds; see reader-cloze.ts). */
export interface PretrainReaderConfig {
  seed: number;
  /** Seeds of the worlds the cloze examples come from (never the seeds a demo evaluates on). */
  worlds: number[];
  /** Seed of a further world whose cloze examples are held out to report EM and gold@1 while training. */
  eval_world: number;
  world: Omit<SyntheticWorldOptions, 'seed'>;
  bm25: { k1: number; b: number };
  model: Record<string, unknown>;
  n_context: number;
  /** Where a cloze's other passages come from (see ClozeOptions.contexts). Default 'subject'. */
  contexts?: ClozeContexts | ClozeContexts[];
  /** Curriculum: [until_step, n] pairs — n passages per question until that step, then `n_context`. */
  n_context_schedule: Array<[number, number]>;
  text_maxlength: number;
  answer_maxlength: number;
  lr: number;
  weight_decay: number;
  warmup_steps: number;
  total_steps: number;
  /** Length of the linear schedule when it differs from total_steps (training stopped early on a longer schedule). */
  scheduler_steps?: number;
  batch_size: number;
  clip: number;
  checkpoint_every: number;
  /** Held-out evaluation every this many steps (0: never). */
  eval_every: number;
  eval_questions: number;
  /**
   * Further held-out sets, one per kind of other passages, reported as `heldout_<kind>_em` / `_gold_at_1` beside
   * the held-out set of `contexts` itself (default ['namesakes']: can the reader tell the subject from namesakes,
   * which the contexts of a question retrieved by a dense retriever ask of it).
   */
  eval_contexts?: ClozeContexts[];
}

async function clozeWorld(c: PretrainReaderConfig, seed: number, contexts = c.contexts): Promise<FidExample[]> {
  const w = generateSyntheticWorld({ ...c.world, seed });
  const index = await Bm25Index.build(w.passages, { k1: c.bm25.k1, b: c.bm25.b });
  return clozeExamples(w.passages, index, { nContext: c.n_context, seed, contexts });
}

/** The example with n of its passages: one passage that answers kept, at a seeded random position. */
function narrow(ex: FidExample, n: number, seed: number): FidExample {
  if (n >= ex.ctxs.length) return ex;
  const gold = ex.ctxs.filter((p) => ex.gold_passage_ids!.includes(p.id));
  const source = gold.length ? gold[new SeededRandom(seed).int(gold.length)]! : undefined;
  const others = ex.ctxs.filter((p) => p !== source).slice(0, source ? n - 1 : n);
  if (source) others.splice(new SeededRandom(seed + 1).int(n), 0, source);
  return { ...ex, ctxs: others };
}

/**
 * pretrain-reader: the stand-in for the pretrained T5 the paper starts from. A tiny FiD reader learns, without any
 * question or answer of a world, to answer cloze questions made from passages (salient-span masking) by finding
 * the passage among n_context that the cloze came from and copying its city: the selection among passages that a
 * from-scratch reader takes thousands of steps to discover. A curriculum on n_context (few passages first) gets it
 * there sooner. Inputs: tokenizer. Output: a reader checkpoint (HF layout) + the tokenizer.
 */
export async function pretrainReaderStage(ctx: StageContext<PretrainReaderConfig>): Promise<Record<string, number>> {
  const c = ctx.config;
  const tokenizer = await loadStageTokenizer(ctx.inputs.tokenizer!);
  const train: FidExample[] = [];
  for (const seed of c.worlds) train.push(...(await clozeWorld(c, seed)));
  const heldOut = (await clozeWorld(c, c.eval_world)).slice(0, c.eval_questions);
  const evalKinds = c.eval_contexts ?? ['namesakes'];
  const heldOutByKind: Array<[ClozeContexts, FidExample[]]> = [];
  for (const kind of evalKinds) heldOutByKind.push([kind, (await clozeWorld(c, c.eval_world, kind)).slice(0, c.eval_questions)]);
  ctx.log(`${train.length} cloze examples from ${c.worlds.length} worlds, ${heldOut.length} held out (+ ${evalKinds.join(', ')})`);
  const nAt = (step: number): number => c.n_context_schedule.find(([until]) => step < until)?.[1] ?? c.n_context;
  const schedule = scheduleOf({ ...c, scheduler: 'linear' });
  const evaluate = async (reader: FiDReader, examples: FidExample[]): Promise<{ em: number; gold_at_1: number }> => {
    let em = 0;
    const scored: FidExample[] = [];
    for (let s = 0; s < examples.length; s += 50) {
      const chunk = examples.slice(s, s + 50);
      const b = await readerBatch(tokenizer, chunk, undefined, c);
      const g = await reader.generateAsync(b, { maxNewTokens: c.answer_maxlength });
      const answers = await decodeAnswers(tokenizer, g.ids, g.batchSize, g.length);
      const G = await reader.passageScoresAsync(b, { softmax: 'pre', positions: 'first' });
      chunk.forEach((q, i) => {
        if (exactMatch(answers[i]!, q.answers)) em++;
        scored.push({ ...q, ctxs: q.ctxs.slice(0, c.n_context).map((p, j) => ({ ...p, score: G[i * c.n_context + j]! })) });
      });
    }
    return { em: em / examples.length, gold_at_1: teacherGoldAt1(scored).gold_at_1 ?? 0 };
  };
  let last = { em: 0, gold_at_1: 0 };
  let lastByKind: Record<string, number> = {};
  // `init`: continue from an earlier pretrained reader (a second phase with other settings)
  const create = (): FiDReader => {
    if (!ctx.inputs.init) return FiDReader.create({ vocab_size: tokenizerVocabSize(tokenizer), ...c.model } as Parameters<typeof FiDReader.create>[0], { seed: c.seed });
    const reader = FiDReader.load(ctx.inputs.init);
    if (reader.config.vocab_size < tokenizerVocabSize(tokenizer)) {
      throw new DataFormatError(ctx.inputs.tokenizer!, undefined, `tokenizer has ${tokenizerVocabSize(tokenizer)} tokens, more than the vocab_size ${reader.config.vocab_size} of the init reader ${ctx.inputs.init}`);
    }
    return reader;
  };
  const trainLoss = await runReaderLoop(ctx, c, 'reader', create, async (reader, optimizer, step) => {
    const n = nAt(step);
    const idx = batchIndices(train.length, c.batch_size, c.seed, step);
    const qs = idx.map((i) => narrow(train[i]!, n, c.seed + step * 7919 + i));
    const lr = c.lr * schedule(step);
    const { loss, gradNorm } = await reader.trainStepAsync(await readerBatch(tokenizer, qs, qs.map((q) => q.target!), { ...c, n_context: n }), { optimizer, lr, maxGradNorm: c.clip });
    const info: Record<string, number> = { loss, lr, n_context: n };
    if (c.eval_every > 0 && ((step + 1) % c.eval_every === 0 || step + 1 === c.total_steps)) {
      last = await evaluate(reader, heldOut);
      info.heldout_em = last.em;
      info.heldout_gold_at_1 = last.gold_at_1;
      const parts = [`held-out cloze EM ${last.em.toFixed(3)}, gold@1 ${last.gold_at_1.toFixed(3)}`];
      lastByKind = {};
      for (const [kind, examples] of heldOutByKind) {
        const r = await evaluate(reader, examples);
        lastByKind[`heldout_${kind}_em`] = info[`heldout_${kind}_em`] = r.em;
        lastByKind[`heldout_${kind}_gold_at_1`] = info[`heldout_${kind}_gold_at_1`] = r.gold_at_1;
        parts.push(`${kind}: EM ${r.em.toFixed(3)}, gold@1 ${r.gold_at_1.toFixed(3)}`);
      }
      ctx.log(`step ${step + 1}: ${parts.join('; ')} (n_context ${c.n_context})`);
    }
    return { loss, gradNorm, info };
  });
  return { train_loss: trainLoss, steps: c.total_steps, examples: train.length, heldout_em: last.em, heldout_gold_at_1: last.gold_at_1, ...lastByKind };
}
