import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readPytorchCheckpoint, readSafetensors, type StateDict } from '../index.js';
import { PickleWriter, f32Bytes, makeZip, stateDictPickle, type CraftTensor } from './__tests__/craft.js';
import { ORACLE, bytesOf, expectCheckpointError, expectSameTensors, scratchDir } from './__tests__/helpers.js';

const { dir: tmp, write } = scratchDir('fidkd-pytorch-');

/** A torch-style checkpoint zip: archive/data.pkl, archive/data/<key>, archive/version. */
function torchZip(pkl: Uint8Array, storages: Record<string, Uint8Array>, archive = 'archive'): Uint8Array {
  return makeZip([
    { name: `${archive}/data.pkl`, data: pkl },
    ...Object.entries(storages).map(([k, data]) => ({ name: `${archive}/data/${k}`, data })),
    { name: `${archive}/version`, data: Buffer.from('3\n') },
  ]).bytes;
}

describe('readPytorchCheckpoint on the oracle fixtures', () => {
  it.each(['t5-relu-tied', 'bert-tiny'])('%s: .bin and .safetensors hold identical tensors', (name) => {
    const bin = readPytorchCheckpoint(join(ORACLE, name, 'pytorch_model.bin'));
    const st = readSafetensors(join(ORACLE, name, 'model.safetensors'));
    expect(bin.size).toBeGreaterThan(10);
    expectSameTensors(st, bin);
  });

  it('F32 tensors are zero-copy views into the file buffer', () => {
    const bin = readPytorchCheckpoint(join(ORACLE, 'bert-tiny', 'pytorch_model.bin'));
    expect(new Set([...bin.values()].map((t) => t.data.buffer)).size).toBe(1);
  });

  it("t5-fid-official-names loads with FiD's wrapped encoder names and the same weights as t5-relu-tied", () => {
    const official = readPytorchCheckpoint(join(ORACLE, 't5-fid-official-names', 'pytorch_model.bin'));
    const hf = readSafetensors(join(ORACLE, 't5-relu-tied', 'model.safetensors'));
    expect(official.has('encoder.encoder.block.0.module.layer.0.SelfAttention.q.weight')).toBe(true);
    expect(official.has('encoder.encoder.final_layer_norm.weight')).toBe(true);
    // FiD also stores the encoder's embedding, sharing shared.weight's storage.
    const emb = official.get('encoder.encoder.embed_tokens.weight')!;
    expect(emb.data.buffer === official.get('shared.weight')!.data.buffer).toBe(true);
    expect(Buffer.compare(bytesOf(emb.data),
      Buffer.from(official.get('shared.weight')!.data.buffer, official.get('shared.weight')!.data.byteOffset, emb.data.byteLength))).toBe(0);
    const renamed: StateDict = new Map();
    for (const [name, t] of official) {
      if (name === 'encoder.encoder.embed_tokens.weight') continue;
      renamed.set(name.replace(/^encoder\.encoder\./, 'encoder.').replace(/\.module\./, '.'), t);
    }
    expectSameTensors(hf, renamed);
  });
});

