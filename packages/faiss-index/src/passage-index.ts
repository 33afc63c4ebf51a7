import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { types } from 'node:util';
import { ProgressReporter, type ProgressListener } from '@fidkd/core';
import { writeDirAtomic } from './atomic-dir.js';
import { bufferSource } from './byte-source.js';
import { PassageIndexError } from './errors.js';
import { offsetIvfIds, parseFaissIndex, writeKnob, type FaissLayout } from './faiss-format.js';
import { indexFromBuffer } from './faiss-io.js';
import { faissIndexClass, METRIC_INNER_PRODUCT, METRIC_L2, type FaissIndex } from './faiss-node.js';
import { augmentQueries, augmentRows, maxSquaredNorm } from './ip-via-l2.js';
import {
  FAISS_FILE,
  IDS_FILE,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  readManifest,
  type IndexManifest,
  type SearchParameters,
} from './manifest.js';
import { DEFAULT_EF_SEARCH, DEFAULT_NPROBE, readSearchParameters, smallestNlist, writeSearchParameters } from './search-effort.js';

/** Similarity of a PassageIndex. */
export type IndexMetric = 'ip' | 'l2';

/** Options of {@link PassageIndex.create}. */
export interface PassageIndexOptions extends SearchParameters {
  /** Dimension of passage and query vectors (indexing_dimension). */
  dimension: number;
  /** Any faiss index_factory string: 'Flat' (default), 'HNSW32', 'IVF1024,PQ64', 'IVF256,Flat' … */
  factory?: string;
  /** 'ip' (inner product, default: the paper's S(q,p) ranking) or 'l2'. */
  metric?: IndexMetric;
  /**
   * Inner product through an L2 index with one extra coordinate (DPR's HNSW indexer); needs metric 'ip'.
   * φ (the largest squared norm) is `ipMaxNorm²` when given, else the largest squared norm of the first vectors
   * trained on or added; later vectors above it are rejected.
   */
  ipViaL2?: boolean;
  /** Upper bound on passage vector norms for `ipViaL2`. */
  ipMaxNorm?: number;
  /** Rows per faiss-node call in add / search (bounds the temporary number[]; default ≈ 2^20 floats). */
  chunkRows?: number;
}

/** One search result. */
export interface SearchHit {
  id: string;
  /**
   * Higher is better. 'ip': the inner product q·p (also with `ipViaL2`, recovered from the L2 distance);
   * 'l2': the negative squared Euclidean distance −‖q − p‖².
   */
  score: number;
}

/** Options of {@link PassageIndex.add}. */
export interface AddOptions {
  /** Progress events (task 'index-add', unit 'vectors'). */
  onProgress?: ProgressListener;
}

/** Overrides of the stored search effort when loading. */
export type LoadOptions = Pick<SearchParameters, 'efSearch' | 'nprobe'>;

interface State {
  faiss: FaissIndex;
  dimension: number;
  factory: string;
  metric: IndexMetric;
  ipViaL2: boolean;
  phi: number | undefined;
  phiFixed: boolean;
  chunkRows: number;
  ids: string[];
  fingerprint: string | null;
  layout: FaissLayout;
}

const FLAT_TAGS = new Set(['IxFI', 'IxF2', 'IxFl']);

function describe(vectors: unknown): string {
  return ArrayBuffer.isView(vectors) ? vectors.constructor.name : Array.isArray(vectors) ? 'an Array' : typeof vectors;
}

/** sha256 of a trained, empty serialized index with its search-effort fields zeroed. */
function fingerprintOf(buffer: Buffer, layout: FaissLayout): string {
  const copy = Buffer.from(buffer);
  for (const k of layout.knobs) writeKnob(copy, k, 0);
  return createHash('sha256').update(copy).digest('hex');
}

/**
 * A passage index over faiss-node: string ids, any faiss factory (Flat, HNSW, IVF-PQ …), chunked add, batched
 * search, atomic save / load and shard merging. Search effort (HNSW efSearch / efConstruction, IVF nprobe), which
 * faiss-node's API cannot set, is written into the index's own faiss serialization (see README).
 */
