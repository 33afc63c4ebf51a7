import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeEmbeddingShard } from '@fidkd/data';
import type { StageContext } from '../runner/stage-runner.js';
import type { IndexStageConfig } from '../pipeline.js';
import { indexStage } from './index-stage.js';

function context(dir: string, inputs: Record<string, string>): StageContext<IndexStageConfig> {
  return {
    ref: { stage: 'index', iteration: 0, key: 'iter-0/index' }, config: { factory: 'Flat', num_shards: 2 }, inputs,
    outDir: join(dir, 'out'), runDir: dir, checkpointDir: join(dir, 'ckpt'),
    step: () => undefined, onProgress: () => undefined, checkpointSaved: () => undefined, log: () => undefined,
  };
}

test('index: shards of different dimensions, and an id in two shards, are errors naming the shard file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fidkd-index-stage-'));
  try {
    const a = join(dir, 'a.safetensors');
    const b = join(dir, 'b.safetensors');
    const c = join(dir, 'c.safetensors');
    writeEmbeddingShard(a, { ids: ['1', '2'], embeddings: new Float32Array(8), dimension: 4, shardId: 0, numShards: 2 });
    writeEmbeddingShard(b, { ids: ['3'], embeddings: new Float32Array(3), dimension: 3, shardId: 1, numShards: 2 });
    writeEmbeddingShard(c, { ids: ['2'], embeddings: new Float32Array(4), dimension: 4, shardId: 1, numShards: 2 });
    await expect(indexStage(context(dir, { 'shard-0': a, 'shard-1': b }))).rejects.toThrow(
      new RegExp(`${b}: embeddings of dimension 3, but ${a} has 4`),
    );
    await expect(indexStage(context(dir, { 'shard-0': a, 'shard-1': c }))).rejects.toThrow(
      new RegExp(`${c}: duplicate id "2" .*the passage collection holds this passage id more than once`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
