/**
 * The data-file operations the stages need, in one place: FiD question files, the passage collection,
 * embedding shards. Thin wrappers over @fidkd/data.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { ProgressListener } from '@fidkd/core';
import type { FidExample, Passage } from '@fidkd/data';
import * as data from '@fidkd/data';
import { hasAnswer } from '@fidkd/eval';

export type { FidExample, Passage };
export type EmbeddingShard = data.EmbeddingShard;

/** Reads a FiD-format question file (JSON array or JSONL), validated record by record. */
export async function readQuestions(file: string): Promise<FidExample[]> {
  return data.loadQuestions(file);
}

/**
 * Reads a question file whose ctxs must say whether they contain an answer. The FiD repository's NQ / TriviaQA
 * files give ctxs without `has_answer`: it is then computed from the passage text with DPR's rule (@fidkd/eval's
 * hasAnswer), and `log` says so once per file.
 */
export async function readQuestionsWithHasAnswer(file: string, log: (message: string) => void): Promise<FidExample[]> {
  const questions = await readQuestions(file);
  let computed = 0;
  for (const q of questions) {
    for (const p of q.ctxs) {
      if (p.has_answer !== undefined) continue;
      p.has_answer = hasAnswer(q.answers, p.text);
      computed++;
    }
  }
  if (computed) log(`${file}: ${computed} passage(s) without "has_answer": computed from their text with DPR's rule (answer tokens occur in the passage)`);
  return questions;
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
  /** Number of passages in the collection. */
  readonly size: number;
  close(): void;
}

/**
 * Random access to the passage collection by id through @fidkd/data's PassageStore (a byte-offset index built
 * once and rebuilt when the TSV changes): no passage strings held in memory. The index lives in the run
 * directory's `cache/` (one per TSV path), never beside the data, which may be read-only or shared.
 */
export async function passageLookup(file: string, runDir: string, onProgress?: ProgressListener): Promise<PassageLookup> {
  const indexPath = join(runDir, 'cache', `${basename(file)}-${createHash('sha256').update(resolve(file)).digest('hex').slice(0, 16)}.idx`);
  mkdirSync(dirname(indexPath), { recursive: true });
  // an empty passage would be embedded, retrieved and read as nothing: refused by its line while the index is
  // built (an index in the cache was built, and so checked, from the same TSV)
  const onPassage = (p: Passage, line: number): void => {
    if (!/\S/.test(p.text)) throw new data.DataFormatError(file, `line ${line}`, `empty passage text (id ${JSON.stringify(p.id)})`);
  };
  const store = await data.PassageStore.open(file, { indexPath, onProgress, onPassage });
  return { get: (id) => store.getSync(id), size: store.size, close: () => store.close() };
}

/** Rows of shard `shardId` of `numShards` (FiD's split: ⌊total/N⌋ per shard, the last takes the rest). */
export function shardRange(total: number, shardId: number, numShards: number): { start: number; end: number } {
  return data.shardRange(total, shardId, numShards);
}
