import { Bm25Index, type RetrieverFactory } from '@fidkd/data';

/** Built-in `bm25`: Lucene-style BM25 over `title text` (options k1, b; defaults 0.9 / 0.4). */
export const createBm25Retriever: RetrieverFactory = async (options, context) => {
  const k1 = options.k1 === undefined ? undefined : Number(options.k1);
  const b = options.b === undefined ? undefined : Number(options.b);
  const index = await Bm25Index.build(context.passages(), { k1, b, onProgress: context.onProgress });
  return {
    async retrieve(questions, k) {
      return questions.map((q) => index.search(q.question, k).map((h) => ({ id: h.id, score: h.score })));
    },
  };
};
