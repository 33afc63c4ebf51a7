/**
 * Element types of checkpoint tensors: byte sizes, the typed array each decodes to, and the conversions between
 * raw little-endian bytes and those arrays (F16/BF16 are widened to float32 on read and rounded back on write).
 */
import { endianness } from 'node:os';
import type { DType, TensorData } from './types.js';

/** Every dtype this package reads and writes, in safetensors' alignment order (smallest element first). */
export const DTYPES: readonly DType[] = ['BOOL', 'U8', 'I8', 'I16', 'F16', 'BF16', 'I32', 'F32', 'F64', 'I64'];

const SIZES: Record<DType, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
};

/** Rank of a dtype in safetensors' `Dtype` enum order; the writer lays tensors out by descending rank. */
const RANK: Record<DType, number> = {
  BOOL: 0,
  U8: 1,
  I8: 2,
  I16: 5,
  F16: 7,
  BF16: 8,
  I32: 9,
  F32: 11,
  F64: 12,
  I64: 13,
};

/** True when `s` names a dtype this package supports. */
export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(SIZES, s);
}

/** Bytes per element of `dtype` as stored on disk. */
export function dtypeSize(dtype: DType): number {
  return SIZES[dtype];
}

/** safetensors' enum rank of `dtype` (used for the writer's layout order). */
export function dtypeRank(dtype: DType): number {
  return RANK[dtype];
}

/** Name of the typed array a dtype decodes to (for error messages and validation). */
export function decodedArrayName(dtype: DType): string {
  switch (dtype) {
    case 'F32':
    case 'F16':
    case 'BF16':
      return 'Float32Array';
    case 'F64':
      return 'Float64Array';
    case 'I64':
      return 'BigInt64Array';
    case 'I32':
      return 'Int32Array';
    case 'I16':
      return 'Int16Array';
    case 'I8':
      return 'Int8Array';
    case 'U8':
    case 'BOOL':
      return 'Uint8Array';
  }
}

/** The constructor name of a typed array, without `instanceof` (which fails across realms / native addons). */
export function typedArrayName(data: unknown): string {
  if (!ArrayBuffer.isView(data)) return typeof data;
  return Object.prototype.toString.call(data).slice(8, -1);
}

/** Element count of a shape (1 for a scalar). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Refuse to run on big-endian hosts: every format here is little-endian and typed arrays use host order. */
export function assertLittleEndianHost(): void {
  if (endianness() !== 'LE') throw new Error('checkpoint I/O requires a little-endian host');
}

let f16Table: Float32Array | undefined;

/** float16 bit pattern → float32 value, as a 65536-entry table built once (decoding is then one lookup). */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  f16Table = t;
  return t;
}

/** Decode `count` little-endian float16 values starting at `bytes[0]` into a new Float32Array. */
export function decodeF16(bytes: Uint8Array, count: number): Float32Array {
  const table = halfTable();
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = table[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]!;
  return out;
}

/** Decode `count` little-endian bfloat16 values (the top half of a float32) into a new Float32Array. */
export function decodeBF16(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) bits[i] = ((bytes[2 * i]! | (bytes[2 * i + 1]! << 8)) << 16) >>> 0;
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → float16 bits, round to nearest even, overflow to ±Inf, NaN preserved (quiet). */
export function f32ToF16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  // Unbiased exponent re-biased for half precision.
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit-1 mantissa right, rounding to nearest even.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // may carry into the exponent, which is correct
  return sign | h;
}

/** float32 → bfloat16 bits, round to nearest even, NaN kept NaN. */
export function f32ToBF16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return ((x >>> 16) | 0x40) & 0xffff;
  const lsb = (x >>> 16) & 1;
  return ((x + 0x7fff + lsb) >>> 16) & 0xffff;
}

/**
 * Decode `count` elements of `dtype` from `bytes` (little-endian). Returns a view sharing `bytes`' memory when
 * the dtype needs no conversion and the byte offset is a multiple of the element size; otherwise a copy
 * (misaligned data, or F16/BF16 which are widened to float32). The second value tells which happened.
 */
export function decodeTensorBytes(dtype: DType, bytes: Uint8Array, count: number): { data: TensorData; copied: boolean } {
  if (dtype === 'F16') return { data: decodeF16(bytes, count), copied: true };
  if (dtype === 'BF16') return { data: decodeBF16(bytes, count), copied: true };
  const size = SIZES[dtype];
  let buffer = bytes.buffer;
  let offset = bytes.byteOffset;
  let copied = false;
  if (offset % size !== 0) {
    const aligned = bytes.slice(0, count * size);
    buffer = aligned.buffer;
    offset = 0;
    copied = true;
  }
  return { data: typedView(dtype, buffer, offset, count), copied };
}

function typedView(dtype: DType, buffer: ArrayBufferLike, offset: number, count: number): TensorData {
  switch (dtype) {
    case 'F32':
    case 'F16':
    case 'BF16':
      return new Float32Array(buffer, offset, count);
    case 'F64':
      return new Float64Array(buffer, offset, count);
    case 'I64':
      return new BigInt64Array(buffer, offset, count);
    case 'I32':
      return new Int32Array(buffer, offset, count);
    case 'I16':
      return new Int16Array(buffer, offset, count);
    case 'I8':
      return new Int8Array(buffer, offset, count);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buffer, offset, count);
  }
}

/** A new zeroed typed array of the kind `dtype` decodes to. */
export function allocTensorData(dtype: DType, count: number): TensorData {
  return typedView(dtype, new ArrayBuffer(count * (dtype === 'F16' || dtype === 'BF16' ? 4 : SIZES[dtype])), 0, count);
}

/**
 * The on-disk little-endian bytes of `data` as `dtype`. Shares memory with `data` when no conversion is needed;
 * F16/BF16 are rounded (nearest even) from the float32 values. The caller has validated the array kind.
 */
export function encodeTensorBytes(dtype: DType, data: TensorData): Uint8Array {
  if (dtype === 'F16' || dtype === 'BF16') {
    const out = new Uint16Array(data.length);
    const src = data as Float32Array;
    const conv = dtype === 'F16' ? f32ToF16Bits : f32ToBF16Bits;
    for (let i = 0; i < src.length; i++) out[i] = conv(src[i]!);
    return new Uint8Array(out.buffer);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
