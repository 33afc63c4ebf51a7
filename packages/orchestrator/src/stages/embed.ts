import { join } from 'node:path';
import { loadEmbedder, resolveEmbedBackend } from '@fidkd/bi-encoder';
import type { TokenBatch } from '@fidkd/core';
import type { StageContext } from '../runner/stage-runner.js';
import type { EmbedStageConfig } from '../pipeline.js';
import { OUTPUTS } from '../pipeline.js';
import { shardRange, streamPassages, writeShard, type Passage } from './io.js';
import { loadStageTokenizer, passageBatch } from './text.js';

/**
 * embed: embeds shard `shard_id` of `num_shards` of the passage collection with the iteration's retriever
 * (contiguous row ranges as FiD's generate_passage_embeddings.py splits them, so the shards concatenated are the
 * collection in order). Each shard is its own stage, runnable on its own machine
 * (`fidkd embed --shard-id K --num-shards N`). The engine is `embed.backend` (tfjs or ONNX Runtime: the same
 * embeddings within 1e-5; a shard is always embedded whole by one engine, so a resumed shard is recomputed the same way).
 */
export async function embedStage(ctx: StageContext<EmbedStageConfig>): Promise<Record<string, number>> {
  const c = ctx.config;
  const tokenizer = await loadStageTokenizer(ctx.inputs.tokenizer!);
  // A first streamed pass counts the rows (cheap next to embedding), so shard boundaries need no index file.
  let total = 0;
  for await (const _ of streamPassages(ctx.inputs.passages!)) total++;
  const { start, end } = shardRange(total, c.shard_id, c.num_shards);
  // "auto": onnxruntime-node when installed; the shard's metrics record which engine ran (onnxruntime: 1 or 0)
  const backend = await resolveEmbedBackend(c.backend ?? 'auto');
  ctx.log(`embedding with ${backend === 'ort' ? 'ONNX Runtime (onnxruntime-node)' : 'tfjs'}${(c.backend ?? 'auto') === 'auto' ? ' (embed.backend "auto")' : ''}`);
  const model = await loadEmbedder(ctx.inputs.retriever!, backend);
  const ids: string[] = [];
  const chunks: Float32Array[] = [];
  try {
    const group = c.batch_size * 8;
    const batches = async function* (): AsyncGenerator<TokenBatch> {
      let row = 0;
      let buf: Passage[] = [];
      for await (const p of streamPassages(ctx.inputs.passages!)) {
        if (row >= start && row < end) {
          buf.push(p);
          ids.push(p.id);
          if (buf.length === group) {
            yield await passageBatch(tokenizer, buf, c.passage_maxlength);
            buf = [];
          }
        }
        row++;
        if (row >= end) break;
      }
      if (buf.length) yield await passageBatch(tokenizer, buf, c.passage_maxlength);
    };
    await model.embedPassages(batches(), {
      batchSize: c.batch_size, total: end - start, onProgress: ctx.onProgress,
      onEmbeddings: (rows) => void chunks.push(rows.slice()),
    });
    const dim = model.dimension;
    const embeddings = new Float32Array(ids.length * dim);
    let off = 0;
    for (const ch of chunks) {
      embeddings.set(ch, off);
      off += ch.length;
    }
    await writeShard(join(ctx.outDir, OUTPUTS.embeddings), { ids, embeddings, dimension: dim, shardId: c.shard_id, numShards: c.num_shards });
    return { passages: ids.length, dimension: dim, onnxruntime: backend === 'ort' ? 1 : 0 };
  } finally {
    await model.dispose();
  }
}