export class PassageIndex {
  private s: State;
  /** The ids as a set, for duplicate checks without rebuilding it on every add. */
  private idSet: Set<string>;

  private constructor(state: State) {
    this.s = state;
    this.idSet = new Set(state.ids);
  }

  /** Creates an empty index. HNSW parts get efSearch 128 and IVF parts nprobe min(16, nlist) unless given. */
  static create(options: PassageIndexOptions): PassageIndex {
    const { dimension } = options;
    const factory = options.factory ?? 'Flat';
    const metric = options.metric ?? 'ip';
    const ipViaL2 = options.ipViaL2 ?? false;
    if (!Number.isInteger(dimension) || dimension < 1) throw new PassageIndexError(`dimension must be a positive integer, got ${String(dimension)}`);
    if (typeof factory !== 'string' || factory.trim() === '') throw new PassageIndexError('factory must be a faiss index_factory string such as "Flat" or "HNSW32"');
    if (metric !== 'ip' && metric !== 'l2') throw new PassageIndexError(`metric must be 'ip' or 'l2', got ${JSON.stringify(metric)}`);
    if (ipViaL2 && metric !== 'ip') throw new PassageIndexError("ipViaL2 is a way to search by inner product: it needs metric 'ip'");
    if (options.ipMaxNorm !== undefined && (!ipViaL2 || !(options.ipMaxNorm > 0) || !Number.isFinite(options.ipMaxNorm))) {
      throw new PassageIndexError('ipMaxNorm must be a positive finite number and needs ipViaL2: true');
    }
    const faissDim = ipViaL2 ? dimension + 1 : dimension;
    const faissMetric = metric === 'ip' && !ipViaL2 ? METRIC_INNER_PRODUCT : METRIC_L2;
    let created: FaissIndex;
    try {
      created = faissIndexClass().fromFactory(faissDim, factory, faissMetric);
    } catch (err) {
      if (err instanceof PassageIndexError) throw err;
      throw new PassageIndexError(`faiss cannot build factory '${factory}' for dimension ${faissDim}: ${(err as Error).message}`);
    }
    const buffer = created.toBuffer();
    const layout = parseFaissIndex(bufferSource(buffer, `factory '${factory}'`));
    const kinds = new Set(layout.knobs.map((k) => k.kind));
    const nlist = smallestNlist(layout);
    const params: SearchParameters = {
      efSearch: options.efSearch ?? (kinds.has('efSearch') ? DEFAULT_EF_SEARCH : undefined),
      efConstruction: options.efConstruction,
      nprobe: options.nprobe ?? (kinds.has('nprobe') && nlist !== undefined ? Math.min(DEFAULT_NPROBE, nlist) : undefined),
    };
    writeSearchParameters(buffer, layout, params, factory);
    const faiss = indexFromBuffer(buffer, `factory '${factory}'`, layout);
    const chunkRows = options.chunkRows ?? Math.max(1, Math.floor(2 ** 20 / faissDim));
    if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new PassageIndexError(`chunkRows must be a positive integer, got ${String(chunkRows)}`);
    const index = new PassageIndex({
      faiss,
      dimension,
      factory,
      metric,
      ipViaL2,
      phi: options.ipMaxNorm !== undefined ? options.ipMaxNorm ** 2 : undefined,
      phiFixed: options.ipMaxNorm !== undefined,
      chunkRows,
      ids: [],
      fingerprint: null,
      layout,
    });
    index.refreshLayout();
    if (faiss.isTrained()) index.s.fingerprint = index.emptyFingerprint();
    return index;
  }

