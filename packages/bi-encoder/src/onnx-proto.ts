/**
 * The ONNX protobuf wire format (onnx.proto, IR version 8), written by hand: the few messages an inference graph
 * needs — ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto — as a list of byte
 * chunks. Large tensors are referenced, not copied, so a bert-base model (~440 MB of weights) is written without
 * assembling one buffer. No dependency: this is all of protobuf that an ONNX model file uses.
 */

/** TensorProto.DataType values used here. */
export const ONNX_DTYPE = { float32: 1, int32: 6, int64: 7 } as const;
export type OnnxDType = keyof typeof ONNX_DTYPE;

/** A constant tensor of the graph (an initializer). Data is little-endian raw_data, as ONNX stores it. */
export interface OnnxTensor {
  name: string;
  dtype: OnnxDType;
  dims: readonly number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

/** An attribute value; the variant names AttributeProto's field. */
export type OnnxAttribute = { int: number } | { float: number } | { ints: readonly number[] } | { string: string };

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: Readonly<Record<string, OnnxAttribute>>;
  /** Operator domain ('' = the default ai.onnx domain). */
  domain?: string;
}

/** A graph input or output: element type and shape, each dimension a size or a symbolic name. */
export interface OnnxValueInfo {
  name: string;
  dtype: OnnxDType;
  shape: ReadonlyArray<number | string>;
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  /** Version of the default domain's operator set (e.g. 17 for LayerNormalization). */
  opset: number;
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  /** metadata_props: free key/value strings stored in the model. */
  metadata?: Readonly<Record<string, string>>;
}

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

/** Protobuf message writer producing byte chunks; large byte fields are kept by reference. */
class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private pending: number[] = [];
  /** Bytes written so far. */
  length = 0;

  private byte(b: number): void {
    this.pending.push(b);
    this.length++;
  }

  private flush(): void {
    if (this.pending.length) {
      this.chunks.push(Uint8Array.from(this.pending));
      this.pending = [];
    }
  }

  /** Unsigned varint of a non-negative safe integer, or a negative one as 10-byte two's complement (int64). */
  varint(v: number): void {
    if (!Number.isSafeInteger(v)) throw new Error(`onnx: ${v} is not an integer that protobuf can encode here`);
    if (v < 0) {
      let u = BigInt.asUintN(64, BigInt(v));
      while (u >= 0x80n) {
        this.byte(Number(u & 0x7fn) | 0x80);
        u >>= 7n;
      }
      this.byte(Number(u));
      return;
    }
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, v: number): void {
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.byte(x);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.varint(data.byteLength);
    if (data.byteLength < 256) {
      for (const x of data) this.byte(x);
      return;
    }
    this.flush();
    this.chunks.push(data);
    this.length += data.byteLength;
  }

  string(field: number, s: string): void {
    this.bytes(field, utf8.encode(s));
  }

  message(field: number, m: ProtoWriter): void {
    const parts = m.finish();
    this.tag(field, WIRE_LEN);
    this.varint(m.length);
    this.flush();
    this.chunks.push(...parts);
    this.length += m.length;
  }

  finish(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }
}

/** Little-endian bytes of a typed array (a view, not a copy, on little-endian hosts). */
function rawBytes(data: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN) return view;
  const out = new Uint8Array(view.length);
  const w = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < view.length; i += w) for (let j = 0; j < w; j++) out[i + j] = view[i + w - 1 - j]!;
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function tensorProto(t: OnnxTensor): ProtoWriter {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) {
    throw new Error(`onnx: tensor '${t.name}' has ${t.data.length} values, its dims [${t.dims.join(', ')}] need ${count}`);
  }
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(1, d); // dims (repeated int64, unpacked: proto2's default encoding)
  w.int(2, ONNX_DTYPE[t.dtype]); // data_type
  w.string(8, t.name); // name
  w.bytes(9, rawBytes(t.data)); // raw_data
  return w;
}

function attributeProto(name: string, a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter();
  w.string(1, name);
  if ('int' in a) {
    w.int(20, 2); // AttributeType INT
    w.int(3, a.int);
  } else if ('float' in a) {
    w.int(20, 1); // FLOAT
    w.float(2, a.float);
  } else if ('ints' in a) {
    w.int(20, 7); // INTS
    for (const v of a.ints) w.int(8, v);
  } else {
    w.int(20, 3); // STRING
    w.string(4, a.string);
  }
  return w;
}

function nodeProto(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, attributeProto(k, v));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function valueInfoProto(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d); // dim_value
    else dim.string(2, d); // dim_param
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter();
  tensorType.int(1, ONNX_DTYPE[v.dtype]); // elem_type
  tensorType.message(2, shape);
  const type = new ProtoWriter();
  type.message(1, tensorType); // TypeProto.tensor_type
  const w = new ProtoWriter();
  w.string(1, v.name);
  w.message(2, type);
  return w;
}

function graphProto(g: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, nodeProto(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, tensorProto(t));
  for (const v of g.inputs) w.message(11, valueInfoProto(v));
  for (const v of g.outputs) w.message(12, valueInfoProto(v));
  return w;
}

/**
 * Serialises a model to ModelProto bytes, as chunks to write one after another (or to concatenate): the large
 * tensors' chunks are views of their data, so keep the data unchanged until the chunks are written.
 */
export function encodeOnnxModel(m: OnnxModel): Uint8Array[] {
  const w = new ProtoWriter();
  w.int(1, m.irVersion ?? 8); // ir_version
  w.string(2, m.producerName ?? 'fidkd'); // producer_name
  if (m.producerVersion) w.string(3, m.producerVersion);
  w.message(7, graphProto(m.graph)); // graph
  const opset = new ProtoWriter();
  opset.string(1, ''); // domain: ai.onnx
  opset.int(2, m.opset); // version
  w.message(8, opset); // opset_import
  for (const [k, v] of Object.entries(m.metadata ?? {})) {
    const e = new ProtoWriter();
    e.string(1, k);
    e.string(2, v);
    w.message(14, e); // metadata_props (StringStringEntryProto)
  }
  return w.finish();
}

/** The chunks of {@link encodeOnnxModel} as one buffer (what `InferenceSession.create` takes). */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  const total = chunks.reduce((a, c) => a + c.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}