describe('readPytorchCheckpoint on crafted checkpoints', () => {
  it('handles storage offsets, shared storages, non-contiguous strides, parameters and other dtypes', () => {
    const shared = f32Bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const long = new Uint8Array(BigInt64Array.from([5n, -6n, 2n ** 40n]).buffer);
    const half = new Uint8Array(Uint16Array.from([0x3c00, 0xc100, 0x7bff]).buffer); // 1, -2.5, 65504
    const tensors: CraftTensor[] = [
      { name: 'head', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 10, offset: 0, size: [2, 2], stride: [2, 1] },
      { name: 'tail', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 10, offset: 6, size: [4], stride: [1], parameter: true },
      // Transposed view of a 2×3 matrix stored at offset 1: element [i][j] = storage[1 + i + 3j].
      { name: 'transposed', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 10, offset: 1, size: [3, 2], stride: [1, 3] },
      { name: 'ids', storageKey: '1', storageClass: 'LongStorage', storageNumel: 3, offset: 0, size: [3], stride: [1] },
      { name: 'half', storageKey: '2', storageClass: 'HalfStorage', storageNumel: 3, offset: 0, size: [3], stride: [1] },
      { name: 'scalar', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 10, offset: 9, size: [], stride: [] },
    ];
    const file = write('crafted.bin', torchZip(stateDictPickle(tensors), { '0': shared, '1': long, '2': half }));
    const sd = readPytorchCheckpoint(file);
    expect([...sd.keys()]).toEqual(tensors.map((t) => t.name));
    expect(Array.from(sd.get('head')!.data as Float32Array)).toEqual([0, 1, 2, 3]);
    expect(Array.from(sd.get('tail')!.data as Float32Array)).toEqual([6, 7, 8, 9]);
    expect(sd.get('tail')!.data.buffer === sd.get('head')!.data.buffer).toBe(true); // views of one storage
    expect(sd.get('transposed')!.shape).toEqual([3, 2]);
    expect(Array.from(sd.get('transposed')!.data as Float32Array)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(sd.get('ids')!.dtype).toBe('I64');
    expect(Array.from(sd.get('ids')!.data as BigInt64Array)).toEqual([5n, -6n, 2n ** 40n]);
    expect(sd.get('half')!.dtype).toBe('F16');
    expect(Array.from(sd.get('half')!.data as Float32Array)).toEqual([1, -2.5, 65504]);
    expect(sd.get('scalar')!.shape).toEqual([]);
    expect(Array.from(sd.get('scalar')!.data as Float32Array)).toEqual([9]);
  });

  it("accepts a state dict's _metadata attribute and unwraps {'state_dict': …} checkpoints", () => {
    const t: CraftTensor = { name: 'w', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 2, offset: 0, size: [2], stride: [1] };
    const withMeta = write('meta.bin', torchZip(stateDictPickle([t], true), { '0': f32Bytes([3, 4]) }));
    expect(Array.from(readPytorchCheckpoint(withMeta).get('w')!.data as Float32Array)).toEqual([3, 4]);
    // {'epoch': 3, 'state_dict': <state dict>}: strip PROTO (2 bytes) and STOP (1 byte) of the inner pickle.
    const inner = stateDictPickle([t]);
    const outer = Uint8Array.from([
      ...new PickleWriter().proto(2).emptyDict().mark().str('epoch').int(3).str('state_dict').build(),
      ...inner.subarray(2, inner.length - 1),
      ...new PickleWriter().setitems().stop().build(),
    ]);
    const wrapped = write('wrapped.bin', torchZip(outer, { '0': f32Bytes([3, 4]) }));
    expect([...readPytorchCheckpoint(wrapped).keys()]).toEqual(['w']);
    const notSd = write('not-sd.bin', torchZip(new PickleWriter().proto(2).emptyDict().str('epoch').int(3).setitem().stop().build(), {}));
    expect(() => readPytorchCheckpoint(notSd)).toThrow(/state dict entry epoch is number, not a tensor/);
  });

  it('refuses a pickle naming os.system, before anything could run', () => {
    const pkl = new PickleWriter().proto(2).global('os', 'system').str('touch /tmp/pwned').tuple1().reduce().stop().build();
    const file = write('evil.bin', torchZip(pkl, {}));
    expectCheckpointError(() => readPytorchCheckpoint(file), file, /refusing to load global os\.system/);
    const pkl2 = new PickleWriter().proto(4).stackGlobal('builtins', 'eval').str('1+1').tuple1().reduce().stop().build();
    const file2 = write('evil2.bin', torchZip(pkl2, {}));
    expectCheckpointError(() => readPytorchCheckpoint(file2), file2, /refusing to load global builtins\.eval/);
    // A near miss on an allowed module is refused as well.
    const pkl3 = new PickleWriter().proto(2).global('torch._utils', '_rebuild_from_type').emptyTuple().reduce().stop().build();
    const file3 = write('evil3.bin', torchZip(pkl3, {}));
    expectCheckpointError(() => readPytorchCheckpoint(file3), file3, /refusing to load global torch\._utils\._rebuild_from_type/);
  });

  it('rejects a tensor that reaches past its storage and a storage shorter than declared', () => {
    const t: CraftTensor = { name: 'w', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 4, offset: 2, size: [4], stride: [1] };
    const file = write('overrun.bin', torchZip(stateDictPickle([t]), { '0': f32Bytes([1, 2, 3, 4]) }));
    expectCheckpointError(() => readPytorchCheckpoint(file), file, /tensor w: offset 2, size \[4\].*storage 0 \(4 elements\)/);
    const t2 = { ...t, offset: 0, storageNumel: 8, size: [8] };
    const file2 = write('short-storage.bin', torchZip(stateDictPickle([t2]), { '0': f32Bytes([1, 2, 3, 4]) }));
    expectCheckpointError(() => readPytorchCheckpoint(file2), file2, /storage 0: zip entry archive\/data\/0 declares 16 bytes, 8 F32 elements need 32/);
    const file3 = write('missing-storage.bin', torchZip(stateDictPickle([t2]), {}));
    expectCheckpointError(() => readPytorchCheckpoint(file3), file3, /zip entry archive\/data\/0 is missing/);
  });

  it('checks a zip entry\'s declared size against the storage the pickle claims before reading (inflating) it', () => {
    // the pickle claims 4 floats; the entry declares (and holds) 64 KiB: refused from the declaration alone
    const t: CraftTensor = { name: 'w', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 4, offset: 0, size: [4], stride: [1] };
    const file = write('oversized-entry.bin', torchZip(stateDictPickle([t]), { '0': new Uint8Array(65536) }));
    expectCheckpointError(() => readPytorchCheckpoint(file), file, /storage 0: zip entry archive\/data\/0 declares 65536 bytes, 4 F32 elements need 16/);
  });

  it('rejects a truncated or garbled pickle', () => {
    const good = stateDictPickle([{ name: 'w', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 1, offset: 0, size: [1], stride: [1] }]);
    const file = write('trunc-pkl.bin', torchZip(good.subarray(0, good.length - 20), { '0': f32Bytes([1]) }));
    expectCheckpointError(() => readPytorchCheckpoint(file), file, /pickle: /);
    const file2 = write('bad-op.bin', torchZip(Uint8Array.from([0x80, 0x02, 0xff, 0x2e]), {}));
    expectCheckpointError(() => readPytorchCheckpoint(file2), file2, /pickle: unsupported opcode 0xff/);
  });
});

describe('readPytorchCheckpoint on broken archives', () => {
  const real = readFileSync(join(ORACLE, 'bert-tiny', 'pytorch_model.bin'));

  it('a truncated file', () => {
    for (const cut of [real.length - 10, Math.floor(real.length / 2), 100, 3]) {
      const file = write(`cut-${cut}.bin`, real.subarray(0, cut));
      expectCheckpointError(() => readPytorchCheckpoint(file), file, /truncated|corrupt zip|not a PyTorch/);
    }
  });

  it('a central directory that points at itself, claims too many entries, or lies about offsets: errors, no hang', () => {
    const pkl = stateDictPickle([{ name: 'w', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 1, offset: 0, size: [1], stride: [1] }]);
    const base = makeZip([
      { name: 'archive/data.pkl', data: pkl },
      { name: 'archive/data/0', data: f32Bytes([1]) },
    ]);
    const ok = write('ok.bin', base.bytes);
    expect(Array.from(readPytorchCheckpoint(ok).get('w')!.data as Float32Array)).toEqual([1]);

    const mutate = (name: string, edit: (b: Buffer) => void): string => {
      const b = Buffer.from(base.bytes);
      edit(b);
      return write(name, b);
    };
    const started = Date.now();
    // Entry count 65535 with a directory of two records.
    const many = mutate('many.bin', (b) => {
      b.writeUInt16LE(0xfffe, base.eocdOffset + 8);
      b.writeUInt16LE(0xfffe, base.eocdOffset + 10);
    });
    expectCheckpointError(() => readPytorchCheckpoint(many), many, /claims 65534 entries/);
    // Directory offset past the end record.
    const far = mutate('far.bin', (b) => b.writeUInt32LE(0xfffffff0, base.eocdOffset + 16));
    expectCheckpointError(() => readPytorchCheckpoint(far), far, /central directory .* runs past/);
    // The first record's name length points the parser at the next record's bytes and beyond.
    const loop = mutate('loop.bin', (b) => b.writeUInt16LE(0xffff, base.cdOffset + 28));
    expectCheckpointError(() => readPytorchCheckpoint(loop), loop, /runs past the directory/);
    // A local header offset that points back into the central directory.
    const back = mutate('back.bin', (b) => b.writeUInt32LE(base.cdOffset, base.cdOffset + 42));
    expectCheckpointError(() => readPytorchCheckpoint(back), back, /no local header/);
    // Damaged data (bit flip) caught by the CRC.
    const flip = mutate('flip.bin', (b) => {
      b[base.cdOffset - 2]! ^= 0x40;
    });
    expectCheckpointError(() => readPytorchCheckpoint(flip), flip, /entry archive\/data\/0: CRC-32 mismatch/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a zip without data.pkl, and non-zip input', () => {
    const file = write('nopkl.bin', makeZip([{ name: 'archive/version', data: Buffer.from('3\n') }]).bytes);
    expectCheckpointError(() => readPytorchCheckpoint(file), file, /no <archive>\/data\.pkl/);
    const legacy = write('legacy.bin', Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0]));
    expectCheckpointError(() => readPytorchCheckpoint(legacy), legacy, /legacy \(pre-1\.6/);
    const text = write('text.bin', Buffer.from('hello, this is not a checkpoint at all'));
    expectCheckpointError(() => readPytorchCheckpoint(text), text, /not a PyTorch zip checkpoint/);
  });
});
