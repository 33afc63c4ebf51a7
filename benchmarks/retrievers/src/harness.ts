import { ProgressReporter, type ProgressListener } from '@fidkd/core';
import { DataFormatError, PassageStore, streamPassages, type FidExample, type Passage, type Retriever, type RetrieverContext } from '@fidkd/data';
import { exactMatch, hasAnswer, mrrAtK, topKAccuracy, type TrecRun } from '@fidkd/eval';
import type { BenchmarkDataset } from './dataset.js';
import { inRetriever } from './retriever-failed.js';

/** Reader EM on the retrieved passages (optional). */
export interface ReaderEvaluation {
  /** FiD reader checkpoint directory. */
  checkpoint: string;
  /** tokenizer.json (default `<checkpoint>/tokenizer.json`). */
  tokenizer?: string;
  n_context: number;
  text_maxlength: number;
  answer_maxlength: number;
  batch_size?: number;
}

export interface BenchmarkOptions {
  /** Top-k accuracies to report (default 1, 5, 20, 100). */
  ks?: number[];
  /** Questions per `retrieve` call (default 256). */
  batchSize?: number;
  reader?: ReaderEvaluation;
  onProgress?: ProgressListener;
}

/** The scores of one retriever on one dataset. */
export interface BenchmarkResult {
  retriever: string;
  dataset: string;
  questions: number;
  /** k → top-k accuracy (fraction, DPR has_answer). */
  recall: Record<string, number>;
  /** Mean reciprocal rank of the first has_answer passage within the top `mrr_k`. */
  mrr: number;
  /** The cutoff of `mrr`: 10, or fewer when fewer passages were retrieved (the largest k asked for). */
  mrr_k: number;
  /** k → fraction of questions with a gold passage in the top k (datasets that know gold passages). */
  gold_recall?: Record<string, number>;
  reader_em?: number;
  /** Seconds spent retrieving (the `retrieve` calls). */
  seconds: number;
  /** Seconds the factory took to build the retriever (loading, embedding and indexing the collection). */
  setup_seconds?: number;
  /** The ranked lists (for TREC run files). */
  run: TrecRun;
}

/** The context a factory gets for a dataset. */
export function retrieverContext(dataset: BenchmarkDataset, cwd = process.cwd(), onProgress?: ProgressListener): RetrieverContext {
  return { passagesFile: dataset.passagesFile, passages: () => streamPassages(dataset.passagesFile), cwd, onProgress };
}

/**
 * Runs `retriever` on every question of `dataset`, checks what it returns (one list per question of at most k
 * distinct, known passage ids with finite scores, best first) and scores it: R@k, MRR@10 (or MRR@k when the
 * largest k is below 10), gold R@k, and reader EM when asked.
 */
