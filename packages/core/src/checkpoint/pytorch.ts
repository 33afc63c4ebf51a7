/**
 * PyTorch zip checkpoints (`pytorch_model.bin` as `torch.save` writes them since torch 1.6): an uncompressed zip
 * holding `<archive>/data.pkl` (the pickled state dict) and one `<archive>/data/<key>` entry per storage. The
 * pickle is run by the restricted VM in ./pickle.ts with an allow-list of exactly the globals a state dict
 * needs; storages are resolved to zip entries and tensors to typed arrays (views when contiguous and aligned).
 */
import { CheckpointError } from './errors.js';
import { assertLittleEndianHost, decodeTensorBytes, dtypeSize, shapeSize, allocTensorData } from './dtypes.js';
import { readWholeFile } from './file-io.js';
import { PyDict, PyGlobal, PyOpaque, PyTuple, describe, unpickle, type PyValue } from './pickle.js';
import type { DType, NamedTensor, StateDict, TensorData } from './types.js';
import { ZipArchive } from './zip.js';

/** torch storage class → dtype. */
const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

const REBUILDERS = new Set(['_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_parameter', '_rebuild_parameter_with_state']);

/** The only globals a state-dict pickle may name. */
function allowGlobal(module: string, name: string): boolean {
  if (module === 'collections' && name === 'OrderedDict') return true;
  if (module === 'torch._utils' && REBUILDERS.has(name)) return true;
  if (module === 'torch' && Object.prototype.hasOwnProperty.call(STORAGE_DTYPES, name)) return true;
  return false;
}

interface Storage {
  key: string;
  dtype: DType;
  /** Element count torch recorded for the storage. */
  numel: number;
  bytes: Uint8Array;
}

interface TensorRef {
  storage: Storage;
  offset: number;
  size: number[];
  stride: number[];
}

const MAGIC_LEGACY = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/**
 * Read a PyTorch zip checkpoint holding a state dict (name → tensor). Executes nothing: globals outside
 * {collections.OrderedDict, torch._utils._rebuild_tensor(_v2), torch._utils._rebuild_parameter(_with_state),
 * torch.<Type>Storage} are refused with a CheckpointError naming them. A file whose top level is a dict with a
 * `state_dict` or `model` entry holding the tensors is unwrapped. Tensors sharing a storage are fine;
 * non-contiguous tensors are materialised in C order. Contiguous, aligned F32/F64/I64/I32/… tensors are views
 * into the whole-file buffer (torch aligns entries to 64 bytes); F16/BF16 are widened copies.
 * @throws CheckpointError naming the file and the record on anything malformed, truncated or unsafe.
 */
export function readPytorchCheckpoint(file: string): StateDict {
  assertLittleEndianHost();
  const bytes = readWholeFile(file);
  if (MAGIC_LEGACY.every((b, i) => bytes[i] === b) || (bytes[0] === 0x80 && bytes[1] === 0x02)) {
    throw new CheckpointError(file, 'legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with a newer torch or convert to safetensors');
  }
  if (bytes.byteLength >= 4 && new DataView(bytes.buffer).getUint32(0, true) !== 0x04034b50) {
    throw new CheckpointError(file, 'not a PyTorch zip checkpoint (no zip local header at offset 0)');
  }
  const zip = new ZipArchive(file, bytes);
  const pklName = [...zip.entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pklName) throw new CheckpointError(file, 'PyTorch checkpoint has no <archive>/data.pkl record');
  const prefix = pklName.slice(0, -'data.pkl'.length);
  const byteorder = zip.entries.has(`${prefix}byteorder`) ? new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim() : 'little';
  if (byteorder !== 'little') throw new CheckpointError(file, `byteorder "${byteorder}" is not supported (little-endian only)`);

  const storages = new Map<string, Storage>();
  const persistentLoad = (pid: PyValue): PyValue => {
    if (!(pid instanceof PyTuple) || pid.items.length < 5 || pid.items[0] !== 'storage') {
      throw new CheckpointError(file, `pickle: unsupported persistent id ${describe(pid)}`);
    }
    const [, type, key, , numel] = pid.items;
    if (!(type instanceof PyGlobal) || !(type.name in STORAGE_DTYPES)) {
      throw new CheckpointError(file, `pickle: storage type ${describe(type)} is not supported`);
    }
    if (typeof key !== 'string' || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
      throw new CheckpointError(file, `pickle: malformed storage record (${describe(key)}, ${describe(numel)})`);
    }
    const dtype = STORAGE_DTYPES[type.name]!;
    let s = storages.get(key);
    if (!s) {
      const entry = `${prefix}data/${key}`;
      if (!zip.entries.has(entry)) throw new CheckpointError(file, `storage ${key}: zip entry ${entry} is missing`);
      // the entry's declared size must be what the pickle's storage holds, checked before anything is inflated
      // (a 1 MB archive may declare a 1 GiB entry)
      const declared = zip.entries.get(entry)!.uncompressedSize;
      if (declared !== numel * dtypeSize(dtype)) {
        throw new CheckpointError(file, `storage ${key}: zip entry ${entry} declares ${declared} bytes, ${numel} ${dtype} elements need ${numel * dtypeSize(dtype)}`);
      }
      const data = zip.read(entry);
      if (data.byteLength < numel * dtypeSize(dtype)) {
        throw new CheckpointError(file, `storage ${key}: ${data.byteLength} bytes, ${numel} ${dtype} elements need ${numel * dtypeSize(dtype)}`);
      }
      s = { key, dtype, numel, bytes: data };
      storages.set(key, s);
    } else if (s.dtype !== dtype) {
      throw new CheckpointError(file, `storage ${key} is used both as ${s.dtype} and ${dtype}`);
    }
    return new PyOpaque('storage', s);
  };

  const call = (fn: PyGlobal, args: PyValue[]): PyValue => {
    if (fn.module === 'collections' && fn.name === 'OrderedDict') {
      const d = new PyDict();
      const items = args[0];
      if (Array.isArray(items)) {
        for (const it of items) {
          if (!(it instanceof PyTuple) || it.items.length !== 2) throw new CheckpointError(file, 'pickle: OrderedDict item is not a pair');
          d.map.set(it.items[0]!, it.items[1]!);
        }
      }
      return d;
    }
    if (fn.module === 'torch._utils' && (fn.name === '_rebuild_tensor_v2' || fn.name === '_rebuild_tensor')) {
      return new PyOpaque('tensor', tensorRef(file, args));
    }
    if (fn.module === 'torch._utils' && fn.name.startsWith('_rebuild_parameter')) {
      const data = args[0];
      if (!(data instanceof PyOpaque) || data.kind !== 'tensor') throw new CheckpointError(file, 'pickle: _rebuild_parameter without a tensor');
      return data;
    }
    throw new CheckpointError(file, `pickle: ${fn.qualified} cannot be called`);
  };

  const root = unpickle(file, zip.read(pklName), { allowGlobal, call, persistentLoad });
  let dict = root;
  if (dict instanceof PyDict && !hasTensor(dict)) {
    const inner = dict.map.get('state_dict') ?? dict.map.get('model');
    if (inner instanceof PyDict) dict = inner;
  }
  if (!(dict instanceof PyDict)) throw new CheckpointError(file, `top-level object is ${describe(root)}, expected a state dict`);

  const out: StateDict = new Map();
  for (const [name, value] of dict.map) {
    if (typeof name !== 'string') throw new CheckpointError(file, `state dict key ${describe(name)} is not a string`);
    if (!(value instanceof PyOpaque) || value.kind !== 'tensor') {
      throw new CheckpointError(file, `state dict entry ${name} is ${describe(value)}, not a tensor`);
    }
    out.set(name, materialise(file, name, value.value as TensorRef));
  }
  return out;
}

