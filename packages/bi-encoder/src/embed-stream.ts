/**
 * Batched, streaming embedding shared by every embedder (tfjs's BiEncoder and the onnxruntime OrtEmbedder): one
 * TokenBatch or a (async) stream of them, cut into chunks of `batchSize` rows, each chunk embedded by the
 * embedder's own function, progress events, and either one [N, d] array or each chunk handed to `onEmbeddings`.
 */
import { ProgressReporter, type ProgressListener, type TokenBatch } from '@fidkd/core';
import { checkTokenBatch } from './token-batch.js';

export interface EmbedOptions {
  /** Texts per forward pass (default 64 for questions, 32 for passages). */
  batchSize?: number;
  /** Progress events (`task` 'embed-questions' / 'embed-passages', unit 'texts'). */
  onProgress?: ProgressListener;
}

export interface EmbedPassagesOptions extends EmbedOptions {
  /** Total passage count, when known, for progress events. */
  total?: number;
  /**
   * Receives each chunk of embeddings (row-major [rows, d]) and the index of its first row, in order. When
   * given, nothing is accumulated (memory stays bounded for millions of passages) and the promise resolves to
   * the number of passages embedded. The next chunk is computed only after a returned promise settles.
   */
  onEmbeddings?: (rows: Float32Array, start: number) => void | Promise<void>;
}

/** A source of passages: one batch or a (async) stream of batches. */
export type PassageSource = TokenBatch | Iterable<TokenBatch> | AsyncIterable<TokenBatch>;

/** Embeds rows [start, end) of a batch to a row-major [end − start, d] array. */
export type EmbedChunk = (batch: TokenBatch, start: number, end: number) => Promise<Float32Array>;

/** Question embeddings [N, d] of one batch, `batchSize` (default 64) rows per call of `chunk`. */
export async function embedQuestionsWith(chunk: EmbedChunk, dimension: number, batch: TokenBatch, options: EmbedOptions = {}): Promise<Float32Array> {
  checkTokenBatch(batch, 'embedQuestions');
  const out = new Float32Array(batch.count * dimension);
  await embedChunks(chunk, batch, options.batchSize ?? 64, (rows, start) => out.set(rows, start * dimension),
    new ProgressReporter('embed-questions', options.onProgress, batch.count, 'texts'));
  return out;
}

/** Passage embeddings [N, d] (or N, streamed to `onEmbeddings`), `batchSize` (default 32) rows per call of `chunk`. */
export async function embedPassagesWith(chunk: EmbedChunk, dimension: number, source: PassageSource, options: EmbedPassagesOptions = {}): Promise<Float32Array | number> {
  const batches = isTokenBatch(source) ? [source] : source;
  const reporter = new ProgressReporter('embed-passages', options.onProgress, options.total ?? (isTokenBatch(source) ? source.count : undefined), 'texts');
  const collected: Float32Array[] = [];
  let offset = 0;
  const sink = options.onEmbeddings ?? ((rows: Float32Array) => void collected.push(rows));
  for await (const batch of batches as AsyncIterable<TokenBatch>) {
    checkTokenBatch(batch, `embedPassages (batch starting at passage ${offset})`);
    const base = offset;
    await embedChunks(chunk, batch, options.batchSize ?? 32, (rows, start) => sink(rows, base + start), reporter, false);
    offset += batch.count;
  }
  reporter.end();
  if (options.onEmbeddings) return offset;
  const out = new Float32Array(offset * dimension);
  let pos = 0;
  for (const c of collected) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

async function embedChunks(
  chunk: EmbedChunk,
  batch: TokenBatch,
  batchSize: number,
  sink: (rows: Float32Array, start: number) => void | Promise<void>,
  reporter: ProgressReporter,
  endReporter = true,
): Promise<void> {
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new Error(`bi-encoder: batchSize must be a positive integer, got ${batchSize}`);
  for (let start = 0; start < batch.count; start += batchSize) {
    const end = Math.min(batch.count, start + batchSize);
    await sink(await chunk(batch, start, end), start);
    reporter.tick(end - start);
  }
  if (endReporter) reporter.end();
}

function isTokenBatch(x: unknown): x is TokenBatch {
  return typeof x === 'object' && x !== null && ArrayBuffer.isView((x as TokenBatch).ids) && typeof (x as TokenBatch).count === 'number';
}
