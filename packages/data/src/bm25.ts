import type { ProgressListener } from '@fidkd/core';
import { ProgressReporter } from '@fidkd/core';
import { bm25Tokenize } from './bm25-tokenize.js';
import type { Passage } from './types.js';

/** Options of {@link Bm25Index.build}. */
export interface Bm25Options {
  /** Term-frequency saturation; Lucene / Anserini default 0.9. */
  k1?: number;
  /** Length normalisation; Lucene / Anserini default 0.4. */
  b?: number;
  /** Analyzer for passages and queries; default {@link bm25Tokenize}. */
  tokenize?: (text: string) => string[];
  /** What is indexed of a passage; default `title + ' ' + text` (as pyserini's `contents`). */
  passageText?: (p: Passage) => string;
  onProgress?: ProgressListener;
}

/** One BM25 hit. */
export interface Bm25Hit {
  id: string;
  score: number;
}

/** Growable typed-array buffer (the build never holds per-posting JS objects). */
class GrowU32 {
  data = new Uint32Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

/**
 * Okapi BM25 over an in-memory inverted index in compressed-sparse-row typed arrays (doc ids + precomputed
 * impact per posting, 8 bytes a posting). Scoring is Lucene's: idf = ln(1 + (N − df + 0.5)/(df + 0.5)),
 * tf part = tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl)); query terms repeated in the query count repeatedly, as
 * in a Lucene BooleanQuery. Ties are broken by insertion order. Why not a library: see the README (wink-bm25-text-search
 * needs ~10 KB of heap per 100-word passage, 2 GB at 200k passages; this index ~0.9 KB).
 */
export class Bm25Index {
  readonly k1: number;
  readonly b: number;
  private readonly tokenize: (text: string) => string[];

  private constructor(
    private readonly ids: string[],
    private readonly vocab: Map<string, number>,
    private readonly termStart: Uint32Array,
    private readonly postDoc: Uint32Array,
    private readonly postImpact: Float32Array,
    options: { k1: number; b: number; tokenize: (text: string) => string[] },
  ) {
    this.k1 = options.k1;
    this.b = options.b;
    this.tokenize = options.tokenize;
  }

  /** Number of indexed passages. */
  get size(): number {
    return this.ids.length;
  }

  /** Number of distinct terms. */
  get vocabularySize(): number {
    return this.vocab.size;
  }

  /** Builds the index from passages (an array, any iterable, or an async iterable such as `streamPassages`). */
  static async build(passages: Iterable<Passage> | AsyncIterable<Passage>, options: Bm25Options = {}): Promise<Bm25Index> {
    const k1 = options.k1 ?? 0.9;
    const b = options.b ?? 0.4;
    if (!(k1 >= 0) || !(b >= 0 && b <= 1)) throw new RangeError(`Bm25Index: need k1 >= 0 and 0 <= b <= 1, got k1=${k1}, b=${b}`);
    const tokenize = options.tokenize ?? bm25Tokenize;
    const passageText = options.passageText ?? ((p: Passage) => `${p.title} ${p.text}`);
    const ids: string[] = [];
    const vocab = new Map<string, number>();
    // Doc-major (term, tf) pairs first; transposed to term-major postings once document frequencies are known.
    const docTerms = new GrowU32();
    const docTfs = new GrowU32();
    const docStart = new GrowU32();
    const docLen = new GrowU32();
    const df = new GrowU32();
    const seen = new Set<string>();
    const progress = new ProgressReporter('bm25-index', options.onProgress, undefined, 'passages');
    const counts = new Map<number, number>();
    for await (const p of passages as AsyncIterable<Passage>) {
      if (seen.has(p.id)) throw new Error(`Bm25Index.build: duplicate passage id ${JSON.stringify(p.id)}`);
      seen.add(p.id);
      ids.push(p.id);
      const tokens = tokenize(passageText(p));
      counts.clear();
      for (const tok of tokens) {
        let t = vocab.get(tok);
        if (t === undefined) {
          t = vocab.size;
          vocab.set(tok, t);
          df.push(0);
        }
        counts.set(t, (counts.get(t) ?? 0) + 1);
      }
      docStart.push(docTerms.length);
      docLen.push(tokens.length);
      for (const [t, tf] of counts) {
        docTerms.push(t);
        docTfs.push(tf);
        df.data[t]! += 1;
      }
      progress.tick();
    }
    seen.clear();
    const n = ids.length;
    docStart.push(docTerms.length);
    let totalLen = 0;
    for (let d = 0; d < n; d++) totalLen += docLen.data[d]!;
    const avgdl = n > 0 ? totalLen / n : 1;
    const nTerms = vocab.size;
    const termStart = new Uint32Array(nTerms + 1);
    for (let t = 0; t < nTerms; t++) termStart[t + 1] = termStart[t]! + df.data[t]!;
    const nPost = docTerms.length;
    const postDoc = new Uint32Array(nPost);
    const postImpact = new Float32Array(nPost);
    const fill = termStart.slice(0, nTerms);
    const idf = new Float64Array(nTerms);
    for (let t = 0; t < nTerms; t++) {
      const f = df.data[t]!;
      idf[t] = Math.log(1 + (n - f + 0.5) / (f + 0.5));
    }
    for (let d = 0; d < n; d++) {
      const norm = k1 * (1 - b + (b * docLen.data[d]!) / (avgdl || 1));
      for (let j = docStart.data[d]!; j < docStart.data[d + 1]!; j++) {
        const t = docTerms.data[j]!;
        const tf = docTfs.data[j]!;
        const pos = fill[t]!++;
        postDoc[pos] = d; // docs arrive in order, so each posting list is sorted by doc
        postImpact[pos] = (idf[t]! * tf * (k1 + 1)) / (tf + norm);
      }
    }
    progress.end();
    return new Bm25Index(ids, vocab, termStart, postDoc, postImpact, { k1, b, tokenize });
  }

