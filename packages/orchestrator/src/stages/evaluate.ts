import { join } from 'node:path';
import { DataFormatError } from '@fidkd/data';
import { exactMatch, mrrAtK, topKAccuracy } from '@fidkd/eval';
import { FiDReader } from '@fidkd/fid-reader';
import { writeJsonAtomic } from '../runner/atomic.js';
import type { StageContext } from '../runner/stage-runner.js';
import type { EvaluateStageConfig } from '../pipeline.js';
import { OUTPUTS } from '../pipeline.js';
import { readQuestionsWithHasAnswer } from './io.js';
import { decodeAnswers, loadStageTokenizer, readerBatch } from './text.js';

/**
 * evaluate: for each split of Dᵗ, retrieval top-k accuracy R@k (DPR has_answer of the ranked ctxs), MRR@10,
 * the true-relevance R@k when the file knows the gold passages (synthetic world), and the reader's exact match
 * (greedy decoding over the first n_context passages, SQuAD normalisation). Writes metrics.json and, with the
 * reader, `<split>-answers.json`: the generated answer of each question evaluated (`{ id, answer, em }`).
 */
export async function evaluateStage(ctx: StageContext<EvaluateStageConfig>): Promise<Record<string, number>> {
  const c = ctx.config;
  const metrics: Record<string, number> = {};
  const reader = c.reader_em ? FiDReader.load(ctx.inputs.reader!) : undefined;
  const tokenizer = c.reader_em ? await loadStageTokenizer(ctx.inputs.tokenizer!) : undefined;
  try {
    for (const split of c.splits) {
      const qs = await readQuestionsWithHasAnswer(ctx.inputs[split]!, (m) => ctx.log(m));
      if (!qs.length) throw new DataFormatError(ctx.inputs[split]!, undefined, `no questions to evaluate (the ${split} split is empty)`);
      const hits = qs.map((q) => q.ctxs.map((p) => Boolean(p.has_answer)));
      const acc = topKAccuracy(hits, c.k);
      for (const k of c.k) metrics[`${split}.recall@${k}`] = acc[k]!;
      metrics[`${split}.mrr@10`] = mrrAtK(hits, 10);
      if (qs.every((q) => Array.isArray(q.gold_passage_ids))) {
        const gold = topKAccuracy(qs.map((q) => q.ctxs.map((p) => q.gold_passage_ids!.includes(p.id))), c.k);
        for (const k of c.k) metrics[`${split}.gold_recall@${k}`] = gold[k]!;
      }
      if (reader && tokenizer) {
        const n = c.max_em_questions > 0 ? Math.min(c.max_em_questions, qs.length) : qs.length;
        let em = 0;
        const generated: Array<{ id: string; answer: string; em: boolean }> = [];
        for (let s = 0; s < n; s += c.eval_batch_size) {
          const chunk = qs.slice(s, Math.min(n, s + c.eval_batch_size));
          const g = await reader.generateAsync(await readerBatch(tokenizer, chunk, undefined, c, ctx.inputs[split]), { maxNewTokens: c.answer_maxlength });
          const answers = await decodeAnswers(tokenizer, g.ids, g.batchSize, g.length);
          chunk.forEach((q, i) => {
            const hit = exactMatch(answers[i]!, q.answers);
            generated.push({ id: q.id, answer: answers[i]!, em: hit });
            em += hit ? 1 : 0;
          });
          ctx.onProgress({ type: 'progress', task: `exact-match-${split}`, done: Math.min(n, s + c.eval_batch_size), total: n, unit: 'questions' });
          await new Promise((r) => setImmediate(r));
        }
        metrics[`${split}.em`] = em / n;
        writeJsonAtomic(join(ctx.outDir, OUTPUTS.readerAnswers(split)), generated);
      }
    }
  } finally {
    reader?.dispose();
  }
  writeJsonAtomic(join(ctx.outDir, OUTPUTS.evaluation), metrics);
  return metrics;
}
