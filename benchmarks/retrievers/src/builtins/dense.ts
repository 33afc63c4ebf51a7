import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isEmbedBackendChoice, loadEmbedder, resolveEmbedBackend, EMBED_BACKENDS } from '@fidkd/bi-encoder';
import type { TokenBatch } from '@fidkd/core';
import type { Passage, RetrieverFactory } from '@fidkd/data';
import { PassageIndex } from '@fidkd/faiss-index';
import { encodeTexts, formatRetrieverPassage, loadTokenizer } from '@fidkd/tokenization';

/**
 * Built-in `dense`: a bi-encoder checkpoint (`checkpoint`, HF BERT or FiD Retriever layout) with its
 * `tokenizer` (default `<checkpoint>/tokenizer.json`). Passages are embedded into a new PassageIndex
 * (`factory`, default Flat), unless `index` names a saved PassageIndex directory of the same collection.
 * Options: question_maxlength (40), passage_maxlength (200), batch_size (64), embed_backend (auto: ONNX Runtime
 * when onnxruntime-node is installed, else tfjs; `ort` or `tfjs` by name — the same embeddings within 1e-5).
 */
export const createDenseRetriever: RetrieverFactory = async (options, context) => {
  if (typeof options.checkpoint !== 'string') throw new Error('dense retriever: option "checkpoint" (a bi-encoder checkpoint directory) is required');
  const dir = resolve(context.cwd, options.checkpoint);
  if (!existsSync(join(dir, 'config.json'))) throw new Error(`dense retriever: ${dir} is not a checkpoint directory (no config.json)`);
  const tokFile = resolve(context.cwd, typeof options.tokenizer === 'string' ? options.tokenizer : join(dir, 'tokenizer.json'));
  if (!existsSync(tokFile)) throw new Error(`dense retriever: tokenizer ${tokFile} not found (option "tokenizer")`);
  const tokenizer = loadTokenizer(tokFile);
  const qLen = Number(options.question_maxlength ?? 40);
  const pLen = Number(options.passage_maxlength ?? 200);
  const batchSize = Number(options.batch_size ?? 64);
  const choice = options.embed_backend ?? 'auto';
  if (!isEmbedBackendChoice(choice)) throw new Error(`dense retriever: option "embed_backend" must be one of ${EMBED_BACKENDS.join(', ')} (got ${JSON.stringify(choice)})`);
  const model = await loadEmbedder(dir, await resolveEmbedBackend(choice));
  let index: PassageIndex;
  if (typeof options.index === 'string') {
    index = PassageIndex.load(resolve(context.cwd, options.index));
  } else {
    index = PassageIndex.create({ dimension: model.dimension, factory: typeof options.factory === 'string' ? options.factory : 'Flat', metric: 'ip' });
    const ids: string[] = [];
    const chunks: Float32Array[] = [];
    const batches = async function* (): AsyncGenerator<TokenBatch> {
      let buf: Passage[] = [];
      for await (const p of context.passages()) {
        buf.push(p);
        ids.push(p.id);
        if (buf.length === batchSize * 8) {
          yield await encodeTexts(tokenizer, buf.map((x) => formatRetrieverPassage(x.title, x.text)), { maxLength: pLen, kind: 'bert' });
          buf = [];
        }
      }
      if (buf.length) yield await encodeTexts(tokenizer, buf.map((x) => formatRetrieverPassage(x.title, x.text)), { maxLength: pLen, kind: 'bert' });
    };
    await model.embedPassages(batches(), { batchSize, onProgress: context.onProgress, onEmbeddings: (rows) => void chunks.push(rows.slice()) });
    const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of chunks) {
      all.set(c, off);
      off += c.length;
    }
    if (!index.isTrained) index.train(all);
    index.add(ids, all);
  }
  return {
    async retrieve(questions, k) {
      const q = await model.embedQuestions(await encodeTexts(tokenizer, questions.map((x) => x.question), { maxLength: qLen, kind: 'bert' }), { batchSize });
      return index.search(q, k).map((hits) => hits.map((h) => ({ id: h.id, score: h.score })));
    },
    async close() {
      await model.dispose();
    },
  };
};
