import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassageIndex, PassageIndexError, clusteredVectors, type SearchHit } from './index.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fidkd-faiss-index-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const d = 16;
const idsOf = (n: number, prefix = 'p') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function bruteForce(xb: Float32Array, ids: string[], q: Float32Array, k: number, metric: 'ip' | 'l2'): SearchHit[] {
  const scores = ids.map((id, r) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += metric === 'ip' ? q[j]! * xb[r * d + j]! : -((q[j]! - xb[r * d + j]!) ** 2);
    return { id, score: s };
  });
  return scores.sort((a, b) => b.score - a.score).slice(0, k);
}

describe('clear errors', () => {
  const xb = clusteredVectors({ count: 300, dimension: d, clusters: 20, seed: 3 });

  test('dimension mismatch, ids/vectors count mismatch, NaN, wrong type', () => {
    const index = PassageIndex.create({ dimension: d });
    expect(() => index.add(idsOf(2), new Float32Array(2 * d + 3))).toThrow(/dimension mismatch: vectors hold 35 floats, not a whole number of rows of dimension 16/);
    expect(() => index.add(idsOf(3), new Float32Array(2 * d))).toThrow(/ids and vectors disagree: 3 ids but vectors hold 2 rows/);
    const bad = xb.slice(0, 4 * d);
    bad[2 * d + 5] = Number.NaN;
    expect(() => index.add(idsOf(4), bad)).toThrow(/vectors row 2 column 5 is NaN/);
    expect(() => index.add(idsOf(1), Array.from(xb.slice(0, d)) as unknown as Float32Array)).toThrow(/must be a Float32Array/);
    expect(index.size).toBe(0); // nothing was added by a rejected call
    index.add(idsOf(10), xb.slice(0, 10 * d));
    expect(() => index.search(new Float32Array(d + 1), 3)).toThrow(/dimension mismatch: queries hold 17 floats/);
    const nanQuery = new Float32Array(d);
    nanQuery[0] = Number.POSITIVE_INFINITY;
    expect(() => index.search(nanQuery, 3)).toThrow(/queries row 0 column 0 is Infinity/);
  });

  test('duplicate ids within one add and across adds', () => {
    const index = PassageIndex.create({ dimension: d });
    expect(() => index.add(['a', 'b', 'a'], xb.slice(0, 3 * d))).toThrow(/duplicate id "a" at positions 0 and 2 of this add/);
    index.add(['a', 'b'], xb.slice(0, 2 * d));
    expect(() => index.add(['c', 'b'], xb.slice(0, 2 * d))).toThrow(/duplicate id "b" \(ids\[1\]\) is already in the index/);
    expect(index.size).toBe(2);
  });

  test('searching an empty index, an untrained index, k <= 0', () => {
    const empty = PassageIndex.create({ dimension: d, factory: 'HNSW8' });
    expect(() => empty.search(xb.slice(0, d), 5)).toThrow(/the index is empty/);
    const ivf = PassageIndex.create({ dimension: d, factory: 'IVF4,Flat' });
    expect(ivf.isTrained).toBe(false);
    expect(() => ivf.search(xb.slice(0, d), 5)).toThrow(/not trained/);
    expect(() => ivf.add(['x'], xb.slice(0, d))).toThrow(/must be trained first: call train\(vectors\) before add/);
    expect(() => ivf.train(xb.slice(0, 3 * d))).toThrow(/needs at least 4 training vectors/);
    const flat = PassageIndex.create({ dimension: d });
    flat.add(idsOf(5), xb.slice(0, 5 * d));
    expect(() => flat.search(xb.slice(0, d), 0)).toThrow(/k must be a positive integer, got 0/);
    expect(() => flat.search(xb.slice(0, d), -2)).toThrow(PassageIndexError);
    expect(flat.search(xb.slice(0, d), 50)[0]).toHaveLength(5); // k above the index size returns what there is
  });

  test('search effort that does not apply to the factory, bad values, bad factory', () => {
    expect(() => PassageIndex.create({ dimension: d, factory: 'Flat', efSearch: 64 })).toThrow(/efSearch does not apply to factory 'Flat': it has no HNSW part/);
    expect(() => PassageIndex.create({ dimension: d, factory: 'HNSW8', nprobe: 4 })).toThrow(/nprobe does not apply to factory 'HNSW8'/);
    expect(() => PassageIndex.create({ dimension: d, factory: 'IVF8,Flat', nprobe: 9 })).toThrow(/nprobe must be an integer in \[1, 8\]/);
    expect(() => PassageIndex.create({ dimension: d, factory: 'HNSW8', efSearch: 0 })).toThrow(/efSearch must be an integer/);
    expect(() => PassageIndex.create({ dimension: d, factory: 'NoSuchIndex42' })).toThrow(/faiss cannot build factory 'NoSuchIndex42'/);
    expect(() => PassageIndex.create({ dimension: 0 })).toThrow(/dimension must be a positive integer/);
    const hnsw = PassageIndex.create({ dimension: d, factory: 'HNSW8' });
    hnsw.add(idsOf(3), xb.slice(0, 3 * d));
    expect(() => hnsw.setSearchParameters({ efConstruction: 80 })).toThrow(/set it at create\(\), before add/);
  });

  test('a directory that is not an index names the directory and what is missing', () => {
    const root = tempDir();
    const missing = join(root, 'nope');
    expect(() => PassageIndex.load(missing)).toThrow(`${missing}: not a PassageIndex directory: the directory does not exist`);
    const plain = join(root, 'plain');
    mkdirSync(plain);
    writeFileSync(join(plain, 'notes.txt'), 'hello');
    expect(() => PassageIndex.load(plain)).toThrow(`${plain}: not a PassageIndex directory: manifest.json is missing`);
    // and save refuses to replace it
    const index = PassageIndex.create({ dimension: d });
    index.add(idsOf(4), xb.slice(0, 4 * d));
    expect(() => index.save(plain)).toThrow(/exists and is not a PassageIndex directory/);
    expect(readFileSync(join(plain, 'notes.txt'), 'utf8')).toBe('hello');
    const saved = join(root, 'saved');
    index.save(saved);
    rmSync(join(saved, 'index.faiss'));
    expect(() => PassageIndex.load(saved)).toThrow(`${saved}: not a complete PassageIndex directory: index.faiss is missing`);
    index.save(saved); // replaces the broken index atomically
    writeFileSync(join(saved, 'ids.jsonl'), '"p0"\n"p1"\n');
    expect(() => PassageIndex.load(saved)).toThrow(/ids.jsonl: holds 2 ids but .*manifest.json says count 4/);
  });
});