  /** Loads an index saved by {@link save}; `overrides` replaces the stored efSearch / nprobe. */
  static load(dir: string, overrides: LoadOptions = {}): PassageIndex {
    const manifest = readManifest(dir);
    const idsPath = join(dir, manifest.files.ids);
    const ids = readIds(idsPath);
    if (ids.length !== manifest.count) {
      throw new PassageIndexError(`${idsPath}: holds ${ids.length} ids but ${join(dir, MANIFEST_FILE)} says count ${manifest.count}`);
    }
    const faissPath = join(dir, manifest.files.faiss);
    const buffer = readFileSync(faissPath);
    const layout = parseFaissIndex(bufferSource(buffer, faissPath));
    const faissDim = manifest.ipViaL2 ? manifest.dimension + 1 : manifest.dimension;
    if (layout.root.d !== faissDim || layout.root.ntotal !== manifest.count) {
      throw new PassageIndexError(
        `${faissPath}: holds ${layout.root.ntotal} vectors of dimension ${layout.root.d} but the manifest says ${manifest.count} of dimension ${faissDim}`,
      );
    }
    const stored = readSearchParameters(layout);
    for (const kind of ['efSearch', 'efConstruction', 'nprobe'] as const) {
      if (manifest.searchParameters[kind] !== undefined && manifest.searchParameters[kind] !== stored[kind]) {
        throw new PassageIndexError(
          `${dir}: ${MANIFEST_FILE} says ${kind} ${manifest.searchParameters[kind]} but ${manifest.files.faiss} holds ${String(stored[kind])}`,
        );
      }
    }
    writeSearchParameters(buffer, layout, overrides, manifest.factory);
    const faiss = indexFromBuffer(buffer, faissPath, layout);
    const index = new PassageIndex({
      faiss,
      dimension: manifest.dimension,
      factory: manifest.factory,
      metric: manifest.metric,
      ipViaL2: manifest.ipViaL2,
      phi: manifest.ipMaxSquaredNorm ?? undefined,
      phiFixed: manifest.ipMaxNormFixed,
      chunkRows: Math.max(1, Math.floor(2 ** 20 / faissDim)),
      ids,
      fingerprint: manifest.trainedFingerprint,
      layout,
    });
    if (overrides.efSearch !== undefined || overrides.nprobe !== undefined) index.refreshLayout();
    return index;
  }

  /**
   * Merges shard indexes into a new one (the inputs are left unchanged); ids must be disjoint. Flat and IVF
   * shards are merged by faiss (IVF shards must come from one trained index: same trainedFingerprint); HNSW
   * shards, which faiss cannot merge, are rebuilt from the vectors their flat storage holds.
   */
  static merge(indexes: readonly PassageIndex[]): PassageIndex {
    if (indexes.length === 0) throw new PassageIndexError('merge needs at least one index');
    let merged: PassageIndex | undefined;
    indexes.forEach((shard, i) => {
      merged = merged === undefined ? shard.clone() : merged.mergeShard(shard, `shard ${i}`);
    });
    return merged!;
  }

  /** Merges saved shard directories (loaded one at a time) into a new index. */
  static mergeDirectories(dirs: readonly string[]): PassageIndex {
    if (dirs.length === 0) throw new PassageIndexError('mergeDirectories needs at least one directory');
    let merged = PassageIndex.load(dirs[0]!);
    for (const dir of dirs.slice(1)) merged = merged.mergeShard(PassageIndex.load(dir), dir);
    return merged;
  }

  /** Dimension of passage and query vectors. */
  get dimension(): number {
    return this.s.dimension;
  }
  /** The faiss factory string. */
  get factory(): string {
    return this.s.factory;
  }
  get metric(): IndexMetric {
    return this.s.metric;
  }
  /** Whether inner product is served through an augmented L2 index. */
  get ipViaL2(): boolean {
    return this.s.ipViaL2;
  }
  /** Number of vectors (and ids) in the index. */
  get size(): number {
    return this.s.ids.length;
  }
  /** False for an IVF / PQ index that still needs {@link train}. */
  get isTrained(): boolean {
    return this.s.faiss.isTrained();
  }
  /** Least number of training vectors the index needs (0 when it needs no training). */
  get minTrainingVectors(): number {
    return this.s.layout.minTrainingPoints;
  }
  /** The search effort stored in the index (read back from faiss's serialization). */
  get searchParameters(): SearchParameters {
    return readSearchParameters(this.s.layout);
  }
  /** Ids in insertion order (position = faiss label). */
  get ids(): readonly string[] {
    return this.s.ids;
  }
  /** sha256 of the trained empty index: shards merge only when these agree (null before training). */
  get trainedFingerprint(): string | null {
    return this.s.fingerprint;
  }

