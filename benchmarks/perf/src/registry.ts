// The suites `npm run bench:perf` knows, in run order. Each is imported only when it runs, so a suite whose
// dependencies fail to load becomes an error row instead of stopping the harness.
import type { Suite } from './suite.js';

export interface SuiteEntry {
  name: string;
  load(): Promise<Suite>;
}

export const SUITES: readonly SuiteEntry[] = [
  { name: 'gemm', load: async () => (await import('./suites/gemm.js')).gemmSuite },
  { name: 'bert-layer', load: async () => (await import('./suites/bert-layer.js')).bertLayerSuite },
  { name: 'reader', load: async () => (await import('./suites/reader.js')).readerSuite },
  { name: 'retriever', load: async () => (await import('./suites/retriever.js')).retrieverSuite },
  { name: 'embed-ort', load: async () => (await import('./suites/embed-ort.js')).embedOrtSuite },
  { name: 'demo-steps', load: async () => (await import('./suites/demo-steps.js')).demoStepsSuite },
  { name: 'bm25', load: async () => (await import('./suites/bm25.js')).bm25Suite },
  { name: 'index', load: async () => (await import('./suites/index.js')).indexSuite },
  { name: 'index-sizing', load: async () => (await import('./suites/index-sizing.js')).indexSizingSuite },
];
