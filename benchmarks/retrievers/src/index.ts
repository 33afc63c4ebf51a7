// @fidkd/bench-retrievers: a harness that scores pluggable retrievers (BM25, a dense checkpoint, any module
// exporting a RetrieverFactory) on the synthetic world or a FiD-format question file: R@k, MRR@k, TREC runs.
export type { Retriever, RetrieverFactory, RetrieverContext, RetrievalQuestion, RetrievedPassage } from '@fidkd/data';
export { BUILTIN_RETRIEVERS, loadRetrieverFactory, RetrieverLoadError } from './load-retriever.js';
export { createBm25Retriever } from './builtins/bm25.js';
export { createDenseRetriever } from './builtins/dense.js';
export { syntheticDataset, fidDataset, type BenchmarkDataset } from './dataset.js';
export { evaluateRetriever, readerExactMatch, retrieverContext, type BenchmarkOptions, type BenchmarkResult, type ReaderEvaluation } from './harness.js';
export { markdownTable, resultsJson, runFileStems, writeBenchmarkOutputs } from './report.js';
export { runBenchmark, type RunBenchmarkOptions, type RetrieverSpec } from './run.js';
export { RetrieverFailedError } from './retriever-failed.js';
