import { createRequire } from 'node:module';
import { bufferSource } from './byte-source.js';
import { PassageIndexError } from './errors.js';
import { parseFaissIndex, writeKnob } from './faiss-format.js';
import { indexFromBuffer } from './faiss-io.js';

const require = createRequire(import.meta.url);
const { Index } = require('faiss-node') as typeof import('faiss-node');

function knob(buffer: Buffer, kind: string) {
  return parseFaissIndex(bufferSource(buffer)).knobs.filter((k) => k.kind === kind);
}

test('locates HNSW efConstruction / efSearch at faiss defaults 40 / 16 and the common header', () => {
  const buffer = Index.fromFactory(24, 'HNSW32', 0).toBuffer();
  const layout = parseFaissIndex(bufferSource(buffer));
  expect(layout.complete).toBe(true);
  expect(layout.root.fourcc).toBe('IHNf');
  expect(layout.root.d).toBe(24);
  expect(layout.root.metricType).toBe(0);
  expect(layout.root.children[0]!.fourcc).toBe('IxFI');
  expect(layout.knobs.map((k) => [k.kind, k.value, k.bytes])).toEqual([
    ['efConstruction', 40, 4],
    ['efSearch', 16, 4],
  ]);
  // efSearch follows efConstruction directly (write_HNSW: …, efConstruction, efSearch, upper_beam).
  expect(layout.knobs[1]!.offset - layout.knobs[0]!.offset).toBe(4);
});

test('a patched efSearch / efConstruction is what faiss reads: it survives a faiss read + write round trip', () => {
  const buffer = Index.fromFactory(16, 'HNSW16', 1).toBuffer();
  const layout = parseFaissIndex(bufferSource(buffer));
  for (const k of layout.knobs) writeKnob(buffer, k, k.kind === 'efSearch' ? 77 : 55);
  const index = indexFromBuffer(buffer, 'test', layout);
  // faiss re-serializes from its in-memory HNSW struct, so these values are the fields faiss itself holds.
  const again = index.toBuffer();
  expect(knob(again, 'efSearch')[0]!.value).toBe(77);
  expect(knob(again, 'efConstruction')[0]!.value).toBe(55);
});

test('locates IVF nprobe (size_t) and nlist, walks a trained IVF-PQ with vectors to its end', () => {
  // 'np': no polysemous training (a fixed simulated annealing faiss runs for PQ by default, ~25 s CPU per PQ here).
  const index = Index.fromFactory(16, 'IVF8,PQ4np', 1);
  const empty = parseFaissIndex(bufferSource(index.toBuffer()));
  expect(empty.root.fourcc).toBe('IwPQ');
  expect(empty.root.nlist).toBe(8);
  expect(empty.minTrainingPoints).toBe(256); // PQ4 x 8 bits: 256 centroids per sub-quantizer
  expect(empty.knobs.map((k) => [k.kind, k.value, k.bytes])).toEqual([['nprobe', 1, 8]]);
  const rows = Array.from({ length: 600 * 16 }, (_, i) => Math.sin(i * 0.37) + (i % 7) * 0.1);
  index.train(rows);
  index.add(rows.slice(0, 100 * 16));
  const buffer = index.toBuffer();
  const full = parseFaissIndex(bufferSource(buffer));
  expect(full.complete).toBe(true);
  expect(full.root.end).toBe(buffer.length);
  expect(full.root.ntotal).toBe(100);
  writeKnob(buffer, full.knobs[0]!, 5);
  expect(knob(indexFromBuffer(buffer, 'test', full).toBuffer(), 'nprobe')[0]!.value).toBe(5);
});

test('a truncated serialization is reported with the byte position', () => {
  const buffer = Index.fromFactory(8, 'HNSW8', 1).toBuffer();
  expect(() => parseFaissIndex(bufferSource(buffer.subarray(0, 60), 'cut.faiss'))).toThrow(PassageIndexError);
  expect(() => parseFaissIndex(bufferSource(buffer.subarray(0, 60), 'cut.faiss'))).toThrow(/cut\.faiss: not a complete faiss index/);
});