  /** Trains an IVF / PQ index on row-major [N, dimension] vectors. */
  train(vectors: Float32Array): void {
    const s = this.s;
    if (this.isTrained) throw new PassageIndexError(`factory '${s.factory}' is already trained (or needs no training)`);
    const n = this.checkVectors(vectors, 'train vectors');
    const need = s.layout.minTrainingPoints;
    if (n < need) {
      throw new PassageIndexError(`factory '${s.factory}' needs at least ${need} training vectors (IVF nlist / PQ centroids), got ${n}`);
    }
    let rows: number[];
    if (s.ipViaL2) {
      if (s.phi === undefined) s.phi = maxSquaredNorm(vectors, s.dimension);
      this.checkNorms(vectors, 'train vectors');
      rows = augmentRows(vectors, s.dimension, 0, n, s.phi!);
    } else {
      rows = Array.from(vectors);
    }
    s.faiss.train(rows);
    if (!s.faiss.isTrained()) throw new PassageIndexError(`faiss did not train factory '${s.factory}'`);
    this.refreshLayout();
    s.fingerprint = this.emptyFingerprint();
  }

  /**
   * Adds passages: `ids[i]` names row i of the row-major [ids.length, dimension] `vectors`. Everything is
   * checked before anything is added (ids unique here and in the index, finite values); faiss gets the rows in
   * chunks of `chunkRows`.
   */
  add(ids: readonly string[], vectors: Float32Array, options: AddOptions = {}): void {
    const s = this.s;
    if (!Array.isArray(ids)) throw new PassageIndexError(`ids must be an array of strings, got ${describe(ids)}`);
    if (!this.isTrained) throw new PassageIndexError(`factory '${s.factory}' must be trained first: call train(vectors) before add`);
    const n = this.checkVectors(vectors, 'vectors');
    if (n !== ids.length) {
      throw new PassageIndexError(`ids and vectors disagree: ${ids.length} ids but vectors hold ${n} rows of dimension ${s.dimension}`);
    }
    const seen = new Map<string, number>();
    const existing = this.idSet;
    ids.forEach((id, i) => {
      if (typeof id !== 'string' || id === '') throw new PassageIndexError(`ids[${i}] must be a non-empty string, got ${JSON.stringify(id)}`);
      const prev = seen.get(id);
      if (prev !== undefined) throw new PassageIndexError(`duplicate id ${JSON.stringify(id)} at positions ${prev} and ${i} of this add`);
      if (existing.has(id)) throw new PassageIndexError(`duplicate id ${JSON.stringify(id)} (ids[${i}]) is already in the index`);
      seen.set(id, i);
    });
    if (s.ipViaL2) {
      if (s.phi === undefined) s.phi = maxSquaredNorm(vectors, s.dimension);
      this.checkNorms(vectors, 'vectors');
    }
    const progress = new ProgressReporter('index-add', options.onProgress, n, 'vectors');
    for (let from = 0; from < n; from += s.chunkRows) {
      const to = Math.min(n, from + s.chunkRows);
      const rows = s.ipViaL2
        ? augmentRows(vectors, s.dimension, from, to, s.phi!)
        : Array.from(vectors.subarray(from * s.dimension, to * s.dimension));
      s.faiss.add(rows);
      progress.tick(to - from);
    }
    progress.end();
    for (const id of ids) {
      s.ids.push(id);
      this.idSet.add(id);
    }
    if (s.faiss.ntotal() !== s.ids.length) throw new PassageIndexError(`faiss holds ${s.faiss.ntotal()} vectors but ${s.ids.length} ids were added`);
  }