describe('metrics and the L2 augmentation', () => {
  const n = 2000;
  const xb = clusteredVectors({ count: n, dimension: d, clusters: 40, seed: 5 });
  const xq = clusteredVectors({ count: 10, dimension: d, clusters: 40, seed: 6 });
  const ids = idsOf(n);

  test("'l2' scores are negative squared distances, best first", () => {
    const index = PassageIndex.create({ dimension: d, metric: 'l2' });
    index.add(ids, xb);
    const res = index.search(xq, 5);
    for (let q = 0; q < 10; q++) {
      const exact = bruteForce(xb, ids, xq.subarray(q * d, (q + 1) * d), 5, 'l2');
      expect(res[q]!.map((h) => h.id)).toEqual(exact.map((h) => h.id));
      res[q]!.forEach((h, j) => expect(h.score).toBeCloseTo(exact[j]!.score, 2));
    }
  });

  test('ipViaL2 (Flat) returns exact inner products; vectors above φ are rejected', () => {
    const index = PassageIndex.create({ dimension: d, ipViaL2: true });
    index.add(ids, xb);
    const res = index.search(xq, 5);
    for (let q = 0; q < 10; q++) {
      const exact = bruteForce(xb, ids, xq.subarray(q * d, (q + 1) * d), 5, 'ip');
      expect(res[q]!.map((h) => h.id)).toEqual(exact.map((h) => h.id));
      res[q]!.forEach((h, j) => expect(h.score).toBeCloseTo(exact[j]!.score, 2));
    }
    const big = xb.slice(0, d).map((v) => v * 100);
    expect(() => index.add(['big'], big)).toThrow(/squared norm .* above the ipViaL2 bound φ/);
    expect(() => PassageIndex.create({ dimension: d, metric: 'l2', ipViaL2: true })).toThrow(/needs metric 'ip'/);
  });
});

describe('merging small shards', () => {
  const n = 4000;
  const xb = clusteredVectors({ count: n, dimension: d, clusters: 50, seed: 7 });
  const xq = clusteredVectors({ count: 40, dimension: d, clusters: 50, seed: 8 });
  const ids = idsOf(n);
  const shard = (i: number) => ({ ids: ids.slice(i * 1000, (i + 1) * 1000), vectors: xb.slice(i * 1000 * d, (i + 1) * 1000 * d) });

  test('HNSW shards (ipViaL2, each with its own φ) are rebuilt into one index with exact inner products', () => {
    const shards = [0, 1, 2, 3].map((i) => {
      const s = PassageIndex.create({ dimension: d, factory: 'HNSW16', ipViaL2: true, efSearch: 64 });
      s.add(shard(i).ids, shard(i).vectors);
      return s;
    });
    const merged = PassageIndex.merge(shards);
    expect(merged.size).toBe(n);
    expect(new Set(merged.ids).size).toBe(n);
    expect(merged.searchParameters.efSearch).toBe(64);
    expect(shards[0]!.size).toBe(1000); // inputs unchanged
    const res = merged.search(xq, 10);
    let hits = 0;
    for (let q = 0; q < 40; q++) {
      const exact = bruteForce(xb, ids, xq.subarray(q * d, (q + 1) * d), 10, 'ip');
      const want = new Map(exact.map((h) => [h.id, h.score]));
      for (const h of res[q]!) {
        if (want.has(h.id)) {
          hits++;
          expect(h.score).toBeCloseTo(want.get(h.id)!, 2);
        }
      }
    }
    expect(hits / 400).toBeGreaterThan(0.9);
    expect(() => PassageIndex.merge([shards[0]!, shards[0]!])).toThrow(/id "p0" is in more than one shard/);
  });

  test('IVF shards must share one training; loaded from one saved template they merge to the single index', () => {
    const template = PassageIndex.create({ dimension: d, factory: 'IVF16,Flat', nprobe: 4 });
    template.train(xb);
    const dir = join(tempDir(), 'trained-empty');
    template.save(dir);
    const single = PassageIndex.load(dir);
    single.add(ids, xb);
    const shardDirs = [0, 1, 2, 3].map((i) => {
      const s = PassageIndex.load(dir);
      s.add(shard(i).ids, shard(i).vectors);
      const out = join(dir, '..', `shard-${i}`);
      s.save(out);
      return out;
    });
    const merged = PassageIndex.mergeDirectories(shardDirs);
    expect(merged.searchParameters.nprobe).toBe(4);
    expect(merged.search(xq, 10)).toEqual(single.search(xq, 10));

    const other = PassageIndex.create({ dimension: d, factory: 'IVF16,Flat' });
    other.train(clusteredVectors({ count: 500, dimension: d, clusters: 50, seed: 99 }));
    other.add(['z'], xb.slice(0, d));
    expect(() => PassageIndex.merge([single, other])).toThrow(/trained separately \(trainedFingerprint differs\)/);
  });
});
