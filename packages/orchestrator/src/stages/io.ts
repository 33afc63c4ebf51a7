/**
 * The data-file operations the stages need, in one place: FiD question files, the passage collection,
 * embedding shards. Thin wrappers over @fidkd/data.
 */
import type { FidExample, Passage } from '@fidkd/data';
import * as data from '@fidkd/data';

export type { FidExample, Passage };
export type EmbeddingShard = data.EmbeddingShard;

/** Reads a FiD-format question file (JSON array or JSONL), validated record by record. */
export async function readQuestions(file: string): Promise<FidExample[]> {
  return data.loadQuestions(file);
}

/** Writes a FiD-format question file atomically. */
export async function writeQuestions(file: string, examples: FidExample[]): Promise<void> {
  await data.writeQuestions(file, examples);
}

/** Streams the passages of a TSV (`id\ttext\ttitle`) collection. */
export function streamPassages(file: string): AsyncIterable<Passage> {
  return data.streamPassages(file);
}

/** Writes an embedding shard (safetensors `embeddings` [N, d] + ids) atomically. */
export async function writeShard(file: string, shard: EmbeddingShard): Promise<void> {
  data.writeEmbeddingShard(file, shard);
}

/** Reads an embedding shard written by {@link writeShard}. */
export async function readShard(file: string): Promise<EmbeddingShard> {
  return data.readEmbeddingShard(file);
}

/** Looks passages up by id (title and text for Dᵗ⁺¹'s ctxs); `close` releases the file. */
export interface PassageLookup {
  get(id: string): Passage | undefined;
  close(): void;
}

/**
 * Random access to the passage collection by id through @fidkd/data's PassageStore (a byte-offset index built
 * once next to the TSV, `<tsv>.idx`, and rebuilt when the TSV changes): no passage strings held in memory.
 */
export async function passageLookup(file: string): Promise<PassageLookup> {
  const store = await data.PassageStore.open(file);
  return { get: (id) => store.getSync(id), close: () => store.close() };
}

/** Rows of shard `shardId` of `numShards` (FiD's split: ⌊total/N⌋ per shard, the last takes the rest). */
export function shardRange(total: number, shardId: number, numShards: number): { start: number; end: number } {
  return data.shardRange(total, shardId, numShards);
}
