import { nodeBytes, type ByteSource } from './byte-source.js';
import { PassageIndexError } from './errors.js';

/*
 * A walker over faiss's own serialization (faiss 1.7.3, faiss/impl/index_write.cpp), used to find the search-effort
 * fields faiss stores with an index (HNSW efConstruction / efSearch, IVF nprobe), the training needs of an empty
 * index (IVF nlist, PQ bits) and the raw vectors of flat storage. The format is a tree of objects, each opening with
 * a fourcc tag and written field by field with no padding; vectors are a uint64 element count then the elements.
 * Every index opens with the common header: d (int32), ntotal (int64), two int64 placeholders, is_trained (uint8),
 * metric_type (int32) and, for metrics above L2, metric_arg (float32).
 * Objects the walker does not know are recorded as opaque: fields found before them stay valid, nothing after them
 * is located (the walk never guesses by searching for byte patterns).
 */

/** A search-effort field located in a serialized index. */
export interface KnobLocation {
  kind: 'efSearch' | 'efConstruction' | 'nprobe';
  /** Byte offset of the field. */
  offset: number;
  /** Width: 4 (int32, HNSW fields) or 8 (size_t, IVF nprobe). */
  bytes: 4 | 8;
  /** Value currently stored. */
  value: number;
  /** Where in the index tree, e.g. `IwPQ/quantizer:IHNf`. */
  path: string;
}

/** One index object of the serialization tree. */
export interface FaissNode {
  fourcc: string;
  offset: number;
  /** Offset just after the object; undefined when the object (or something inside it) is opaque. */
  end: number | undefined;
  d: number;
  ntotal: number;
  isTrained: boolean;
  metricType: number;
  children: FaissNode[];
  /** IVF: number of inverted lists. */
  nlist?: number;
  /** IVF with array inverted lists: where the int64 ids of each non-empty list are stored. */
  idRanges?: { offset: number; count: number }[];
  /** Flat codes: offset and number of float32 values of the stored vectors (IxFI / IxF2 / IxFl). */
  floats?: { offset: number; count: number };
}

/** What the walk found. */
export interface FaissLayout {
  root: FaissNode;
  knobs: KnobLocation[];
  /** False when an opaque object stopped the walk before the end of the index. */
  complete: boolean;
  /** Least number of training vectors the known parts need (IVF nlist, PQ 2^nbits); 0 when nothing is trained. */
  minTrainingPoints: number;
}

const FLAT = new Set(['IxFI', 'IxF2', 'IxFl']);
const HNSW = new Set(['IHNf', 'IHNp', 'IHNs', 'IHN2']);
const IVF = new Set(['IwFl', 'IwPQ', 'IwQR', 'IwSq', 'IwFd', 'IwLS', 'IwRQ', 'IwPL', 'IwPR', 'IwSh']);

class Cursor {
  constructor(
    readonly src: ByteSource,
    public pos: number,
  ) {}

  private need(n: number, what: string): void {
    if (this.pos + n > this.src.length) {
      throw new PassageIndexError(
        `${this.src.name}: not a complete faiss index: ${what} at byte ${this.pos} needs ${n} bytes, the data ends at ${this.src.length}`,
      );
    }
  }
  u8(what: string): number {
    this.need(1, what);
    const v = nodeBytes(this.src, this.pos, 1).readUInt8(0);
    this.pos += 1;
    return v;
  }
  i32(what: string): number {
    this.need(4, what);
    const v = nodeBytes(this.src, this.pos, 4).readInt32LE(0);
    this.pos += 4;
    return v;
  }
  f32(what: string): number {
    this.need(4, what);
    const v = nodeBytes(this.src, this.pos, 4).readFloatLE(0);
    this.pos += 4;
    return v;
  }
  u64(what: string): number {
    this.need(8, what);
    const v = nodeBytes(this.src, this.pos, 8).readBigUInt64LE(0);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new PassageIndexError(`${this.src.name}: not a faiss index: ${what} at byte ${this.pos - 8} is ${v}`);
    }
    return Number(v);
  }
  fourcc(what: string): string {
    this.need(4, what);
    const tag = nodeBytes(this.src, this.pos, 4).toString('latin1');
    this.pos += 4;
    return tag;
  }
  skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }
  /** A WRITEVECTOR: uint64 count then count elements; returns the count and where the elements start. */
  vector(elemBytes: number, what: string): { count: number; offset: number } {
    const count = this.u64(`${what} length`);
    const offset = this.pos;
    this.skip(count * elemBytes, what);
    return { count, offset };
  }
}

class Walker {
  knobs: KnobLocation[] = [];
  minTrainingPoints = 0;
  complete = true;

  constructor(private readonly c: Cursor) {}

  private header(node: Pick<FaissNode, 'd' | 'ntotal' | 'isTrained' | 'metricType'>): void {
    const c = this.c;
    node.d = c.i32('index header d');
    node.ntotal = c.u64('index header ntotal');
    c.skip(16, 'index header placeholders');
    node.isTrained = c.u8('index header is_trained') !== 0;
    node.metricType = c.i32('index header metric_type');
    if (node.metricType > 1) c.f32('index header metric_arg');
  }

