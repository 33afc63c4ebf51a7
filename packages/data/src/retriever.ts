// The interface a retriever implements to be scored by @fidkd/bench-retrievers (`fidkd-bench-retrievers`). It lives
// here, in a light package without native code, so that a retriever module can be typed without the harness.
import type { ProgressListener } from '@fidkd/core';
import type { Passage } from './types.js';

/** A question to retrieve for. */
export interface RetrievalQuestion {
  id: string;
  question: string;
}

/** One retrieved passage: its id in the collection and the retriever's score (higher is better). */
export interface RetrievedPassage {
  id: string;
  score: number;
}

/**
 * What the harness evaluates. `retrieve` returns, for each question (same order), up to `k` passages best first.
 * `close` (optional) releases resources.
 */
export interface Retriever {
  retrieve(questions: RetrievalQuestion[], k: number): Promise<RetrievedPassage[][]>;
  close?(): void | Promise<void>;
}

/** What a factory may use to build its retriever. */
export interface RetrieverContext {
  /** The passages TSV (`id\ttext\ttitle`, psgs_w100 format) of the collection. */
  passagesFile: string;
  /** Streams the collection (id, title, text). */
  passages(): AsyncIterable<Passage>;
  /** Directory relative option paths are resolved against. */
  cwd: string;
  onProgress?: ProgressListener;
}

/**
 * Builds a retriever from options (from the command line `--option key=value`, or the caller). A module path
 * given to the harness must export one as `default` or as `createRetriever`.
 */
export type RetrieverFactory = (options: Record<string, unknown>, context: RetrieverContext) => Promise<Retriever>;
