/**
 * safetensors read/write. Layout: u64 little-endian header length N, N bytes of JSON header (`__metadata__`
 * first, then `name: {dtype, shape, data_offsets}` with offsets relative to the first byte after the header,
 * padded with spaces to a multiple of 8), then the raw little-endian tensor bytes. The writer reproduces the
 * reference implementation's layout byte for byte: compact JSON, tensors ordered by descending dtype rank then by
 * name (all-F32 files are therefore in plain sorted-name order), packed back to back.
 */
import { CheckpointError } from './errors.js';
import {
  assertLittleEndianHost,
  decodeTensorBytes,
  decodedArrayName,
  dtypeRank,
  dtypeSize,
  encodeTensorBytes,
  isDType,
  shapeSize,
  typedArrayName,
} from './dtypes.js';
import { readWholeFile, writeFileAtomic } from './file-io.js';
import type { DType, NamedTensor, StateDict } from './types.js';

/** The reference implementation refuses headers above 100 MB; so do we (a bogus length must not allocate GBs). */
const MAX_HEADER_BYTES = 100_000_000;

/** Tensors and the free-form `__metadata__` string map of a safetensors file. */
export interface SafetensorsContents {
  tensors: StateDict;
  metadata: Record<string, string>;
}

/**
 * Read every tensor of a safetensors file. F32/F64/I64/I32/I16/I8/U8/BOOL tensors are zero-copy views into one
 * buffer holding the whole file when their offset is a multiple of the element size (always true for files the
 * reference writer produced); otherwise, and for F16/BF16 (widened to Float32Array), the data is copied.
 * Views keep the whole file buffer alive as long as any of them is referenced.
 * @throws CheckpointError naming the file (and the tensor) on truncated, malformed or inconsistent files.
 */
export function readSafetensors(file: string): StateDict {
  return readSafetensorsWithMetadata(file).tensors;
}

/** Like {@link readSafetensors}, also returning the header's `__metadata__` map (empty when absent). */
export function readSafetensorsWithMetadata(file: string): SafetensorsContents {
  assertLittleEndianHost();
  return parseSafetensors(file, readWholeFile(file));
}

interface Entry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

