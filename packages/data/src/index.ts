// @fidkd/data: FiD question files, passages TSV streaming and random access, embedding shards, BM25, the synthetic world.
export type { Passage, FidContext, FidExample } from './types.js';
export { DataFormatError } from './errors.js';
export { locateJsonError } from './json-errors.js';
export {
  readQuestions, loadQuestions, writeQuestions, validateExample, type QuestionFileFormat, type QuestionFileOptions,
} from './questions.js';
export {
  streamPassages, loadPassages, writePassagesTsv, PassageStream, splitTsvRow, parsePassageRow, formatPassageRow,
  PASSAGES_TSV_HEADER, parsePassagesHeader, readPassagesColumns, DPR_PASSAGE_COLUMNS, type PassageColumns,
  type StreamPassagesOptions, type MalformedRow, type LocatedPassage,
} from './passages-tsv.js';
export { PassageStore, passageIdHash, type PassageStoreOptions } from './passage-store.js';
export {
  shardRange, embeddingShardFileName, writeEmbeddingShard, readEmbeddingShard, listEmbeddingShards, type EmbeddingShard,
} from './embedding-shards.js';
export { Bm25Index, type Bm25Options, type Bm25Hit } from './bm25.js';
export { bm25Tokenize, LUCENE_ENGLISH_STOP_WORDS } from './bm25-tokenize.js';
export { buildInitialContexts, type InitialContextsOptions, type PassageLookup } from './initial-contexts.js';
export {
  generateSyntheticWorld, type SyntheticWorld, type SyntheticWorldOptions, type SyntheticFact,
  resolveSyntheticWorldOptions, SYNTHETIC_WORLD_VERSION,
} from './synthetic-world.js';
export { writeSyntheticWorld, type WriteSyntheticWorldOptions, type SyntheticWorldFiles } from './synthetic-world-files.js';
export type { Retriever, RetrieverFactory, RetrieverContext, RetrievalQuestion, RetrievedPassage } from './retriever.js';
export { CITIES, RELATIONS, type RelationName, type RelationSpec } from './synthetic-vocabulary.js';
/** The synthetic world's seeded generator: @fidkd/core's `SeededRandom` (mulberry32, splitmix32-mixed seed). */
export { SeededRandom as Rng } from '@fidkd/core';
