import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensorsWithMetadata, writeSafetensors } from '@fidkd/core';
import type { StateDict } from '@fidkd/core';
import { DataFormatError } from './errors.js';

/** Passage embeddings with their ids (row i of `embeddings` is passage `ids[i]`). */
export interface EmbeddingShard {
  ids: string[];
  /** Row-major [ids.length, dimension]. */
  embeddings: Float32Array;
  dimension: number;
  shardId?: number;
  numShards?: number;
}

/**
 * The rows a shard covers, as FiD's generate_passage_embeddings.py splits them: shard size ⌊total / numShards⌋,
 * the last shard also takes the remainder. `shardId` is 0-based.
 */
export function shardRange(total: number, shardId: number, numShards: number): { start: number; end: number } {
  if (!Number.isInteger(numShards) || numShards < 1) throw new RangeError(`numShards must be a positive integer, got ${numShards}`);
  if (!Number.isInteger(shardId) || shardId < 0 || shardId >= numShards) {
    throw new RangeError(`shardId must be an integer in [0, ${numShards - 1}], got ${shardId}`);
  }
  const size = Math.floor(total / numShards);
  const start = shardId * size;
  return { start, end: shardId === numShards - 1 ? total : start + size };
}

/** `embeddings_shard{K}_of_{N}.safetensors` for `--shard-id K --num-shards N`. */
export function embeddingShardFileName(shardId: number, numShards: number): string {
  return `embeddings_shard${shardId}_of_${numShards}.safetensors`;
}

const SHARD_NAME = /^embeddings_shard(\d+)_of_(\d+)\.safetensors$/;

/**
 * Writes a shard as safetensors (atomic): tensor `embeddings` F32 [N, d], tensor `ids` U8 holding the UTF-8 of
 * the ids joined by '\n' (a tensor rather than `__metadata__`, whose JSON header the reference reader caps at
 * 100 MB), and metadata `format=fidkd-embeddings`, `count`, `dimension`, `shard_id`, `num_shards`.
 * In Python: `ids = bytes(f.get_tensor('ids')).decode().split('\n')`.
 */
export function writeEmbeddingShard(file: string, shard: EmbeddingShard): void {
  const { ids, embeddings, dimension } = shard;
  if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`${file}: dimension must be a positive integer`);
  if (embeddings.length !== ids.length * dimension) {
    throw new RangeError(`${file}: embeddings has ${embeddings.length} values, expected ${ids.length} ids × ${dimension}`);
  }
  for (const id of ids) {
    if (id.length === 0 || id.includes('\n')) throw new RangeError(`${file}: passage id ${JSON.stringify(id)} is empty or contains a newline`);
  }
  const idBytes = new Uint8Array(Buffer.from(ids.join('\n'), 'utf8'));
  const tensors: StateDict = new Map([
    ['embeddings', { dtype: 'F32' as const, shape: [ids.length, dimension], data: embeddings }],
    ['ids', { dtype: 'U8' as const, shape: [idBytes.length], data: idBytes }],
  ]);
  const metadata: Record<string, string> = { format: 'fidkd-embeddings', count: String(ids.length), dimension: String(dimension) };
  if (shard.shardId !== undefined) metadata.shard_id = String(shard.shardId);
  if (shard.numShards !== undefined) metadata.num_shards = String(shard.numShards);
  writeSafetensors(file, tensors, metadata);
}

/** Reads a shard written by {@link writeEmbeddingShard}, checking ids against rows. */
export function readEmbeddingShard(file: string): EmbeddingShard {
  const { tensors, metadata } = readSafetensorsWithMetadata(file);
  const emb = tensors.get('embeddings');
  const idt = tensors.get('ids');
  if (!emb || emb.dtype !== 'F32' || emb.shape.length !== 2) {
    throw new DataFormatError(file, 'tensor "embeddings"', 'expected an F32 tensor of shape [N, d]');
  }
  if (!idt || idt.dtype !== 'U8' || idt.shape.length !== 1) throw new DataFormatError(file, 'tensor "ids"', 'expected a U8 tensor (UTF-8 ids joined by newlines)');
  const [n, d] = emb.shape as [number, number];
  const text = Buffer.from(idt.data.buffer, idt.data.byteOffset, idt.data.byteLength).toString('utf8');
  const ids = n === 0 && text.length === 0 ? [] : text.split('\n');
  if (ids.length !== n) throw new DataFormatError(file, 'tensor "ids"', `${ids.length} ids for ${n} embedding rows`);
  const shard: EmbeddingShard = { ids, embeddings: emb.data as Float32Array, dimension: d };
  if (metadata.shard_id !== undefined) shard.shardId = Number(metadata.shard_id);
  if (metadata.num_shards !== undefined) shard.numShards = Number(metadata.num_shards);
  return shard;
}

/**
 * The shard files of a directory for one `numShards` (the largest found when omitted), in shard order. Throws
 * naming the missing shards when the set is incomplete.
 */
export function listEmbeddingShards(dir: string, numShards?: number): string[] {
  const found = new Map<number, Map<number, string>>();
  for (const name of readdirSync(dir)) {
    const m = SHARD_NAME.exec(name);
    if (!m) continue;
    const k = Number(m[1]);
    const n = Number(m[2]);
    if (!found.has(n)) found.set(n, new Map());
    found.get(n)!.set(k, join(dir, name));
  }
  const n = numShards ?? Math.max(0, ...found.keys());
  const shards = found.get(n);
  if (!shards || n === 0) throw new DataFormatError(dir, undefined, `no embeddings_shard*_of_${numShards ?? 'N'}.safetensors files`);
  const missing = [...Array(n).keys()].filter((k) => !shards.has(k));
  if (missing.length > 0) throw new DataFormatError(dir, undefined, `incomplete shard set: missing ${missing.map((k) => embeddingShardFileName(k, n)).join(', ')}`);
  return [...Array(n).keys()].map((k) => shards.get(k)!);
}