export async function evaluateRetriever(name: string, retriever: Retriever, dataset: BenchmarkDataset, options: BenchmarkOptions = {}): Promise<BenchmarkResult> {
  const ks = options.ks ?? [1, 5, 20, 100];
  const kMax = Math.max(...ks, options.reader?.n_context ?? 0);
  const batch = options.batchSize ?? 256;
  const store = await PassageStore.open(dataset.passagesFile);
  // a gold passage the collection lacks would count as never retrieved: gold R@k 0 without a word
  for (const q of dataset.questions) {
    const missing = q.gold_passage_ids?.find((id) => !store.getSync(id));
    if (missing !== undefined) {
      store.close();
      throw new DataFormatError(dataset.questionsFile ?? dataset.name, `question ${JSON.stringify(q.id)}`, `gold passage id ${JSON.stringify(missing)} is not in the passages TSV ${dataset.passagesFile}`);
    }
  }
  const t0 = performance.now();
  const run: TrecRun = new Map();
  const hits: boolean[][] = [];
  const gold: boolean[][] = [];
  const withCtxs: FidExample[] = [];
  const progress = new ProgressReporter(`retrieve (${name})`, options.onProgress, dataset.questions.length, 'questions');
  try {
    for (let s = 0; s < dataset.questions.length; s += batch) {
      const chunk = dataset.questions.slice(s, s + batch);
      const lists = await inRetriever(name, 'retrieve()', () => retriever.retrieve(chunk.map((q) => ({ id: q.id, question: q.question })), kMax));
      if (!Array.isArray(lists) || lists.length !== chunk.length) {
        throw new Error(`retriever ${name} returned ${Array.isArray(lists) ? lists.length : typeof lists} lists for ${chunk.length} questions`);
      }
      chunk.forEach((q, i) => {
        const list = lists[i]!;
        if (!Array.isArray(list)) throw new Error(`retriever ${name}: result for question ${q.id} is not an array`);
        // More than asked for is a retriever that ignores k: refused rather than cut, like any other wrong result.
        if (list.length > kMax) throw new Error(`retriever ${name}: question ${q.id}: ${list.length} passages returned, more than the k = ${kMax} asked for`);
        const ctxs: Passage[] = [];
        const rankOf = new Map<string, number>();
        list.forEach((h, r) => {
          if (!h || typeof h.id !== 'string' || typeof h.score !== 'number' || !Number.isFinite(h.score)) {
            throw new Error(`retriever ${name}: question ${q.id}, rank ${r + 1}: expected { id: string, score: finite number }, got ${JSON.stringify(h)}`);
          }
          if (r > 0 && h.score > list[r - 1]!.score) throw new Error(`retriever ${name}: question ${q.id}: results are not sorted best first (rank ${r + 1})`);
          // A TREC run cannot hold a passage twice for a question (@fidkd/eval's readTrecRun refuses it).
          const first = rankOf.get(h.id);
          if (first !== undefined) throw new Error(`retriever ${name}: question ${q.id}: passage id ${h.id} returned twice (ranks ${first} and ${r + 1})`);
          rankOf.set(h.id, r + 1);
          const p = store.getSync(h.id);
          if (!p) throw new Error(`retriever ${name}: question ${q.id}: passage id ${h.id} is not in ${dataset.passagesFile}`);
          ctxs.push(p);
        });
        run.set(q.id, list.map((h) => ({ docid: h.id, score: h.score })));
        hits.push(ctxs.map((p) => hasAnswer(q.answers, p.text)));
        if (q.gold_passage_ids) gold.push(ctxs.map((p) => q.gold_passage_ids!.includes(p.id)));
        withCtxs.push({ ...q, ctxs: ctxs.map((p) => ({ id: p.id, title: p.title, text: p.text })) });
      });
      progress.tick(chunk.length);
    }
    progress.end();
  } finally {
    store.close();
  }
  const acc = topKAccuracy(hits, ks);
  const mrrK = Math.min(10, Math.max(...ks));
  const result: BenchmarkResult = {
    retriever: name,
    dataset: dataset.name,
    questions: hits.length,
    recall: Object.fromEntries(ks.map((k) => [String(k), acc[k]!])),
    mrr: mrrAtK(hits, mrrK),
    mrr_k: mrrK,
    seconds: (performance.now() - t0) / 1000,
    run,
  };
  if (gold.length === hits.length && hits.length > 0) {
    const g = topKAccuracy(gold, ks);
    result.gold_recall = Object.fromEntries(ks.map((k) => [String(k), g[k]!]));
  }
  if (options.reader) result.reader_em = await readerExactMatch(withCtxs, options.reader);
  return result;
}

/** Exact match of a FiD reader answering from each question's retrieved passages (greedy decoding). */
export async function readerExactMatch(examples: FidExample[], r: ReaderEvaluation): Promise<number> {
  const { FiDReader } = await import('@fidkd/fid-reader');
  const tok = await import('@fidkd/tokenization');
  const { join } = await import('node:path');
  const tokenizer = tok.loadTokenizer(r.tokenizer ?? join(r.checkpoint, 'tokenizer.json'));
  const reader = FiDReader.load(r.checkpoint);
  const bs = r.batch_size ?? 16;
  let em = 0;
  try {
    for (let s = 0; s < examples.length; s += bs) {
      const chunk = examples.slice(s, s + bs);
      const batch = await tok.encodeReaderBatch(tokenizer, chunk.map((q) => ({ question: q.question, passages: q.ctxs })), {
        nContext: r.n_context, textMaxlength: r.text_maxlength, missingPassages: 'repeat',
      });
      const g = await reader.generateAsync(batch, { maxNewTokens: r.answer_maxlength });
      for (let i = 0; i < chunk.length; i++) {
        const answer = await tokenizer.decode(g.ids.subarray(i * g.length, (i + 1) * g.length), true);
        if (exactMatch(answer, chunk[i]!.answers)) em++;
      }
    }
  } finally {
    reader.dispose();
  }
  return em / Math.max(1, examples.length);
}