  private knob(kind: KnobLocation['kind'], bytes: 4 | 8, path: string): void {
    const offset = this.c.pos;
    const value = bytes === 4 ? this.c.i32(kind) : this.c.u64(kind);
    this.knobs.push({ kind, offset, bytes, value, path });
  }

  private productQuantizer(): void {
    const c = this.c;
    c.u64('ProductQuantizer d');
    c.u64('ProductQuantizer M');
    const nbits = c.u64('ProductQuantizer nbits');
    c.vector(4, 'ProductQuantizer centroids');
    if (nbits > 0 && nbits < 31) this.minTrainingPoints = Math.max(this.minTrainingPoints, 2 ** nbits);
  }

  private scalarQuantizer(): void {
    const c = this.c;
    c.i32('ScalarQuantizer qtype');
    c.i32('ScalarQuantizer rangestat');
    c.f32('ScalarQuantizer rangestat_arg');
    c.u64('ScalarQuantizer d');
    c.u64('ScalarQuantizer code_size');
    c.vector(4, 'ScalarQuantizer trained');
  }

  /** Returns false when the inverted lists are of an unknown kind (e.g. on-disk lists). */
  private invertedLists(node: FaissNode): boolean {
    node.idRanges = [];
    const c = this.c;
    const tag = c.fourcc('inverted lists tag');
    if (tag === 'il00') return true;
    if (tag !== 'ilar') return false;
    c.u64('inverted lists nlist');
    const codeSize = c.u64('inverted lists code_size');
    const listType = c.fourcc('inverted lists type');
    const sizes = c.vector(8, 'inverted list sizes');
    const raw = nodeBytes(this.c.src, sizes.offset, sizes.count * 8);
    const step = listType === 'sprs' ? 2 : 1;
    // Lists are stored one after the other: n codes of code_size bytes, then n int64 ids.
    for (let i = step - 1; i < sizes.count; i += step) {
      const n = Number(raw.readBigUInt64LE(i * 8));
      if (n === 0) continue;
      c.skip(n * codeSize, 'inverted list codes');
      node.idRanges!.push({ offset: c.pos, count: n });
      c.skip(n * 8, 'inverted list ids');
    }
    return true;
  }

  /** Returns false when the transform is unknown. */
  private vectorTransform(): boolean {
    const c = this.c;
    const tag = c.fourcc('vector transform tag');
    switch (tag) {
      case 'rrot':
      case 'LTra':
        break;
      case 'Pcam':
        c.f32('PCA eigen_power');
        c.f32('PCA epsilon');
        c.u8('PCA random_rotation');
        c.i32('PCA balanced_bins');
        c.vector(4, 'PCA mean');
        c.vector(4, 'PCA eigenvalues');
        c.vector(4, 'PCA matrix');
        break;
      case 'Viqm':
        c.i32('ITQ max_iter');
        c.i32('ITQ seed');
        break;
      case 'RmDT':
        c.vector(4, 'remap map');
        break;
      case 'VNrm':
        c.f32('normalization norm');
        break;
      case 'VCnt':
        c.vector(4, 'centering mean');
        break;
      case 'Viqt':
        c.vector(4, 'ITQ mean');
        c.u8('ITQ do_pca');
        if (!this.vectorTransform() || !this.vectorTransform()) return false;
        break;
      default:
        return false;
    }
    if (tag === 'rrot' || tag === 'LTra' || tag === 'Pcam' || tag === 'Viqm') {
      c.u8('linear transform have_bias');
      c.vector(4, 'linear transform A');
      c.vector(4, 'linear transform b');
    }
    c.i32('transform d_in');
    c.i32('transform d_out');
    c.u8('transform is_trained');
    return true;
  }

