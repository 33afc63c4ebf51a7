// BM25 first-stage retrieval throughput: @fidkd/data's typed-array Bm25Index beside wink-bm25-text-search (the
// maintained npm library it was measured against), on the synthetic world and on a larger Zipf-word corpus.
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Bm25Index, bm25Tokenize, generateSyntheticWorld, Rng, type Passage } from '@fidkd/data';
import type { BenchRow, Suite, SuiteContext } from '../suite.js';
import { errorRow } from '../suite.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapMB(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 2 ** 20; // typed arrays live outside the JS heap
}

/** A corpus of `n` 100-word passages over a 50k-word Zipf-like vocabulary (long posting lists, as real text). */
function zipfCorpus(n: number, seed: number): { passages: Passage[]; queries: string[] } {
  const rng = new Rng(seed);
  const vocab = Array.from({ length: 50_000 }, (_, i) => `w${i.toString(36)}`);
  const word = (): string => vocab[Math.floor(rng.next() ** 2.5 * vocab.length)]!;
  const passages: Passage[] = [];
  for (let i = 0; i < n; i++) {
    const words: string[] = [];
    for (let j = 0; j < 100; j++) words.push(word());
    passages.push({ id: String(i + 1), title: `t${i}`, text: words.join(' ') });
  }
  const queries = Array.from({ length: 200 }, () => Array.from({ length: 8 }, word).join(' '));
  return { passages, queries };
}

interface WinkEngine {
  defineConfig(config: unknown): unknown;
  definePrepTasks(tasks: ((s: string) => string[])[]): unknown;
  addDoc(doc: Record<string, string>, id: string): unknown;
  consolidate(): unknown;
  search(text: string, limit: number): unknown;
  getTotalDocs(): number;
}

interface Measured {
  passagesPerSecond: number;
  msPerQuery: number;
  heapMB: number;
}

async function measureOurs(passages: Passage[], queries: string[], k: number): Promise<Measured> {
  const h0 = heapMB();
  const t0 = performance.now();
  const index = await Bm25Index.build(passages);
  const t1 = performance.now();
  for (const q of queries) index.search(q, k);
  const t2 = performance.now();
  const heap = heapMB() - h0;
  void index.size; // keep the index alive across the heap measurement
  return { passagesPerSecond: passages.length / ((t1 - t0) / 1000), msPerQuery: (t2 - t1) / queries.length, heapMB: heap };
}

async function measureWink(passages: Passage[], queries: string[], k: number): Promise<Measured> {
  // A variable specifier: wink ships no types, and it is only the reference here.
  const specifier = 'wink-bm25-text-search';
  const winkBm25 = ((await import(specifier)) as { default: () => WinkEngine }).default;
  const h0 = heapMB();
  const t0 = performance.now();
  const engine = winkBm25();
  engine.defineConfig({ fldWeights: { body: 1 }, bm25Params: { k1: 0.9, b: 0.4, k: 1 } });
  engine.definePrepTasks([bm25Tokenize]);
  for (const p of passages) engine.addDoc({ body: `${p.title} ${p.text}` }, p.id);
  engine.consolidate();
  const t1 = performance.now();
  for (const q of queries) engine.search(q, k);
  const t2 = performance.now();
  const heap = heapMB() - h0;
  void engine.getTotalDocs();
  return { passagesPerSecond: passages.length / ((t1 - t0) / 1000), msPerQuery: (t2 - t1) / queries.length, heapMB: heap };
}

function rows(label: string, n: number, ours: Measured, ref: Measured | Error): BenchRow[] {
  const reference = 'wink-bm25-text-search@3.1.2';
  const r = (value: number, refValue: number | null, unit: string, kind: 'throughput' | 'time', name: string, notes: string): BenchRow => ({
    name, backend: 'js', value, unit, reference, reference_value: refValue,
    ratio: refValue ? value / refValue : null, ratio_kind: kind, notes,
    ...(ref instanceof Error ? { notes: `${notes}; reference failed: ${ref.message}` } : {}),
  });
  const get = (f: keyof Measured): number | null => (ref instanceof Error ? null : ref[f]);
  return [
    r(ours.passagesPerSecond, get('passagesPerSecond'), 'passages/s', 'throughput', `bm25_index_${label}`, `${n} passages, k1 0.9 b 0.4, load average ${loadavg()[0]!.toFixed(1)}`),
    r(ours.msPerQuery, get('msPerQuery'), 'ms/query', 'time', `bm25_query_top100_${label}`, `${n} passages, 200 queries`),
    r(ours.heapMB, get('heapMB'), 'MB heap', 'time', `bm25_heap_${label}`, `${n} passages; lower is better`),
  ];
}

export const bm25Suite: Suite = {
  name: 'bm25',
  description: 'BM25 indexing throughput, query latency and heap: @fidkd/data Bm25Index vs wink-bm25-text-search',
  defaultBackends: ['js'],
  async run(ctx: SuiteContext): Promise<BenchRow[]> {
    const out: BenchRow[] = [];
    const world = generateSyntheticWorld({ seed: 0 });
    const cases: { label: string; passages: Passage[]; queries: string[] }[] = [
      { label: `synthetic_${world.passages.length}`, passages: world.passages, queries: world.dev.map((q) => q.question) },
      { label: 'zipf_100k', ...zipfCorpus(100_000, 1) },
    ];
    for (const c of cases) {
      try {
        ctx.log(`bm25: ${c.label} (ours)`);
        const ours = await measureOurs(c.passages, c.queries, 100);
        ctx.log(`bm25: ${c.label} (wink-bm25-text-search)`);
        const ref = await measureWink(c.passages, c.queries, 100).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
        out.push(...rows(c.label, c.passages.length, ours, ref));
      } catch (err) {
        out.push(errorRow(`bm25_${c.label}`, 'js', err));
      }
    }
    return out;
  },
};

/** Standalone entry (before the suite is wired into the registry): rows `{ name, backend, value, unit, … }`. */
export async function runBm25Bench(options: { log?: (m: string) => void } = {}): Promise<BenchRow[]> {
  return bm25Suite.run({ backends: ['js'], reps: 1, log: options.log ?? ((m) => process.stderr.write(`${m}\n`)) });
}
