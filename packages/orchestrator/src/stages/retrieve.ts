import { join } from 'node:path';
import { BiEncoder } from '@fidkd/bi-encoder';
import { DataFormatError } from '@fidkd/data';
import { hasAnswer } from '@fidkd/eval';
import { PassageIndex } from '@fidkd/faiss-index';
import type { StageContext } from '../runner/stage-runner.js';
import type { RetrieveStageConfig } from '../pipeline.js';
import { OUTPUTS } from '../pipeline.js';
import { passageLookup, readQuestions, shardRange, writeQuestions, type FidExample } from './io.js';
import { loadStageTokenizer, questionBatch } from './text.js';

/**
 * The questions of shard `shard_id` of `num_shards` (all without `shard_id`): whole batches of `batch_size`
 * (@fidkd/data's shardRange over the batches), so that each question is embedded and searched in the same batch
 * as in an unsharded run and the merged files are byte for byte the unsharded ones.
 */
export function shardOfQuestions<T>(questions: T[], c: Pick<RetrieveStageConfig, 'shard_id' | 'num_shards' | 'batch_size'>): T[] {
  if (c.shard_id === undefined) return questions;
  const { start, end } = shardRange(Math.ceil(questions.length / c.batch_size), c.shard_id, c.num_shards ?? 1);
  return questions.slice(start * c.batch_size, end * c.batch_size);
}

/**
 * retrieve: Dᵗ⁺¹ — embeds every question of each split with the iteration's retriever, searches the index for
 * the top `n_passages`, and writes FiD-format files whose ctxs carry title, text, score and DPR has_answer.
 */
export async function retrieveStage(ctx: StageContext<RetrieveStageConfig>): Promise<Record<string, number>> {
  const c = ctx.config;
  const tokenizer = await loadStageTokenizer(ctx.inputs.tokenizer!);
  const model = BiEncoder.load(ctx.inputs.retriever!);
  const index = PassageIndex.load(ctx.inputs.index!);
  const passages = await passageLookup(ctx.inputs.passages!, ctx.runDir);
  const metrics: Record<string, number> = {};
  try {
    for (const split of c.splits) {
      const questions = shardOfQuestions(await readQuestions(ctx.inputs[split]!), c);
      const out: FidExample[] = [];
      for (let s = 0; s < questions.length; s += c.batch_size) {
        const chunk = questions.slice(s, s + c.batch_size);
        const q = await model.embedQuestions(await questionBatch(tokenizer, chunk.map((x) => x.question), c.question_maxlength), { batchSize: c.batch_size });
        const hits = index.search(q, c.n_passages);
        chunk.forEach((ex, i) => {
          out.push({
            ...ex,
            ctxs: hits[i]!.map((h) => {
              const p = passages.get(h.id);
              if (!p) throw new DataFormatError(ctx.inputs.passages!, undefined, `has no passage with id ${JSON.stringify(h.id)}, which the index ${ctx.inputs.index} returns (built from another collection?)`);
              return { id: p.id, title: p.title, text: p.text, score: h.score, has_answer: hasAnswer(ex.answers, p.text) };
            }),
          });
        });
        ctx.onProgress({ type: 'progress', task: `retrieve-${split}`, done: Math.min(questions.length, s + c.batch_size), total: questions.length, unit: 'questions' });
        await new Promise((r) => setImmediate(r));
      }
      await writeQuestions(join(ctx.outDir, OUTPUTS.split(split)), out);
      metrics[`${split}.questions`] = out.length;
    }
  } finally {
    model.dispose();
    passages.close();
  }
  return metrics;
}
