import { DataFormatError } from '@fidkd/data';
import { PassageIndex, PassageIndexError } from '@fidkd/faiss-index';
import type { StageContext } from '../runner/stage-runner.js';
import type { IndexStageConfig } from '../pipeline.js';
import { readShard } from './io.js';

/**
 * index: builds the FAISS PassageIndex of the iteration from the embedding shards (in shard order; trained on
 * the first shard when the factory needs training, e.g. IVF-PQ), and saves it in the stage directory.
 */
export async function indexStage(ctx: StageContext<IndexStageConfig>): Promise<Record<string, number>> {
  const c = ctx.config;
  let index: PassageIndex | undefined;
  let count = 0;
  for (let k = 0; k < c.num_shards; k++) {
    const file = ctx.inputs[`shard-${k}`]!;
    const shard = await readShard(file);
    if (index && shard.dimension !== index.dimension) {
      throw new DataFormatError(file, undefined, `embeddings of dimension ${shard.dimension}, but ${ctx.inputs['shard-0']} has ${index.dimension}: the shards come from different retrievers`);
    }
    if (!index) {
      index = PassageIndex.create({ dimension: shard.dimension, factory: c.factory, metric: 'ip', efSearch: c.ef_search, nprobe: c.nprobe });
      if (!index.isTrained) index.train(shard.embeddings);
    }
    try {
      index.add(shard.ids, shard.embeddings);
    } catch (err) {
      if (err instanceof PassageIndexError && /duplicate id/.test(err.message)) {
        throw new DataFormatError(file, undefined, `${err.message}: the passage collection holds this passage id more than once`);
      }
      throw err;
    }
    count += shard.ids.length;
    ctx.onProgress({ type: 'progress', task: 'index-add', done: k + 1, total: c.num_shards, unit: 'shards' });
  }
  if (!index) throw new Error('index: no embedding shard');
  index.save(ctx.outDir);
  return { vectors: count };
}