  /**
   * The k best passages for each row of the row-major [Q, dimension] `queries`, best first (fewer than k when
   * the index holds fewer, or when an IVF search with a small nprobe finds fewer).
   */
  search(queries: Float32Array, k: number): SearchHit[][] {
    const s = this.s;
    if (!Number.isInteger(k) || k < 1) throw new PassageIndexError(`k must be a positive integer, got ${String(k)}`);
    const nq = this.checkVectors(queries, 'queries');
    if (!this.isTrained) throw new PassageIndexError(`cannot search: factory '${s.factory}' is not trained and holds no vectors`);
    if (this.size === 0) throw new PassageIndexError('cannot search: the index is empty (add vectors first)');
    const kk = Math.min(k, this.size);
    const faissDim = s.ipViaL2 ? s.dimension + 1 : s.dimension;
    const chunk = Math.max(1, Math.min(Math.floor(2 ** 20 / faissDim), Math.floor(2 ** 20 / kk)));
    const out: SearchHit[][] = [];
    for (let from = 0; from < nq; from += chunk) {
      const to = Math.min(nq, from + chunk);
      let rows: number[];
      let norms: number[] | undefined;
      if (s.ipViaL2) {
        const aug = augmentQueries(queries, s.dimension, from, to);
        rows = aug.rows;
        norms = aug.squaredNorms;
      } else {
        rows = Array.from(queries.subarray(from * s.dimension, to * s.dimension));
      }
      const { distances, labels } = s.faiss.search(rows, kk);
      for (let q = 0; q < to - from; q++) {
        const hits: SearchHit[] = [];
        for (let j = 0; j < kk; j++) {
          const label = labels[q * kk + j]!;
          if (label < 0) continue;
          const d = distances[q * kk + j]!;
          const score = s.ipViaL2 ? (norms![q]! + s.phi! - d) / 2 : s.metric === 'l2' ? -d : d;
          hits.push({ id: s.ids[label]!, score });
        }
        out.push(hits);
      }
    }
    return out;
  }

  /**
   * Changes efSearch / nprobe of a built index (a round trip through faiss's serialization: it costs a copy of
   * the index). efConstruction can change only while the index is empty.
   */
  setSearchParameters(params: SearchParameters): void {
    const s = this.s;
    if (params.efConstruction !== undefined && this.size > 0) {
      throw new PassageIndexError('efConstruction shapes the HNSW graph while vectors are added: set it at create(), before add');
    }
    const buffer = s.faiss.toBuffer();
    const layout = parseFaissIndex(bufferSource(buffer, `index '${s.factory}'`));
    writeSearchParameters(buffer, layout, params, s.factory);
    s.faiss = indexFromBuffer(buffer, `index '${s.factory}'`, layout);
    this.refreshLayout();
  }

