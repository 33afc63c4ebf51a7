import type { ProgressListener } from '@fidkd/core';
import type { BenchmarkDataset } from './dataset.js';
import { evaluateRetriever, retrieverContext, type BenchmarkOptions, type BenchmarkResult } from './harness.js';
import { loadRetrieverFactory } from './load-retriever.js';
import { inRetriever } from './retriever-failed.js';

/** A retriever to evaluate: a built-in name or module path, with its options and the label of its row. */
export interface RetrieverSpec {
  spec: string;
  options?: Record<string, unknown>;
  label?: string;
}

export interface RunBenchmarkOptions extends BenchmarkOptions {
  cwd?: string;
  onProgress?: ProgressListener;
}

/** Loads each retriever (built-in or module), evaluates it on the dataset, and closes it. */
export async function runBenchmark(dataset: BenchmarkDataset, retrievers: RetrieverSpec[], options: RunBenchmarkOptions = {}): Promise<BenchmarkResult[]> {
  const results: BenchmarkResult[] = [];
  for (const r of retrievers) {
    const factory = await loadRetrieverFactory(r.spec, options.cwd);
    const t0 = performance.now();
    const retriever = await inRetriever(r.label ?? r.spec, 'its factory', () => factory(r.options ?? {}, retrieverContext(dataset, options.cwd, options.onProgress)));
    const setupSeconds = (performance.now() - t0) / 1000;
    if (!retriever || typeof retriever.retrieve !== 'function') throw new Error(`retriever ${r.spec}: its factory did not return an object with retrieve(questions, k)`);
    try {
      results.push({ ...(await evaluateRetriever(r.label ?? r.spec, retriever, dataset, options)), setup_seconds: setupSeconds });
    } finally {
      await inRetriever(r.label ?? r.spec, 'close()', async () => retriever.close?.());
    }
  }
  return results;
}
