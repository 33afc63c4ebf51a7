import { join } from 'node:path';
import { CheckpointError, ProgressReporter } from '@fidkd/core';
import { FiDReader } from '@fidkd/fid-reader';
import type { StageContext } from '../runner/stage-runner.js';
import type { ScoreStageConfig } from '../pipeline.js';
import { OUTPUTS } from '../pipeline.js';
import { readQuestions, writeQuestions } from './io.js';
import { loadStageTokenizer, readerBatch } from './text.js';
import { trainingTarget } from './train-reader.js';
import { teacherGoldAt1 } from './teacher-quality.js';

/**
 * score: the reader's relevance scores G (cross-attention aggregated per passage: the official aggregation by
 * default — pre-softmax, first decoding step, all layers —, or the paper's alternatives) for every training question's first n_context passages. Writes the training file with
 * `ctxs[i].score = G[q, i]` (as FiD's --write_crossattention_scores does), keeping the n_context scored passages.
 * With a `dev` input, scores the dev questions the same way into dev.json (what `fidkd export-web` shows: where the
 * reader looked), and where questions know their gold passages (the synthetic world) reports how often the
 * highest G is the gold passage (`dev.gold_at_1` over `dev.gold_questions`; the same for train).
 */
export async function scoreStage(ctx: StageContext<ScoreStageConfig>): Promise<Record<string, number>> {
  const c = ctx.config;
  const train = (await readQuestions(ctx.inputs.train!)).filter((q) => q.ctxs.length >= c.n_context);
  const dev = ctx.inputs.dev ? (await readQuestions(ctx.inputs.dev)).filter((q) => q.ctxs.length >= c.n_context) : [];
  const tokenizer = await loadStageTokenizer(ctx.inputs.tokenizer!);
  const reader = FiDReader.load(ctx.inputs.reader!);
  const all = [...train, ...dev];
  const progress = new ProgressReporter('score-passages', ctx.onProgress, all.length, 'questions');
  let entropy = 0;
  try {
    for (let s = 0; s < all.length; s += c.batch_size) {
      const chunk = all.slice(s, s + c.batch_size);
      const targets = c.positions === 'all' ? chunk.map((ex, i) => trainingTarget(ex, s + i, s + i < train.length ? ctx.inputs.train : ctx.inputs.dev)) : undefined;
      // errors name the file of the chunk's first question (train, then dev)
      const batch = await readerBatch(tokenizer, chunk, targets, c, s < train.length ? ctx.inputs.train : ctx.inputs.dev);
      const g = await reader.passageScoresAsync(batch, { softmax: c.softmax, positions: c.positions, layers: c.layers });
      if (c.log_mass) {
        // mean probability per real token → log of the attention mass on the passage
        const L = batch.textMaxlength;
        for (let r = 0; r < g.length; r++) {
          let tokens = 0;
          for (let t = 0; t < L; t++) tokens += batch.attentionMask[r * L + t]!;
          g[r] = Math.log(Math.max(g[r]! * tokens, 1e-30));
        }
      }
      chunk.forEach((ex, b) => {
        const bad = Array.from(g.subarray(b * c.n_context, (b + 1) * c.n_context)).findIndex((x) => !Number.isFinite(x));
        if (bad >= 0) {
          // a teacher score that cannot be right is never written
          throw new CheckpointError(ctx.inputs.reader!, `the reader gives question ${JSON.stringify(ex.id)}'s passage ${bad} the non-finite relevance score ${g[b * c.n_context + bad]} (its weights hold non-finite values?)`);
        }
        ex.ctxs = ex.ctxs.slice(0, c.n_context).map((p, j) => ({ ...p, score: g[b * c.n_context + j]! }));
        // entropy of softmax(G) over the training questions: how peaked the teacher is (reported, not used)
        if (s + b >= train.length) return;
        const row = ex.ctxs.map((p) => p.score!);
        const m = Math.max(...row);
        const e = row.map((x) => Math.exp(x - m));
        const z = e.reduce((a, b2) => a + b2, 0);
        entropy += -e.reduce((a, x) => a + (x / z) * Math.log(x / z + 1e-12), 0);
      });
      progress.tick(chunk.length);
      await new Promise((r) => setImmediate(r));
    }
    progress.end();
  } finally {
    reader.dispose();
  }
  await writeQuestions(join(ctx.outDir, OUTPUTS.scoredTrain), train);
  if (ctx.inputs.dev) await writeQuestions(join(ctx.outDir, OUTPUTS.scoredDev), dev);
  const metrics: Record<string, number> = { questions: train.length, teacher_entropy: entropy / Math.max(1, train.length) };
  for (const [split, qs] of [['train', train], ['dev', dev]] as const) {
    const t = teacherGoldAt1(qs);
    if (t.gold_at_1 !== null) {
      metrics[`${split}.gold_at_1`] = t.gold_at_1;
      metrics[`${split}.gold_questions`] = t.questions;
    }
  }
  return metrics;
}