  index(path: string): FaissNode {
    const c = this.c;
    const offset = c.pos;
    const fourcc = c.fourcc('index tag');
    const node: FaissNode = { fourcc, offset, end: undefined, d: 0, ntotal: 0, isTrained: true, metricType: 1, children: [] };
    const here = path ? `${path}:${fourcc}` : fourcc;
    const child = (name: string): FaissNode | undefined => {
      const sub = this.index(`${here}/${name}`);
      node.children.push(sub);
      return sub.end === undefined ? undefined : sub;
    };
    if (fourcc === 'null') {
      node.end = c.pos;
      return node;
    }
    if (FLAT.has(fourcc)) {
      this.header(node);
      const count = c.u64('flat codes length');
      node.floats = { offset: c.pos, count };
      c.skip(count * 4, 'flat codes');
    } else if (HNSW.has(fourcc)) {
      this.header(node);
      c.vector(8, 'HNSW assign_probas');
      c.vector(4, 'HNSW cum_nneighbor_per_level');
      c.vector(4, 'HNSW levels');
      c.vector(8, 'HNSW offsets');
      c.vector(4, 'HNSW neighbors');
      c.i32('HNSW entry_point');
      c.i32('HNSW max_level');
      this.knob('efConstruction', 4, here);
      this.knob('efSearch', 4, here);
      c.i32('HNSW upper_beam');
      if (!child('storage')) return this.opaque(node);
    } else if (IVF.has(fourcc)) {
      this.header(node);
      node.nlist = c.u64('IVF nlist');
      this.minTrainingPoints = Math.max(this.minTrainingPoints, node.nlist);
      this.knob('nprobe', 8, here);
      if (!child('quantizer')) return this.opaque(node);
      const mapType = c.u8('IVF direct map type');
      c.vector(8, 'IVF direct map');
      if (mapType === 2) c.vector(16, 'IVF direct map hashtable');
      if (fourcc === 'IwFl') {
        if (!this.invertedLists(node)) return this.opaque(node);
      } else if (fourcc === 'IwPQ' || fourcc === 'IwQR') {
        c.u8('IVFPQ by_residual');
        c.u64('IVFPQ code_size');
        this.productQuantizer();
        if (!this.invertedLists(node)) return this.opaque(node);
        if (fourcc === 'IwQR') {
          this.productQuantizer();
          c.vector(1, 'IVFPQR refine codes');
          c.f32('IVFPQR k_factor');
        }
      } else if (fourcc === 'IwSq') {
        this.scalarQuantizer();
        c.u64('IVFSQ code_size');
        c.u8('IVFSQ by_residual');
        if (!this.invertedLists(node)) return this.opaque(node);
      } else if (fourcc === 'IwFd') {
        c.vector(8, 'IVFFlatDedup instances');
        if (!this.invertedLists(node)) return this.opaque(node);
      } else {
        // IVF with additive quantizers / spectral hash: header and nprobe located, the tail is not walked.
        return this.opaque(node);
      }
    } else if (fourcc === 'IxPT') {
      this.header(node);
      const nt = c.i32('pre-transform chain length');
      for (let i = 0; i < nt; i++) if (!this.vectorTransform()) return this.opaque(node);
      if (!child('index')) return this.opaque(node);
    } else if (fourcc === 'IxMp' || fourcc === 'IxM2') {
      this.header(node);
      if (!child('index')) return this.opaque(node);
      c.vector(8, 'IDMap id_map');
    } else if (fourcc === 'IxRF') {
      this.header(node);
      if (!child('base')) return this.opaque(node);
      if (!child('refine')) return this.opaque(node);
      c.f32('IndexRefine k_factor');
    } else if (fourcc === 'IxPq') {
      this.header(node);
      this.productQuantizer();
      c.vector(1, 'PQ codes');
      c.i32('PQ search_type');
      c.u8('PQ encode_signs');
      c.i32('PQ polysemous_ht');
    } else if (fourcc === 'IxSQ') {
      this.header(node);
      this.scalarQuantizer();
      c.vector(1, 'SQ codes');
    } else {
      return this.opaque(node);
    }
    node.end = c.pos;
    return node;
  }

  private opaque(node: FaissNode): FaissNode {
    this.complete = false;
    node.end = undefined;
    return node;
  }
}

/**
 * Walks a serialized faiss index (faiss 1.7.3 format). Throws a PassageIndexError when the data is truncated
 * or does not start with a known index tag.
 */
export function parseFaissIndex(src: ByteSource): FaissLayout {
  const c = new Cursor(src, 0);
  const w = new Walker(c);
  const root = w.index('');
  if (root.end === undefined && root.children.length === 0 && !/^[A-Za-z0-9]{4}$/.test(root.fourcc)) {
    throw new PassageIndexError(`${src.name}: not a faiss index (starts with bytes ${JSON.stringify(root.fourcc)})`);
  }
  if (root.end !== undefined && root.end !== src.length) {
    throw new PassageIndexError(`${src.name}: ${src.length - root.end} unexpected bytes after the faiss index (ends at byte ${root.end})`);
  }
  return { root, knobs: w.knobs, complete: w.complete, minTrainingPoints: w.minTrainingPoints };
}

/** Writes `value` into a located field of a serialized index (in place). @internal */
export function writeKnob(buffer: Buffer, knob: KnobLocation, value: number): void {
  if (knob.bytes === 4) buffer.writeInt32LE(value, knob.offset);
  else buffer.writeBigUInt64LE(BigInt(value), knob.offset);
}

/** Depth-first list of every node in the tree. */
export function allNodes(root: FaissNode): FaissNode[] {
  const out: FaissNode[] = [root];
  for (const child of root.children) out.push(...allNodes(child));
  return out;
}

/** Adds `delta` to every id stored in the inverted lists of an IVF root (in place); false if they are not located. @internal */
export function offsetIvfIds(buffer: Buffer, layout: FaissLayout, delta: number): boolean {
  const ranges = layout.root.idRanges;
  if (!ranges) return false;
  const big = BigInt(delta);
  for (const r of ranges) {
    for (let i = 0; i < r.count; i++) {
      const at = r.offset + i * 8;
      buffer.writeBigInt64LE(buffer.readBigInt64LE(at) + big, at);
    }
  }
  return true;
}
