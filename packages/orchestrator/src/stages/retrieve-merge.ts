import { join } from 'node:path';
import type { StageContext } from '../runner/stage-runner.js';
import { OUTPUTS } from '../pipeline.js';
import { readQuestions, writeQuestions, type FidExample } from './io.js';

/** The merge of a retrieval sharded over questions: the shards' stage directories are inputs `shard-0` … */
export interface RetrieveMergeConfig {
  splits: string[];
  num_shards: number;
}

/**
 * Concatenates each split's shard files in shard order into `<split>.json`: the file an unsharded retrieve writes
 * (shards are whole question batches, so every question saw the same batch and the same search).
 */
export async function mergeRetrieveShards(ctx: StageContext<RetrieveMergeConfig>): Promise<Record<string, number>> {
  const metrics: Record<string, number> = {};
  for (const split of ctx.config.splits) {
    const all: FidExample[] = [];
    for (let k = 0; k < ctx.config.num_shards; k++) all.push(...(await readQuestions(join(ctx.inputs[`shard-${k}`]!, OUTPUTS.split(split)))));
    await writeQuestions(join(ctx.outDir, OUTPUTS.split(split)), all);
    metrics[`${split}.questions`] = all.length;
  }
  return metrics;
}
