import { closeSync, openSync, readSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { ProgressListener } from '@fidkd/core';
import { writeFileAtomic } from './atomic.js';
import { DataFormatError } from './errors.js';
import { parsePassageRow, readPassagesColumns, streamPassages, type PassageColumns } from './passages-tsv.js';
import type { MalformedRow } from './passages-tsv.js';
import type { Passage } from './types.js';

const MAGIC = 'FIDKDPSX';
const VERSION = 1;
const HEADER_BYTES = 48;

/**
 * 52-bit hash of a passage id (two 32-bit FNV-style hashes; exact as a float64). The index stores only hashes
 * and byte offsets; a lookup verifies the id of the row it reads, so collisions cost a read, never a wrong answer.
 */
export function passageIdHash(id: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  return (h1 & 0xfffff) * 4294967296 + (h2 >>> 0);
}

/** Options of {@link PassageStore.open}. */
export interface PassageStoreOptions {
  /** Where the byte-offset index lives. Default `<tsv>.idx` next to the TSV. */
  indexPath?: string;
  /** Malformed rows while building the index: 'fail' (default) or 'skip' (listed in `malformed`). */
  onMalformed?: 'fail' | 'skip';
  onProgress?: ProgressListener;
  /** Rebuild the index even when it is up to date. */
  rebuild?: boolean;
  /**
   * Called with every passage and its TSV line while the index is built (not when an up-to-date index is
   * reused): a caller's own check of the rows in the same pass, which may throw to refuse the file.
   */
  onPassage?: (passage: Passage, line: number) => void;
}

class GrowF64 {
  data = new Float64Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

/**
 * Random access to a passages TSV by id through a binary byte-offset index (sorted 52-bit id hashes, offsets and
 * row lengths: 20 bytes per passage; no passage strings in memory). The index is built once by streaming the
 * TSV, written atomically, and rebuilt when the TSV's size or mtime differ from the ones recorded in it.
 */
export class PassageStore {
  private fd: number | undefined;

  private constructor(
    readonly file: string,
    readonly indexPath: string,
    private readonly columns: PassageColumns,
    private readonly keys: Float64Array,
    private readonly offsets: Float64Array,
    private readonly lengths: Uint32Array,
    /** Malformed rows skipped when the index was built (this session only; empty when the index was reused). */
    readonly malformed: MalformedRow[],
    /** Number of malformed rows skipped when the index was built (recorded in the index). */
    readonly malformedCount: number,
    /** Whether this open built (or rebuilt) the index. */
    readonly built: boolean,
  ) {
    this.fd = openSync(file, 'r');
  }

  /** Number of passages. */
  get size(): number {
    return this.keys.length;
  }

  /** Opens `tsv`, building its index first when missing or stale. */
  static async open(tsv: string, options: PassageStoreOptions = {}): Promise<PassageStore> {
    const indexPath = options.indexPath ?? `${tsv}.idx`;
    const st = await stat(tsv).catch((err: NodeJS.ErrnoException) => {
      throw new DataFormatError(tsv, undefined, `cannot open passages TSV: ${err.code ?? err.message}`);
    });
    if (!options.rebuild) {
      const loaded = await PassageStore.readIndex(indexPath, st.size, st.mtimeMs);
      if (loaded) return new PassageStore(tsv, indexPath, await readPassagesColumns(tsv), loaded.keys, loaded.offsets, loaded.lengths, [], loaded.malformedCount, false);
    }
    return PassageStore.build(tsv, indexPath, st.size, st.mtimeMs, options);
  }

  private static async readIndex(
    indexPath: string,
    tsvSize: number,
    tsvMtimeMs: number,
  ): Promise<{ keys: Float64Array; offsets: Float64Array; lengths: Uint32Array; malformedCount: number } | undefined> {
    let fh;
    try {
      fh = await open(indexPath, 'r');
    } catch {
      return undefined; // no index yet
    }
    try {
      const head = Buffer.alloc(HEADER_BYTES);
      const { bytesRead } = await fh.read(head, 0, HEADER_BYTES, 0);
      if (bytesRead < HEADER_BYTES || head.toString('latin1', 0, 8) !== MAGIC) {
        throw new DataFormatError(indexPath, undefined, 'not a passage index file (bad magic); delete it or pass another indexPath');
      }
      if (head.readUInt32LE(8) !== VERSION) return undefined;
      const count = head.readDoubleLE(16);
      if (head.readDoubleLE(24) !== tsvSize || head.readDoubleLE(32) !== tsvMtimeMs) return undefined; // stale
      if ((await fh.stat()).size !== HEADER_BYTES + count * 20) return undefined; // truncated: rebuild
      // Read straight into one aligned buffer (no second copy of a 21M-entry index).
      const body = new Uint8Array(count * 20);
      for (let done = 0; done < body.length; ) {
        const { bytesRead: got } = await fh.read(body, done, Math.min(1 << 30, body.length - done), HEADER_BYTES + done);
        if (got === 0) return undefined;
        done += got;
      }
      return {
        keys: new Float64Array(body.buffer, 0, count),
        offsets: new Float64Array(body.buffer, count * 8, count),
        lengths: new Uint32Array(body.buffer, count * 16, count),
        malformedCount: head.readDoubleLE(40),
      };
    } finally {
      await fh.close();
    }
  }

  private static async build(
    tsv: string,
    indexPath: string,
    tsvSize: number,
    tsvMtimeMs: number,
    options: PassageStoreOptions,
  ): Promise<PassageStore> {
    const stream = streamPassages(tsv, { onMalformed: options.onMalformed ?? 'fail', onProgress: options.onProgress });
    const keys = new GrowF64();
    const offsets = new GrowF64();
    const lengths = new GrowF64();
    const lines = new GrowF64();
    for await (const r of stream.located()) {
      options.onPassage?.(r.passage, r.line);
      keys.push(passageIdHash(r.passage.id));
      offsets.push(r.offset);
      lengths.push(r.length);
      lines.push(r.line);
    }
    const n = keys.length;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const k = keys.data;
    order.sort((a, b) => k[a]! - k[b]! || a - b);
    const out = new Uint8Array(HEADER_BYTES + n * 20);
    const sortedKeys = new Float64Array(out.buffer, HEADER_BYTES, n);
    const sortedOffsets = new Float64Array(out.buffer, HEADER_BYTES + n * 8, n);
    const sortedLengths = new Uint32Array(out.buffer, HEADER_BYTES + n * 16, n);
    for (let i = 0; i < n; i++) {
      const j = order[i]!;
      sortedKeys[i] = k[j]!;
      sortedOffsets[i] = offsets.data[j]!;
      sortedLengths[i] = lengths.data[j]!;
    }
    // Equal hashes: read both rows; the same id twice is an error naming both lines.
    const fd = openSync(tsv, 'r');
    try {
      for (let i = 1; i < n; i++) {
        if (sortedKeys[i] !== sortedKeys[i - 1]) continue;
        for (let j = i - 1; j >= 0 && sortedKeys[j] === sortedKeys[i]; j--) {
          const a = readRow(fd, tsv, stream.columns, sortedOffsets[j]!, sortedLengths[j]!);
          const b = readRow(fd, tsv, stream.columns, sortedOffsets[i]!, sortedLengths[i]!);
          if (a.id === b.id) {
            const la = lines.data[order[j]!]!;
            const lb = lines.data[order[i]!]!;
            throw new DataFormatError(tsv, `line ${Math.max(la, lb)}`, `duplicate passage id ${JSON.stringify(a.id)} (first on line ${Math.min(la, lb)})`);
          }
        }
      }
    } finally {
      closeSync(fd);
    }
    const view = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) out[i] = MAGIC.charCodeAt(i);
    view.setUint32(8, VERSION, true);
    view.setFloat64(16, n, true);
    view.setFloat64(24, tsvSize, true);
    view.setFloat64(32, tsvMtimeMs, true);
    view.setFloat64(40, stream.malformedCount, true);
    await writeFileAtomic(indexPath, out);
    const arr = new Uint8Array(n * 20);
    arr.set(out.subarray(HEADER_BYTES));
    return new PassageStore(
      tsv, indexPath, stream.columns,
      new Float64Array(arr.buffer, 0, n), new Float64Array(arr.buffer, n * 8, n), new Uint32Array(arr.buffer, n * 16, n),
      stream.malformed, stream.malformedCount, true,
    );
  }

  private openFd(): number {
    if (this.fd === undefined) throw new Error(`PassageStore(${this.file}) is closed`);
    return this.fd;
  }

  /** The passage with this id, or undefined when the collection has none. */
  async get(id: string): Promise<Passage | undefined> {
    return this.getSync(id);
  }

  /** Synchronous {@link get} (one positioned read). */
  getSync(id: string): Passage | undefined {
    const key = passageIdHash(id);
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    const fd = this.openFd();
    for (let i = lo; i < this.keys.length && this.keys[i] === key; i++) {
      const p = readRow(fd, this.file, this.columns, this.offsets[i]!, this.lengths[i]!);
      if (p.id === id) return p;
    }
    return undefined;
  }

  /**
   * The passages with these ids, in the given order. Missing ids throw (naming them) unless `missing: 'skip'`,
   * which leaves them out.
   */
  async getMany(ids: readonly string[], options: { missing?: 'throw' | 'skip' } = {}): Promise<Passage[]> {
    const out: Passage[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const p = this.getSync(id);
      if (p) out.push(p);
      else missing.push(id);
    }
    if (missing.length > 0 && options.missing !== 'skip') {
      const shown = missing.slice(0, 5).map((m) => JSON.stringify(m)).join(', ');
      throw new DataFormatError(this.file, undefined, `${missing.length} passage id(s) not in the collection: ${shown}${missing.length > 5 ? ', …' : ''}`);
    }
    return out;
  }

  /** Closes the TSV file handle. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function readRow(fd: number, file: string, columns: PassageColumns, offset: number, length: number): Passage {
  const buf = Buffer.allocUnsafe(length);
  const got = readSync(fd, buf, 0, length, offset);
  if (got !== length) throw new DataFormatError(file, `byte ${offset}`, 'file shorter than its index says; the index is stale (reopen the store)');
  const p = parsePassageRow(buf.toString('utf8'), columns);
  if (typeof p === 'string') throw new DataFormatError(file, `byte ${offset}`, `indexed row no longer parses (${p}); the TSV changed after indexing`);
  return p;
}
