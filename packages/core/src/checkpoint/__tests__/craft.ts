/**
 * Test helpers that craft pickles and zip archives byte by byte, so that tests can build PyTorch-style
 * checkpoints (good, odd and malicious) without Python.
 */
import * as zlib from 'node:zlib';

/** Appends pickle opcodes; every method returns `this` for chaining. */
export class PickleWriter {
  private readonly parts: number[] = [];

  private bytes(...b: number[]): this {
    this.parts.push(...b);
    return this;
  }
  private u32(n: number): number[] {
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  }
  proto(v = 2): this {
    return this.bytes(0x80, v);
  }
  mark(): this {
    return this.bytes(0x28);
  }
  emptyDict(): this {
    return this.bytes(0x7d);
  }
  emptyTuple(): this {
    return this.bytes(0x29);
  }
  emptyList(): this {
    return this.bytes(0x5d);
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.bytes(0x58, ...this.u32(b.length), ...b);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.bytes(0x4b, n);
    if (n >= 0 && n < 65536) return this.bytes(0x4d, n & 0xff, n >> 8);
    return this.bytes(0x4a, ...this.u32(n));
  }
  global(module: string, name: string): this {
    return this.bytes(0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1'));
  }
  stackGlobal(module: string, name: string): this {
    return this.str(module).str(name).bytes(0x93);
  }
  tuple(): this {
    return this.bytes(0x74);
  }
  tuple2(): this {
    return this.bytes(0x86);
  }
  tuple1(): this {
    return this.bytes(0x85);
  }
  falsy(): this {
    return this.bytes(0x89);
  }
  none(): this {
    return this.bytes(0x4e);
  }
  reduce(): this {
    return this.bytes(0x52);
  }
  binpersid(): this {
    return this.bytes(0x51);
  }
  setitems(): this {
    return this.bytes(0x75);
  }
  setitem(): this {
    return this.bytes(0x73);
  }
  append(): this {
    return this.bytes(0x61);
  }
  put(i: number): this {
    return this.bytes(0x71, i);
  }
  get(i: number): this {
    return this.bytes(0x68, i);
  }
  stop(): this {
    return this.bytes(0x2e);
  }
  raw(...b: number[]): this {
    return this.bytes(...b);
  }
  build(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** One tensor of a crafted state dict: which storage it views and how. */
export interface CraftTensor {
  name: string;
  storageKey: string;
  storageClass: string; // e.g. 'FloatStorage'
  storageNumel: number;
  offset: number;
  size: number[];
  stride: number[];
  /** Wrap in torch._utils._rebuild_parameter as nn.Parameter state dicts do. */
  parameter?: boolean;
}

function intTuple(w: PickleWriter, xs: number[]): void {
  w.mark();
  for (const x of xs) w.int(x);
  w.tuple();
}

/**
 * The data.pkl torch.save writes for an OrderedDict state dict of the given tensors. With `withMetadata`, the
 * dict also gets the `_metadata` attribute (via BUILD) that `nn.Module.state_dict()` attaches.
 */
export function stateDictPickle(tensors: CraftTensor[], withMetadata = false): Uint8Array {
  const w = new PickleWriter().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  for (const t of tensors) {
    w.str(t.name);
    if (t.parameter) w.global('torch._utils', '_rebuild_parameter').mark();
    w.global('torch._utils', '_rebuild_tensor_v2').mark();
    w.mark().str('storage').global('torch', t.storageClass).str(t.storageKey).str('cpu').int(t.storageNumel).tuple().binpersid();
    w.int(t.offset);
    intTuple(w, t.size);
    intTuple(w, t.stride);
    w.falsy().global('collections', 'OrderedDict').emptyTuple().reduce();
    w.tuple().reduce();
    if (t.parameter) w.falsy().global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  }
  w.setitems();
  if (withMetadata) {
    // state = {'_metadata': OrderedDict({'': {'version': 1}})}; BUILD sets it as the dict's attribute.
    w.emptyDict().str('_metadata').global('collections', 'OrderedDict').emptyTuple().reduce();
    w.str('').emptyDict().str('version').int(1).setitem().setitem().setitem().raw(0x62);
  }
  return w.stop().build();
}

/** A file entry for {@link makeZip}. */
export interface ZipInput {
  name: string;
  data: Uint8Array;
}

function le16(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff];
}
function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** Where the pieces of a crafted zip landed, for tests that corrupt them. */
export interface ZipLayout {
  bytes: Uint8Array;
  cdOffset: number;
  cdSize: number;
  eocdOffset: number;
}

/** A plain (non-zip64) stored zip archive of `files`, with correct CRCs, as torch would write for small files. */
export function makeZip(files: ZipInput[]): ZipLayout {
  const out: number[] = [];
  const central: number[] = [];
  const crc32 = (zlib as unknown as { crc32: (d: Uint8Array) => number }).crc32;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    const offset = out.length;
    const crc = crc32(f.data) >>> 0;
    // Like torch, pad the local header with an extra field so that entry data starts 64-byte aligned.
    const bare = offset + 30 + name.length + 4;
    const padLen = (64 - (bare % 64)) % 64;
    out.push(...le32(0x04034b50), ...le16(20), ...le16(0), ...le16(0), ...le16(0), ...le16(0));
    out.push(...le32(crc), ...le32(f.data.length), ...le32(f.data.length), ...le16(name.length), ...le16(4 + padLen), ...name);
    out.push(...le16(0x4246), ...le16(padLen), ...new Array<number>(padLen).fill(0x5a));
    for (const b of f.data) out.push(b);
    central.push(...le32(0x02014b50), ...le16(20), ...le16(20), ...le16(0), ...le16(0), ...le16(0), ...le16(0));
    central.push(...le32(crc), ...le32(f.data.length), ...le32(f.data.length), ...le16(name.length), ...le16(0), ...le16(0));
    central.push(...le16(0), ...le16(0), ...le32(0), ...le32(offset), ...name);
  }
  const cdOffset = out.length;
  out.push(...central);
  const eocdOffset = out.length;
  out.push(...le32(0x06054b50), ...le16(0), ...le16(0), ...le16(files.length), ...le16(files.length));
  out.push(...le32(central.length), ...le32(cdOffset), ...le16(0));
  return { bytes: Uint8Array.from(out), cdOffset, cdSize: central.length, eocdOffset };
}

/** Little-endian bytes of float32 values. */
export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
