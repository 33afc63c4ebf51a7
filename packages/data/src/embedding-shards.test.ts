import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensorsWithMetadata } from '@fidkd/core';
import {
  embeddingShardFileName, listEmbeddingShards, readEmbeddingShard, shardRange, writeEmbeddingShard,
} from './embedding-shards.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fidkd-data-shards-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('embedding shards', () => {
  test('shardRange covers every row exactly once, the last shard taking the remainder (FiD)', () => {
    expect(shardRange(10, 0, 3)).toEqual({ start: 0, end: 3 });
    expect(shardRange(10, 1, 3)).toEqual({ start: 3, end: 6 });
    expect(shardRange(10, 2, 3)).toEqual({ start: 6, end: 10 });
    for (const [total, n] of [[0, 4], [7, 7], [1000, 7], [21015324, 50]] as const) {
      let covered = 0;
      for (let k = 0; k < n; k++) {
        const r = shardRange(total, k, n);
        expect(r.start).toBe(covered);
        covered = r.end;
      }
      expect(covered).toBe(total);
    }
    expect(() => shardRange(10, 3, 3)).toThrow(/shardId must be an integer in \[0, 2\]/);
    expect(() => shardRange(10, 0, 0)).toThrow(/numShards/);
  });

  test('write/read round-trip as safetensors with ids; the file set is checked', () => {
    const n = 4;
    const d = 3;
    for (let k = 0; k < n; k++) {
      const { start, end } = shardRange(10, k, n);
      const ids = Array.from({ length: end - start }, (_, i) => `p${start + i}`);
      const emb = Float32Array.from({ length: ids.length * d }, (_, i) => start * d + i + 0.25);
      writeEmbeddingShard(join(dir, embeddingShardFileName(k, n)), { ids, embeddings: emb, dimension: d, shardId: k, numShards: n });
    }
    const files = listEmbeddingShards(dir);
    expect(files.map((f) => f.split('/').pop())).toEqual([0, 1, 2, 3].map((k) => `embeddings_shard${k}_of_4.safetensors`));
    const all = files.map(readEmbeddingShard);
    expect(all.flatMap((s) => s.ids)).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`));
    expect(all[3]!.embeddings[0]).toBeCloseTo(6 * 3 + 0.25);
    expect(all[2]).toMatchObject({ dimension: 3, shardId: 2, numShards: 4 });
    const { tensors, metadata } = readSafetensorsWithMetadata(files[0]!);
    expect(tensors.get('embeddings')!.shape).toEqual([2, 3]);
    expect(metadata).toMatchObject({ format: 'fidkd-embeddings', count: '2', dimension: '3' });
    rmSync(files[1]!);
    expect(() => listEmbeddingShards(dir)).toThrow(/missing embeddings_shard1_of_4\.safetensors/);
    expect(() => writeEmbeddingShard(join(dir, 'x.safetensors'), { ids: ['a'], embeddings: new Float32Array(2), dimension: 3 })).toThrow(/expected 1 ids × 3/);
  });
});