  private scratch: Float32Array | undefined;
  private touched: Uint32Array | undefined;

  /** The top-`k` passages for `query`, best first (an empty list when no query term is in the vocabulary). */
  search(query: string, k: number): Bm25Hit[] {
    if (!(k >= 1)) return [];
    const n = this.ids.length;
    const acc = (this.scratch ??= new Float32Array(n));
    const touched = (this.touched ??= new Uint32Array(n));
    let nTouched = 0;
    for (const tok of this.tokenize(query)) {
      const t = this.vocab.get(tok);
      if (t === undefined) continue;
      for (let j = this.termStart[t]!; j < this.termStart[t + 1]!; j++) {
        const d = this.postDoc[j]!;
        if (acc[d] === 0) touched[nTouched++] = d;
        acc[d] = acc[d]! + this.postImpact[j]!;
      }
    }
    // Bounded min-heap of (score, doc): worst at the root; ties prefer the earlier doc.
    const heapDoc = new Uint32Array(Math.min(k, nTouched));
    const heapScore = new Float64Array(heapDoc.length);
    let size = 0;
    const worse = (i: number, j: number): boolean =>
      heapScore[i]! < heapScore[j]! || (heapScore[i] === heapScore[j] && heapDoc[i]! > heapDoc[j]!);
    const swap = (i: number, j: number): void => {
      const d = heapDoc[i]!; heapDoc[i] = heapDoc[j]!; heapDoc[j] = d;
      const s = heapScore[i]!; heapScore[i] = heapScore[j]!; heapScore[j] = s;
    };
    const siftDown = (i: number): void => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < size && worse(l, m)) m = l;
        if (r < size && worse(r, m)) m = r;
        if (m === i) return;
        swap(i, m);
        i = m;
      }
    };
    for (let i = 0; i < nTouched; i++) {
      const d = touched[i]!;
      const s = acc[d]!;
      acc[d] = 0;
      if (size < heapDoc.length) {
        heapDoc[size] = d;
        heapScore[size] = s;
        let c = size++;
        while (c > 0) {
          const p = (c - 1) >> 1;
          if (!worse(c, p)) break;
          swap(c, p);
          c = p;
        }
      } else if (s > heapScore[0]! || (s === heapScore[0] && d < heapDoc[0]!)) {
        heapDoc[0] = d;
        heapScore[0] = s;
        siftDown(0);
      }
    }
    const out: { d: number; s: number }[] = [];
    for (let i = 0; i < size; i++) out.push({ d: heapDoc[i]!, s: heapScore[i]! });
    out.sort((x, y) => y.s - x.s || x.d - y.d);
    return out.map(({ d, s }) => ({ id: this.ids[d]!, score: s }));
  }

  /** {@link search} for each query. */
  searchMany(queries: readonly string[], k: number, onProgress?: ProgressListener): Bm25Hit[][] {
    const progress = new ProgressReporter('bm25-search', onProgress, queries.length, 'queries');
    const out = queries.map((q) => {
      const r = this.search(q, k);
      progress.tick();
      return r;
    });
    progress.end();
    return out;
  }
}
