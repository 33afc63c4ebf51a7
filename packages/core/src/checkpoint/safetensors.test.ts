import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  f32ToBF16Bits,
  f32ToF16Bits,
  readSafetensors,
  readSafetensorsWithMetadata,
  serializeSafetensors,
  writeSafetensors,
  type NamedTensor,
  type StateDict,
} from '../index.js';
import { ORACLE, bytesOf, expectCheckpointError, scratchDir } from './__tests__/helpers.js';

const FIXTURES = ['t5-relu-tied', 'bert-tiny', 'bert-tiny-prefixed'];
const { dir: tmp, write } = scratchDir('fidkd-safetensors-');

function concat(chunks: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

function writeTmp(bytes: Uint8Array): string {
  return write(`t${Math.random().toString(36).slice(2)}.safetensors`, bytes);
}

function headerOf(bytes: Uint8Array): { json: Record<string, unknown>; n: number } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { json: JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')), n };
}

describe('readSafetensors on the oracle fixtures', () => {
  it.each(FIXTURES)('%s: every header entry loads with the right dtype, shape and bytes', (name) => {
    const file = join(ORACLE, name, 'model.safetensors');
    const raw = new Uint8Array(readFileSync(file));
    const { json, n } = headerOf(raw);
    const { tensors, metadata } = readSafetensorsWithMetadata(file);
    expect(metadata).toEqual({ format: 'pt' });
    const names = Object.keys(json).filter((k) => k !== '__metadata__');
    expect([...tensors.keys()].sort()).toEqual(names.sort());
    for (const k of names) {
      const info = json[k] as { dtype: string; shape: number[]; data_offsets: [number, number] };
      const t = tensors.get(k)!;
      expect(t.dtype).toBe(info.dtype);
      expect(t.shape).toEqual(info.shape);
      // Bytes of the decoded array are exactly the file's bytes for that tensor.
      const want = raw.subarray(8 + n + info.data_offsets[0], 8 + n + info.data_offsets[1]);
      expect(Buffer.compare(bytesOf(t.data), Buffer.from(want))).toBe(0);
    }
  });

  it('F32 tensors are zero-copy views into one file buffer', () => {
    const tensors = readSafetensors(join(ORACLE, 'bert-tiny', 'model.safetensors'));
    const buffers = new Set([...tensors.values()].map((t) => t.data.buffer));
    expect(buffers.size).toBe(1);
  });

  it.each(FIXTURES)('%s: writing the tensors back reproduces the file byte for byte', (name) => {
    const file = join(ORACLE, name, 'model.safetensors');
    const { tensors, metadata } = readSafetensorsWithMetadata(file);
    const expected = readFileSync(file);
    expect(Buffer.compare(Buffer.from(concat(serializeSafetensors(tensors, metadata))), expected)).toBe(0);
    const out = join(tmp, `${name}.safetensors`);
    writeSafetensors(out, tensors, metadata);
    expect(Buffer.compare(readFileSync(out), expected)).toBe(0);
  });
});

describe('writeSafetensors layout (reference implementation vectors)', () => {
  it('matches the reference serialisation of a single F32 tensor', () => {
    const t: StateDict = new Map([['attn.0', { dtype: 'F32', shape: [1, 2, 3], data: Float32Array.from([0, 1, 2, 3, 4, 5]) }]]);
    const bytes = concat(serializeSafetensors(t));
    const json = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(json.length).toBe(64); // already a multiple of 8: no padding
    expect(bytes.length).toBe(8 + 64 + 24);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([64, 0, 0, 0, 0, 0, 0, 0]);
    expect(Buffer.from(bytes.subarray(8, 72)).toString()).toBe(json);
    expect(Array.from(new Float32Array(bytes.slice(72).buffer))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('pads the header with spaces to a multiple of 8 and writes an empty file as {} + spaces', () => {
    const t: StateDict = new Map([['attn0', { dtype: 'F32', shape: [1, 1, 2, 3], data: new Float32Array(6) }]]);
    const bytes = concat(serializeSafetensors(t));
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect(Buffer.from(bytes.subarray(8, 8 + n)).toString()).toMatch(/}} {7}$/);
    const empty = concat(serializeSafetensors(new Map()));
    expect(Array.from(empty)).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const meta = concat(serializeSafetensors(new Map(), { framework: 'pt' }));
    expect(Buffer.from(meta.subarray(8)).toString()).toBe('{"__metadata__":{"framework":"pt"}}     ');
  });

  it('orders mixed dtypes by descending alignment, then by name, so every tensor is aligned', () => {
    const t: StateDict = new Map<string, NamedTensor>([
      ['b', { dtype: 'U8', shape: [3], data: Uint8Array.from([1, 2, 3]) }],
      ['a', { dtype: 'F16', shape: [1], data: Float32Array.from([1]) }],
      ['z', { dtype: 'I64', shape: [1], data: BigInt64Array.from([7n]) }],
      ['c', { dtype: 'F32', shape: [1], data: Float32Array.from([2]) }],
      ['10', { dtype: 'F32', shape: [1], data: Float32Array.from([3]) }],
    ]);
    const bytes = concat(serializeSafetensors(t));
    const { json, n } = headerOf(bytes);
    // Key order as written (JSON.parse would hoist the integer-like name "10").
    const text = Buffer.from(bytes.subarray(8, 8 + n)).toString();
    expect([...text.matchAll(/"([^"]+)":\{"dtype"/g)].map((m) => m[1])).toEqual(['z', '10', 'c', 'a', 'b']);
    expect([...readSafetensors(writeTmp(bytes)).keys()]).toEqual(['z', '10', 'c', 'a', 'b']);
    expect((json.z as { data_offsets: number[] }).data_offsets).toEqual([0, 8]);
    expect((json.a as { data_offsets: number[] }).data_offsets).toEqual([16, 18]);
  });
});

describe('safetensors round trip', () => {
  it('keeps every dtype: F32, F64, I64, I32, I16, I8, U8, BOOL exactly; F16/BF16 rounded to nearest even', () => {
    const src: StateDict = new Map<string, NamedTensor>([
      ['f32', { dtype: 'F32', shape: [2, 2], data: Float32Array.from([1.5, -2, 3.25, 1e-30]) }],
      ['f64', { dtype: 'F64', shape: [2], data: Float64Array.from([Math.PI, -1e300]) }],
      ['i64', { dtype: 'I64', shape: [3], data: BigInt64Array.from([0n, -(2n ** 62n), 2n ** 63n - 1n]) }],
      ['i32', { dtype: 'I32', shape: [3], data: Int32Array.from([-100, 0, 2 ** 31 - 1]) }],
      ['i16', { dtype: 'I16', shape: [2], data: Int16Array.from([-32768, 5]) }],
      ['i8', { dtype: 'I8', shape: [2], data: Int8Array.from([-128, 127]) }],
      ['u8', { dtype: 'U8', shape: [2], data: Uint8Array.from([0, 255]) }],
      ['bool', { dtype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) }],
      // Exactly representable in half / bfloat16: must come back unchanged.
      ['f16', { dtype: 'F16', shape: [6], data: Float32Array.from([1, -2.5, 65504, 6.103515625e-5, 5.960464477539063e-8, -0]) }],
      ['bf16', { dtype: 'BF16', shape: [4], data: Float32Array.from([1, -2.5, 3.3895313892515355e38, 9.183549615799121e-41]) }],
      ['scalar', { dtype: 'F32', shape: [], data: Float32Array.from([42]) }],
      ['empty', { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) }],
    ]);
    const file = join(tmp, 'all-dtypes.safetensors');
    writeSafetensors(file, src, { format: 'pt', note: 'ünïcode' });
    const { tensors, metadata } = readSafetensorsWithMetadata(file);
    expect(metadata).toEqual({ format: 'pt', note: 'ünïcode' });
    expect([...tensors.keys()].sort()).toEqual([...src.keys()].sort());
    for (const [name, t] of src) {
      const back = tensors.get(name)!;
      expect(back.dtype).toBe(t.dtype);
      expect(back.shape).toEqual(t.shape);
      expect(Object.prototype.toString.call(back.data)).toBe(Object.prototype.toString.call(t.data));
      expect(Array.from(back.data as ArrayLike<number | bigint>)).toEqual(Array.from(t.data as ArrayLike<number | bigint>));
    }
  });

  it('F16 / BF16 encoding rounds like numpy / torch', () => {
    // Reference bit patterns from numpy float32 → float16 (astype) for these inputs.
    const inputs = [1.0, -2.5, 65504, 70000, 1e-8, 6e-8, 3e-5, 0.1, 0.333333, Infinity, -0, 1.00048828125];
    const numpyF16 = [15360, 49408, 31743, 31744, 0, 1, 503, 11878, 13653, 31744, 32768, 15360];
    expect(inputs.map(f32ToF16Bits)).toEqual(numpyF16);
    expect(Number.isNaN(new Float32Array(1).fill(NaN)[0]) && (f32ToF16Bits(NaN) & 0x7c00) === 0x7c00 && (f32ToF16Bits(NaN) & 0x3ff) !== 0).toBe(true);
    // bfloat16 = top half of float32, round to nearest even on the dropped 16 bits.
    expect(f32ToBF16Bits(1)).toBe(0x3f80);
    expect(f32ToBF16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie, even stays
    expect(f32ToBF16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie, odd rounds up
    expect(f32ToBF16Bits(1 + 2 ** -8 + 2 ** -16)).toBe(0x3f81); // above the tie
    expect(f32ToBF16Bits(-Infinity)).toBe(0xff80);
    const rounded = new Map<string, NamedTensor>([['h', { dtype: 'F16', shape: [2], data: Float32Array.from([0.1, 1 + 2 ** -11]) }]]);
    const file = join(tmp, 'f16-round.safetensors');
    writeSafetensors(file, rounded);
    expect(Array.from(readSafetensors(file).get('h')!.data as Float32Array)).toEqual([0.0999755859375, 1]);
  });

  it('rejects a tensor whose array does not match its dtype or shape, and leaves the old file intact', () => {
    const file = join(tmp, 'keep.safetensors');
    writeSafetensors(file, new Map([['x', { dtype: 'F32', shape: [1], data: Float32Array.from([1]) }]]));
    const before = readFileSync(file);
    expectCheckpointError(
      () => writeSafetensors(file, new Map([['x', { dtype: 'I64', shape: [1], data: Int32Array.from([1]) }]])),
      file,
      /tensor x: dtype I64 needs a BigInt64Array, got Int32Array/,
    );
    expectCheckpointError(
      () => writeSafetensors(file, new Map([['y', { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) }]])),
      file,
      /tensor y: shape \[2,2\] has 4 elements, data has 3/,
    );
    expect(Buffer.compare(readFileSync(file), before)).toBe(0);
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('readSafetensors rejects bad files with a clear error naming the file', () => {
  const good = readFileSync(join(ORACLE, 'bert-tiny', 'model.safetensors'));
  const n = Number(good.readBigUInt64LE(0));

  function withHeader(header: string, data: Uint8Array = new Uint8Array(0)): Buffer {
    const json = Buffer.from(header);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([len, json, data]);
  }

  it('a file shorter than the 8-byte length', () => {
    const f = write('tiny.safetensors', good.subarray(0, 5));
    expectCheckpointError(() => readSafetensors(f), f, /truncated/);
  });

  it('a header length larger than the file', () => {
    const f = write('headlong.safetensors', good.subarray(0, n - 10));
    expectCheckpointError(() => readSafetensors(f), f, /header length \d+ is larger than the file/);
    const bogus = Buffer.from(good);
    bogus.writeBigUInt64LE(2n ** 63n);
    const f2 = write('bogus-len.safetensors', bogus);
    expectCheckpointError(() => readSafetensors(f2), f2, /larger than the file/);
  });

  it('a file truncated inside the tensor data', () => {
    const f = write('truncated.safetensors', good.subarray(0, good.length - 100));
    expectCheckpointError(() => readSafetensors(f), f, /out of range: the data section has \d+ bytes \(truncated file\?\)/);
  });

  it('a header that is not JSON', () => {
    const f = write('badjson.safetensors', withHeader('{"a": {"dtype": "F32",'));
    expectCheckpointError(() => readSafetensors(f), f, /header is not valid JSON/);
  });

  it('an unknown dtype', () => {
    const f = write('dtype.safetensors', withHeader('{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}', new Uint8Array(1)));
    expectCheckpointError(() => readSafetensors(f), f, /tensor w: unknown dtype "F8_E4M3"/);
  });

  it('offsets out of range, overlapping, or not matching shape × dtype size', () => {
    const data = new Uint8Array(16);
    const f1 = write('range.safetensors', withHeader('{"w":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}', data));
    expectCheckpointError(() => readSafetensors(f1), f1, /tensor w: data_offsets \[0, 32\] out of range/);
    const f2 = write(
      'overlap.safetensors',
      withHeader('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', data),
    );
    expectCheckpointError(() => readSafetensors(f2), f2, /tensor b: data_offsets \[4, 12\] overlap tensor a/);
    const f3 = write('size.safetensors', withHeader('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', data));
    expectCheckpointError(() => readSafetensors(f3), f3, /tensor w: data_offsets \[0, 8\] span 8 bytes but F32 \[3\] needs 12/);
    const f4 = write('neg.safetensors', withHeader('{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}', data));
    expectCheckpointError(() => readSafetensors(f4), f4, /end before begin/);
  });

  it('a missing file or a directory', () => {
    const f = join(tmp, 'nope.safetensors');
    expectCheckpointError(() => readSafetensors(f), f, /cannot open/);
    expectCheckpointError(() => readSafetensors(tmp), tmp, /not a regular file/);
  });

  it('misaligned data is copied, not viewed, and still reads right', () => {
    // A hand-made (non-reference) file whose F32 tensor starts at data offset 1.
    const header = '{"u":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}';
    const pad = ' '.repeat((8 - (header.length % 8)) % 8);
    const data = new Uint8Array(9);
    data[0] = 7;
    data.set(new Uint8Array(Float32Array.from([1.25, -3]).buffer), 1);
    const f = write('misaligned.safetensors', withHeader(header + pad, data));
    const t = readSafetensors(f);
    expect(Array.from(t.get('w')!.data as Float32Array)).toEqual([1.25, -3]);
    expect(t.get('w')!.data.buffer === t.get('u')!.data.buffer).toBe(false);
  });
});