  /**
   * Saves to `dir` atomically (temp directory + rename): index.faiss (faiss's own format, readable by Python
   * faiss), ids.jsonl (one JSON string per line, in label order) and manifest.json.
   */
  save(dir: string): void {
    const s = this.s;
    const manifest: IndexManifest = {
      format: MANIFEST_FORMAT,
      formatVersion: MANIFEST_VERSION,
      dimension: s.dimension,
      factory: s.factory,
      metric: s.metric,
      count: this.size,
      searchParameters: this.searchParameters,
      ipViaL2: s.ipViaL2,
      ipMaxSquaredNorm: s.phi ?? null,
      ipMaxNormFixed: s.phiFixed,
      trainedFingerprint: s.fingerprint,
      files: { faiss: FAISS_FILE, ids: IDS_FILE },
    };
    writeDirAtomic(dir, (tmp) => {
      s.faiss.write(join(tmp, FAISS_FILE));
      writeIds(join(tmp, IDS_FILE), s.ids);
      writeFileSync(join(tmp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    });
  }

  private refreshLayout(): void {
    this.s.layout = parseFaissIndex(bufferSource(this.s.faiss.toBuffer(), `index '${this.s.factory}'`));
  }

  private emptyFingerprint(): string {
    const buffer = this.s.faiss.toBuffer();
    return fingerprintOf(buffer, parseFaissIndex(bufferSource(buffer)));
  }

  /** Returns the number of rows; throws on a wrong type, a ragged length or a non-finite value. */
  private checkVectors(vectors: Float32Array, what: string): number {
    const d = this.s.dimension;
    if (!types.isFloat32Array(vectors)) throw new PassageIndexError(`${what} must be a Float32Array (row-major [N, ${d}]), got ${describe(vectors)}`);
    if (vectors.length % d !== 0) {
      throw new PassageIndexError(`dimension mismatch: ${what} hold ${vectors.length} floats, not a whole number of rows of dimension ${d}`);
    }
    for (let i = 0; i < vectors.length; i++) {
      if (!Number.isFinite(vectors[i]!)) {
        throw new PassageIndexError(`${what} row ${Math.floor(i / d)} column ${i % d} is ${vectors[i]} (values must be finite)`);
      }
    }
    return vectors.length / d;
  }

  private checkNorms(vectors: Float32Array, what: string): void {
    const s = this.s;
    const d = s.dimension;
    const limit = s.phi! * (1 + 1e-6) + 1e-12;
    for (let off = 0, r = 0; off < vectors.length; off += d, r++) {
      let sq = 0;
      for (let j = 0; j < d; j++) sq += vectors[off + j]! * vectors[off + j]!;
      if (sq > limit) {
        throw new PassageIndexError(
          `${what} row ${r} has squared norm ${sq.toFixed(4)} above the ipViaL2 bound φ = ${s.phi!.toFixed(4)}` +
            (s.phiFixed ? ' (from ipMaxNorm)' : ' (taken from the first vectors added): pass a larger ipMaxNorm to create()'),
        );
      }
    }
  }

  /** A new index equal to this one (through faiss's serialization). */
  private clone(): PassageIndex {
    const s = this.s;
    const buffer = s.faiss.toBuffer();
    const layout = parseFaissIndex(bufferSource(buffer));
    return new PassageIndex({ ...s, faiss: indexFromBuffer(buffer, `index '${s.factory}'`, layout), ids: [...s.ids], layout });
  }

  /** The vectors a flat (or HNSW-over-flat) index stores, as given to add (the ipViaL2 coordinate dropped). */
  private storedVectors(): Float32Array | undefined {
    const s = this.s;
    const buffer = s.faiss.toBuffer();
    const layout = parseFaissIndex(bufferSource(buffer));
    const root = layout.root;
    const flat = FLAT_TAGS.has(root.fourcc) ? root : root.fourcc === 'IHNf' ? root.children[0] : undefined;
    if (!flat?.floats || !FLAT_TAGS.has(flat.fourcc)) return undefined;
    const all = new Float32Array(flat.floats.count);
    Buffer.from(all.buffer).set(buffer.subarray(flat.floats.offset, flat.floats.offset + flat.floats.count * 4));
    if (!s.ipViaL2) return all;
    const n = all.length / (s.dimension + 1);
    const out = new Float32Array(n * s.dimension);
    for (let r = 0; r < n; r++) out.set(all.subarray(r * (s.dimension + 1), r * (s.dimension + 1) + s.dimension), r * s.dimension);
    return out;
  }

  /** This index (already a private copy) with `shard` merged in; returns the merged index. */
  private mergeShard(shard: PassageIndex, name: string): PassageIndex {
    const a = this.s;
    const b = shard.s;
    for (const key of ['dimension', 'factory', 'metric', 'ipViaL2'] as const) {
      if (a[key] !== b[key]) throw new PassageIndexError(`cannot merge ${name}: its ${key} is ${JSON.stringify(b[key])}, the others' ${JSON.stringify(a[key])}`);
    }
    for (const id of b.ids) if (this.idSet.has(id)) throw new PassageIndexError(`cannot merge ${name}: id ${JSON.stringify(id)} is in more than one shard`);
    const hnsw = a.layout.root.fourcc.startsWith('IHN');
    const phiDiffers = a.ipViaL2 && a.phi !== b.phi;
    if (!hnsw && !phiDiffers) {
      if (a.fingerprint !== null && b.fingerprint !== null && a.fingerprint !== b.fingerprint) {
        throw new PassageIndexError(
          `cannot merge ${name}: it was trained separately (trainedFingerprint differs). Train one index, save it while empty, ` +
            'and load that directory for every shard before adding vectors',
        );
      }
      // faiss-node calls merge_from without add_id: IVF shards keep their own labels 0..n-1, so the shard's
      // stored ids are shifted by this index's size in a serialized copy first (Flat labels are positions already).
      // faiss's merge_from also empties its argument, so it always gets a copy.
      if (a.layout.root.nlist === undefined && !FLAT_TAGS.has(a.layout.root.fourcc)) {
        throw new PassageIndexError(`cannot merge ${name}: factory '${a.factory}' is not Flat, IVF or HNSW over flat storage`);
      }
      const buffer = b.faiss.toBuffer();
      const layout = parseFaissIndex(bufferSource(buffer));
      if (a.layout.root.nlist !== undefined && !offsetIvfIds(buffer, layout, a.ids.length)) {
        throw new PassageIndexError(`cannot merge ${name}: the inverted lists of factory '${a.factory}' are not in a layout this package can relabel`);
      }
      const other = indexFromBuffer(buffer, name, layout);
      try {
        a.faiss.mergeFrom(other);
      } catch (err) {
        throw new PassageIndexError(`cannot merge ${name}: faiss: ${(err as Error).message}`);
      }
      for (const id of b.ids) {
        a.ids.push(id);
        this.idSet.add(id);
      }
      this.refreshLayout();
      return this;
    }
    // Rebuild: faiss cannot merge HNSW graphs, and ipViaL2 shards with different φ need re-augmenting.
    const mine = this.storedVectors();
    const theirs = shard.storedVectors();
    if (!mine || !theirs) {
      throw new PassageIndexError(`cannot merge ${name}: factory '${a.factory}' is neither Flat nor HNSW over flat storage, so its vectors cannot be re-added`);
    }
    const params = this.searchParameters;
    const phi = a.ipViaL2 ? Math.max(a.phi ?? 0, b.phi ?? 0) : undefined;
    const merged = PassageIndex.create({
      dimension: a.dimension,
      factory: a.factory,
      metric: a.metric,
      ipViaL2: a.ipViaL2,
      ipMaxNorm: phi !== undefined && phi > 0 ? Math.sqrt(phi) : undefined,
      efSearch: params.efSearch,
      efConstruction: params.efConstruction,
      nprobe: params.nprobe,
      chunkRows: a.chunkRows,
    });
    merged.s.phiFixed = a.phiFixed || b.phiFixed;
    if (phi !== undefined) merged.s.phi = phi;
    merged.add(a.ids, mine);
    merged.add(b.ids, theirs);
    return merged;
  }
}

function writeIds(path: string, ids: readonly string[]): void {
  const fd = openSync(path, 'w');
  try {
    const batch = 65536;
    for (let i = 0; i < ids.length; i += batch) {
      const text = ids.slice(i, i + batch).map((id) => `${JSON.stringify(id)}\n`).join('');
      writeSync(fd, text);
    }
  } finally {
    closeSync(fd);
  }
}

function readIds(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line, i) => {
    let id: unknown;
    try {
      id = JSON.parse(line);
    } catch {
      throw new PassageIndexError(`${path}: line ${i + 1} is not a JSON string`);
    }
    if (typeof id !== 'string' || id === '') throw new PassageIndexError(`${path}: line ${i + 1} is not a non-empty JSON string`);
    return id;
  });
}

