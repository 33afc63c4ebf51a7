/**
 * A minimal, defensive zip reader for PyTorch checkpoints (`torch.save` writes an uncompressed zip, with zip64
 * records and 64-byte-aligned entry data). Reads the central directory linearly with every offset bounds-checked,
 * so a corrupt or malicious directory (cycles, huge counts, offsets past the end) yields an error, never a hang.
 * Stored entries are returned as views into the archive bytes; deflated ones are inflated with a size cap.
 */
import { inflateRawSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import { CheckpointError } from './errors.js';

/** One file inside a zip archive. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

/** A parsed zip archive over an in-memory byte array. */
export class ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  private readonly view: DataView;

  constructor(
    readonly file: string,
    readonly bytes: Uint8Array,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.entries = this.readCentralDirectory();
  }

  private fail(msg: string): never {
    throw new CheckpointError(this.file, `corrupt zip archive: ${msg}`);
  }

  private u16(pos: number): number {
    if (pos + 2 > this.bytes.byteLength) this.fail(`read past the end at offset ${pos}`);
    return this.view.getUint16(pos, true);
  }

  private u32(pos: number): number {
    if (pos + 4 > this.bytes.byteLength) this.fail(`read past the end at offset ${pos}`);
    return this.view.getUint32(pos, true);
  }

  private u64(pos: number): number {
    if (pos + 8 > this.bytes.byteLength) this.fail(`read past the end at offset ${pos}`);
    const v = this.view.getBigUint64(pos, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`64-bit field at offset ${pos} is out of range`);
    return Number(v);
  }

  private findEocd(): number {
    const size = this.bytes.byteLength;
    if (size < 22) this.fail(`${size} bytes is too small for a zip archive (truncated?)`);
    // The end record sits at the very end, followed by a comment of at most 65535 bytes.
    const stop = Math.max(0, size - 22 - 0xffff);
    for (let pos = size - 22; pos >= stop; pos--) {
      if (this.view.getUint32(pos, true) === SIG_EOCD && pos + 22 + this.view.getUint16(pos + 20, true) <= size) return pos;
    }
    this.fail('no end-of-central-directory record (truncated or not a zip file)');
  }

  private readCentralDirectory(): Map<string, ZipEntry> {
    const eocd = this.findEocd();
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    let cdLimit = eocd;
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || this.u32(loc) !== SIG_ZIP64_LOCATOR) this.fail('zip64 fields without a zip64 locator');
      const rec = this.u64(loc + 8);
      if (rec + 56 > loc || this.u32(rec) !== SIG_ZIP64_EOCD) this.fail(`bad zip64 end record offset ${rec}`);
      count = this.u64(rec + 32);
      cdSize = this.u64(rec + 40);
      cdOffset = this.u64(rec + 48);
      cdLimit = rec;
    }
    if (cdOffset + cdSize > cdLimit) {
      this.fail(`central directory [${cdOffset}, ${cdOffset + cdSize}) runs past its end record at ${cdLimit}`);
    }
    // Each record is at least 46 bytes: a count the directory cannot hold is a lie, refuse before iterating.
    if (count * 46 > cdSize) this.fail(`central directory claims ${count} entries but has only ${cdSize} bytes`);

    const entries = new Map<string, ZipEntry>();
    const end = cdOffset + cdSize;
    let pos = cdOffset;
    const decoder = new TextDecoder('utf-8');
    for (let i = 0; i < count; i++) {
      if (pos + 46 > end) this.fail(`central directory record ${i} at offset ${pos} runs past the directory`);
      if (this.u32(pos) !== SIG_CENTRAL) this.fail(`bad central directory signature for record ${i} at offset ${pos}`);
      const flags = this.u16(pos + 8);
      const method = this.u16(pos + 10);
      const crc32 = this.u32(pos + 16);
      let compressedSize = this.u32(pos + 20);
      let uncompressedSize = this.u32(pos + 24);
      const nameLen = this.u16(pos + 28);
      const extraLen = this.u16(pos + 30);
      const commentLen = this.u16(pos + 32);
      let localHeaderOffset = this.u32(pos + 42);
      const next = pos + 46 + nameLen + extraLen + commentLen;
      if (next > end) this.fail(`central directory record ${i} at offset ${pos} runs past the directory`);
      if (flags & 1) this.fail(`entry ${i} is encrypted`);
      const name = decoder.decode(this.bytes.subarray(pos + 46, pos + 46 + nameLen));
      // zip64 extended information: 64-bit values replace the 0xffffffff placeholders, in this order.
      let ep = pos + 46 + nameLen;
      const extraEnd = ep + extraLen;
      while (ep + 4 <= extraEnd) {
        const id = this.u16(ep);
        const len = this.u16(ep + 2);
        if (ep + 4 + len > extraEnd) this.fail(`entry ${name}: extra field runs past its record`);
        if (id === 0x0001) {
          let fp = ep + 4;
          const take = (): number => {
            if (fp + 8 > ep + 4 + len) this.fail(`entry ${name}: short zip64 extra field`);
            const v = this.u64(fp);
            fp += 8;
            return v;
          };
          if (uncompressedSize === 0xffffffff) uncompressedSize = take();
          if (compressedSize === 0xffffffff) compressedSize = take();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
        }
        ep += 4 + len;
      }
      if (entries.has(name)) this.fail(`duplicate entry ${name}`);
      entries.set(name, { name, method, compressedSize, uncompressedSize, crc32, localHeaderOffset });
      pos = next;
    }
    return entries;
  }

  /** The entry's bytes (a view for stored entries), CRC-checked. */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new CheckpointError(this.file, `zip entry ${name} is missing`);
    const lh = e.localHeaderOffset;
    if (lh + 30 > this.bytes.byteLength || this.u32(lh) !== SIG_LOCAL) {
      this.fail(`entry ${name}: no local header at offset ${lh}`);
    }
    const start = lh + 30 + this.u16(lh + 26) + this.u16(lh + 28);
    const end = start + e.compressedSize;
    if (end > this.bytes.byteLength) {
      this.fail(`entry ${name}: data [${start}, ${end}) runs past the end of the file (${this.bytes.byteLength} bytes; truncated?)`);
    }
    const raw = this.bytes.subarray(start, end);
    let data: Uint8Array;
    if (e.method === 0) {
      if (e.compressedSize !== e.uncompressedSize) this.fail(`entry ${name}: stored entry with differing sizes`);
      data = raw;
    } else if (e.method === 8) {
      try {
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.uncompressedSize) });
      } catch (err) {
        this.fail(`entry ${name}: cannot inflate: ${(err as Error).message}`);
      }
      if (data.byteLength !== e.uncompressedSize) this.fail(`entry ${name}: inflated to ${data.byteLength} bytes, expected ${e.uncompressedSize}`);
    } else {
      throw new CheckpointError(this.file, `zip entry ${name} uses unsupported compression method ${e.method}`);
    }
    if (crc32(data) !== e.crc32 >>> 0) this.fail(`entry ${name}: CRC-32 mismatch (file damaged)`);
    return data;
  }
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (zip polynomial): zlib's native one when this Node has it (≥ 20.15), else a table-driven fallback. */
function crc32(data: Uint8Array): number {
  const native = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
  if (native) return native(data) >>> 0;
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