function hasTensor(d: PyDict): boolean {
  for (const v of d.map.values()) if (v instanceof PyOpaque && v.kind === 'tensor') return true;
  return false;
}

function intTuple(file: string, what: string, v: PyValue | undefined): number[] {
  if (!(v instanceof PyTuple) || !v.items.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    throw new CheckpointError(file, `pickle: tensor ${what} is ${describe(v)}, expected a tuple of non-negative ints`);
  }
  return v.items as number[];
}

/** Arguments of _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, ...). */
function tensorRef(file: string, args: PyValue[]): TensorRef {
  const [st, offset, size, stride] = args;
  if (!(st instanceof PyOpaque) || st.kind !== 'storage') throw new CheckpointError(file, `pickle: tensor storage is ${describe(st)}`);
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new CheckpointError(file, `pickle: tensor storage offset is ${describe(offset)}`);
  }
  const s = intTuple(file, 'size', size);
  const t = intTuple(file, 'stride', stride);
  if (s.length !== t.length) throw new CheckpointError(file, `pickle: tensor size ${s.length}-d but stride ${t.length}-d`);
  return { storage: st.value as Storage, offset, size: s, stride: t };
}

function materialise(file: string, name: string, ref: TensorRef): NamedTensor {
  const { storage, offset, size, stride } = ref;
  const dtype = storage.dtype;
  const count = shapeSize(size);
  const shape = [...size];
  if (count === 0) return { dtype, shape, data: allocTensorData(dtype, 0) };
  // Highest element index the tensor touches must lie inside its storage.
  let last = offset;
  for (let i = 0; i < size.length; i++) last += (size[i]! - 1) * stride[i]!;
  if (last >= storage.numel) {
    throw new CheckpointError(
      file,
      `tensor ${name}: offset ${offset}, size [${size}], stride [${stride}] reach element ${last} of storage ${storage.key} (${storage.numel} elements)`,
    );
  }
  const item = dtypeSize(dtype);
  if (isContiguous(size, stride)) {
    const bytes = storage.bytes.subarray(offset * item, (offset + count) * item);
    return { dtype, shape, data: decodeTensorBytes(dtype, bytes, count).data };
  }
  // Non-contiguous (e.g. a saved transpose): gather into C order from a decoded view of the whole storage.
  const src = decodeTensorBytes(dtype, storage.bytes.subarray(0, storage.numel * item), storage.numel).data;
  const dst = allocTensorData(dtype, count);
  gather(src, dst, offset, size, stride);
  return { dtype, shape, data: dst };
}

function isContiguous(size: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = size.length - 1; i >= 0; i--) {
    if (size[i]! !== 1 && stride[i]! !== expected) return false;
    expected *= size[i]!;
  }
  return true;
}

function gather(src: TensorData, dst: TensorData, offset: number, size: number[], stride: number[]): void {
  const nd = size.length;
  const idx = new Array<number>(nd).fill(0);
  let srcPos = offset;
  const s = src as unknown as ArrayLike<number | bigint> & { [i: number]: number | bigint };
  const d = dst as unknown as { [i: number]: number | bigint };
  for (let out = 0; out < dst.length; out++) {
    d[out] = s[srcPos]!;
    // Odometer increment over dims, last dim fastest.
    for (let k = nd - 1; k >= 0; k--) {
      idx[k]!++;
      srcPos += stride[k]!;
      if (idx[k]! < size[k]!) break;
      srcPos -= stride[k]! * size[k]!;
      idx[k] = 0;
    }
  }
}