/** Parse safetensors bytes (`file` only names the source in errors). Exposed for in-memory use and tests. */
export function parseSafetensors(file: string, bytes: Uint8Array): SafetensorsContents {
  if (bytes.byteLength < 8) {
    throw new CheckpointError(file, `truncated safetensors file: ${bytes.byteLength} bytes, the 8-byte header length is missing`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(bytes.byteLength - 8)) {
    throw new CheckpointError(
      file,
      `safetensors header length ${headerLen} is larger than the file (${bytes.byteLength} bytes): truncated or not a safetensors file`,
    );
  }
  const n = Number(headerLen);
  if (n > MAX_HEADER_BYTES) throw new CheckpointError(file, `safetensors header of ${n} bytes exceeds the 100 MB limit`);
  let headerText: string;
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new CheckpointError(file, 'safetensors header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    throw new CheckpointError(file, `safetensors header is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new CheckpointError(file, 'safetensors header is not a JSON object');
  }

  const dataStart = 8 + n;
  const dataLen = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) {
        throw new CheckpointError(file, '__metadata__ must be an object of strings');
      }
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new CheckpointError(file, `__metadata__.${k} must be a string, got ${typeof v}`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push(parseEntry(file, name, info, dataLen));
  }

  // Overlap check over offset-sorted entries (zero-size tensors may share an offset).
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1]!;
    const cur = byOffset[i]!;
    if (cur.begin < prev.end) {
      throw new CheckpointError(
        file,
        `tensor ${cur.name}: data_offsets [${cur.begin}, ${cur.end}] overlap tensor ${prev.name} [${prev.begin}, ${prev.end}]`,
      );
    }
  }

  // The map lists tensors in file order (JSON.parse would put integer-like names first).
  const tensors: StateDict = new Map();
  for (const e of byOffset) {
    const count = shapeSize(e.shape);
    const { data } = decodeTensorBytes(e.dtype, bytes.subarray(dataStart + e.begin, dataStart + e.end), count);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

function parseEntry(file: string, name: string, info: unknown, dataLen: number): Entry {
  const where = `tensor ${name}`;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    throw new CheckpointError(file, `${where}: header entry is not an object`);
  }
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (!isDType(dtype)) throw new CheckpointError(file, `${where}: unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new CheckpointError(file, `${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
  ) {
    throw new CheckpointError(file, `${where}: data_offsets must be [begin, end] integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new CheckpointError(file, `${where}: data_offsets [${begin}, ${end}] end before begin`);
  if (end > dataLen) {
    throw new CheckpointError(
      file,
      `${where}: data_offsets [${begin}, ${end}] out of range: the data section has ${dataLen} bytes (truncated file?)`,
    );
  }
  const expected = shapeSize(shape as number[]) * dtypeSize(dtype);
  if (end - begin !== expected) {
    throw new CheckpointError(
      file,
      `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expected}`,
    );
  }
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

/** Check that a tensor's typed array matches its dtype and shape before it is written. */
function validateForWrite(file: string, name: string, t: NamedTensor): void {
  if (!isDType(t.dtype)) throw new CheckpointError(file, `tensor ${name}: unknown dtype ${JSON.stringify(t.dtype)}`);
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new CheckpointError(file, `tensor ${name}: shape must be non-negative integers, got ${JSON.stringify(t.shape)}`);
  }
  const want = decodedArrayName(t.dtype);
  const got = typedArrayName(t.data);
  if (got !== want) throw new CheckpointError(file, `tensor ${name}: dtype ${t.dtype} needs a ${want}, got ${got}`);
  const count = shapeSize(t.shape);
  if (t.data.length !== count) {
    throw new CheckpointError(file, `tensor ${name}: shape ${JSON.stringify(t.shape)} has ${count} elements, data has ${t.data.length}`);
  }
}

/** Byte-wise UTF-8 order, as Rust's `String` ordering sorts names (differs from UTF-16 order only off the BMP). */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Serialise tensors to safetensors bytes (as chunks, so large tensors are not copied into one buffer).
 * F16/BF16 tensors hold Float32Array data and are rounded to nearest even on the way out.
 */
export function serializeSafetensors(
  tensors: StateDict,
  metadata?: Record<string, string>,
  file = '<memory>',
): Uint8Array[] {
  assertLittleEndianHost();
  const names = [...tensors.keys()];
  for (const name of names) validateForWrite(file, name, tensors.get(name)!);
  names.sort((a, b) => {
    const ra = dtypeRank(tensors.get(a)!.dtype);
    const rb = dtypeRank(tensors.get(b)!.dtype);
    return rb - ra || compareUtf8(a, b);
  });

  // Build the header by hand: JSON.stringify of an object would move integer-like names ("0", "1") first.
  const parts: string[] = [];
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new CheckpointError(file, `metadata ${k} must be a string, got ${typeof v}`);
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  const datas: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const bytes = encodeTensorBytes(t.dtype, t.data);
    const end = offset + bytes.byteLength;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    datas.push(bytes);
    offset = end;
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  return [header, ...datas];
}

/**
 * Write tensors to a safetensors file atomically (temp file + rename). Each tensor's `data` must be the typed
 * array its dtype decodes to (Float32Array for F32/F16/BF16, BigInt64Array for I64, …) with shape×1 elements.
 * Passing `metadata` writes a `__metadata__` entry (use `{ format: 'pt' }` for files `transformers` loads).
 */
export function writeSafetensors(file: string, tensors: StateDict, metadata?: Record<string, string>): void {
  writeFileAtomic(file, serializeSafetensors(tensors, metadata, file));
}
