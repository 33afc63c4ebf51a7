// index-sizing: what an NQ-size passage index costs, from measurements at a size this machine holds. Builds Flat,
// PQ64 and IVF<nlist>,PQ64 (inner product) on clustered vectors (DESIGN.md §4: uniform random vectors are no test
// of an approximate index), saves each at half and at full size to get the bytes per vector and the fixed part,
// and measures recall@10 / recall@100 of the compressed indexes against Flat's exact top-k. Memory: a fresh process
// loads a saved index and searches it (VmRSS after GC: steady; VmHWM: the load's peak). At the sizes a PQ index can
// be trained on here its 64 B codes are below RSS's resolution, so memory is measured where it resolves — a 768-d
// Flat index of FIDKD_BENCH_SIZING_FLAT_N vectors, and PassageIndex's ids on a d-8 Flat index of
// FIDKD_BENCH_SIZING_IDS ids — and a compressed index's resident size is its index.faiss bytes (the arrays faiss
// holds) plus those ids. The `nq_*` rows extrapolate linearly to DPR's 21,015,324 passages (IVF's fixed part
// scaled from nlist centroids to 65,536).
// Sizes: FIDKD_BENCH_SIZING_N (default 100000), FIDKD_BENCH_SIZING_NLIST (1024), FIDKD_BENCH_SIZING_NQ (200),
// FIDKD_BENCH_SIZING_FLAT_N (50000), FIDKD_BENCH_SIZING_IDS (200000); d 768.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassageIndex, clusteredVectors, type SearchHit } from '@fidkd/faiss-index';
import type { BenchRow, Suite, SuiteContext } from '../suite.js';

export const NQ_PASSAGES = 21_015_324;
const DIM = 768;

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : fallback;
}

const dirBytes = (dir: string): number => readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);

/** Fraction of the exact top-k ids found in an index's top-k, over all queries. */
function recallAt(results: SearchHit[][], truth: SearchHit[][], k: number): number {
  let hits = 0;
  results.forEach((r, q) => {
    const want = new Set(truth[q]!.slice(0, k).map((h) => h.id));
    for (const h of r.slice(0, k)) if (want.has(h.id)) hits++;
  });
  return hits / (results.length * k);
}

interface SearchRss {
  /** VmHWM: the load's transient copy of the file included */
  peak: number;
  /** VmRSS after a forced GC: the steady cost of holding and searching the index */
  steady: number;
}

/** Peak and steady resident memory (MB) of a fresh process that loads a saved index (or none) and searches it once. */
function searchRssMb(dir: string | null, nq: number): SearchRss {
  const script = fileURLToPath(new URL('../index-rss-probe.js', import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', script, ...(dir ? [dir] : []), '--nq', String(nq)], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`index-rss-probe failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const lines = r.stdout.trim().split('\n');
  const out = JSON.parse(lines[lines.length - 1]!) as { peak_rss_mb: number | null; rss_mb: number | null };
  if (out.peak_rss_mb === null || out.rss_mb === null) throw new Error('index-rss-probe: /proc/self/status has no VmHWM/VmRSS here');
  return { peak: out.peak_rss_mb, steady: out.rss_mb };
}

interface PerVectorMemory {
  /** VmRSS after GC, bytes per vector */
  steady: number;
  /** VmHWM, bytes per vector */
  peak: number;
  note: string;
}

/** Resident bytes per vector of saved Flat indexes of `dim` at n/2 and n vectors, loaded and searched in fresh processes. */
function flatSlope(tmp: string, label: string, dim: number, n: number, nq: number, idOf: (i: number) => string): { a: SearchRss; b: SearchRss; half: number } {
  const half = Math.floor(n / 2);
  const dirs = [half, n].map((count) => {
    const index = PassageIndex.create({ dimension: dim, factory: 'Flat', metric: 'ip' });
    index.add(Array.from({ length: count }, (_, i) => idOf(i)), clusteredVectors({ count, dimension: dim, clusters: 100, seed: 3 }));
    const d = join(tmp, `${label}-${count}`);
    index.save(d);
    return d;
  });
  const [a, b] = dirs.map((d) => searchRssMb(d, nq)) as [SearchRss, SearchRss];
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  return { a, b, half };
}

/**
 * What PassageIndex's ids cost in memory per passage: Flat indexes of dimension 8 with DPR-like ids (decimal
 * numbers up to 21M) at n/2 and n, less their 32 B of vector. At the sizes a compressed index can be trained on
 * here its codes (~64 B) are below the resolution of RSS; its ids are not.
 */
function idsMemory(tmp: string, n: number, nq: number): PerVectorMemory {
  const { a, b, half } = flatSlope(tmp, 'ids', 8, n, nq, (i) => String(20_000_000 + i));
  const per = (k: keyof SearchRss): number => ((b[k] - a[k]) * 2 ** 20) / (n - half) - 8 * 4;
  return { steady: per('steady'), peak: per('peak'), note: `PassageIndex ids: Flat d 8 with ${half} and ${n} ids, loaded and searched in a fresh process: VmRSS after GC ${a.steady.toFixed(0)} / ${b.steady.toFixed(0)} MB, VmHWM ${a.peak.toFixed(0)} / ${b.peak.toFixed(0)} MB, less the 32 B vectors` };
}

/** Resident bytes per vector of a 768-d Flat index, measured at a size where RSS resolves it (no training needed). */
function flatMemory(tmp: string, n: number, nq: number): PerVectorMemory {
  const { a, b, half } = flatSlope(tmp, 'flat-mem', DIM, n, nq, (i) => String(i + 1));
  const per = (k: keyof SearchRss): number => ((b[k] - a[k]) * 2 ** 20) / (n - half);
  return { steady: per('steady'), peak: per('peak'), note: `Flat d ${DIM} with ${half} and ${n} vectors, loaded and searched in a fresh process: VmRSS after GC ${a.steady.toFixed(0)} / ${b.steady.toFixed(0)} MB (steady), VmHWM ${a.peak.toFixed(0)} / ${b.peak.toFixed(0)} MB (peak: the load's copies of the file included)` };
}

const row = (name: string, value: number, unit: string, notes: string): BenchRow => ({
  name, backend: 'faiss-node', value, unit, reference: null, reference_value: null, ratio: null, notes,
});

export async function runIndexSizing(ctx: SuiteContext): Promise<BenchRow[]> {
  const n = envInt('FIDKD_BENCH_SIZING_N', 100_000);
  const nlist = envInt('FIDKD_BENCH_SIZING_NLIST', 1024);
  const nq = envInt('FIDKD_BENCH_SIZING_NQ', 200);
  const half = Math.floor(n / 2);
  const sizes = `${n} x ${DIM} clustered (1000 centres), ${nq} queries`;
  ctx.log(`index-sizing: generating ${sizes}`);
  const xb = clusteredVectors({ count: n, dimension: DIM, clusters: 1000, seed: 1 });
  const xq = clusteredVectors({ count: nq, dimension: DIM, clusters: 1000, seed: 2 });
  const passageIds = Array.from({ length: n }, (_, i) => String(i + 1));
  const tmp = mkdtempSync(join(tmpdir(), 'fidkd-index-sizing-'));
  const rows: BenchRow[] = [];
  try {
    const baseRss = searchRssMb(null, nq);
    const ids = idsMemory(tmp, envInt('FIDKD_BENCH_SIZING_IDS', 200_000), nq);
    rows.push(row('ids_search_rss_bytes_per_vector', ids.steady, 'bytes/vector', ids.note));
    rows.push(row('ids_load_peak_bytes_per_vector', ids.peak, 'bytes/vector', ids.note));
    const flatMem = flatMemory(tmp, envInt('FIDKD_BENCH_SIZING_FLAT_N', 50_000), nq);
    rows.push(row('flat_search_rss_bytes_per_vector', flatMem.steady, 'bytes/vector', flatMem.note));
    rows.push(row('flat_load_peak_bytes_per_vector', flatMem.peak, 'bytes/vector', flatMem.note));
    rows.push(row('nq_flat_load_peak_ram_gb', (flatMem.peak * NQ_PASSAGES + baseRss.peak * 2 ** 20) / 1e9, 'GB', `peak while PassageIndex.load reads a Flat index of ${NQ_PASSAGES} passages: ${flatMem.peak.toFixed(0)} B/vector measured above + the process (${baseRss.peak.toFixed(0)} MB)`));
    let truth: SearchHit[][] | undefined;
    for (const spec of [
      { label: 'flat', factory: 'Flat' },
      { label: 'pq64', factory: 'PQ64' },
      { label: `ivf${nlist}_pq64`, factory: `IVF${nlist},PQ64` },
    ]) {
      ctx.log(`index-sizing: ${spec.factory}`);
      const index = PassageIndex.create({ dimension: DIM, factory: spec.factory, metric: 'ip' });
      if (!index.isTrained) {
        const t = performance.now();
        index.train(xb);
        ctx.log(`index-sizing: ${spec.factory} trained on ${n} vectors in ${((performance.now() - t) / 1000).toFixed(0)} s`);
      }
      // half, saved; the rest, saved: two sizes give bytes and memory per vector and the fixed part
      index.add(passageIds.slice(0, half), xb.subarray(0, half * DIM));
      const dHalf = join(tmp, `${spec.label}-half`);
      index.save(dHalf);
      index.add(passageIds.slice(half), xb.subarray(half * DIM));
      const dFull = join(tmp, `${spec.label}-full`);
      index.save(dFull);
      const [bHalf, bFull] = [dirBytes(dHalf), dirBytes(dFull)];
      const perVector = (bFull - bHalf) / (n - half);
      const fixed = bFull - perVector * n;
      const faissPerVector = (statSync(join(dFull, 'index.faiss')).size - statSync(join(dHalf, 'index.faiss')).size) / (n - half);
      rows.push(row(`${spec.label}_bytes_per_vector`, perVector, 'bytes/vector', `${sizes}; index.faiss + ids.jsonl on disk, ${bHalf} B at ${half}, ${bFull} B at ${n} (index.faiss alone ${faissPerVector.toFixed(1)} B/vector)`));
      // IVF's fixed part is mostly its nlist centroids (d floats each): scaled to NQ's 65536 lists
      const ivf = spec.label.startsWith('ivf');
      const centroidBytes = ivf ? (65536 - nlist) * DIM * 4 : 0;
      const nqLabel = ivf ? 'ivf65536_pq64' : spec.label;
      const nqFixed = fixed + centroidBytes;
      rows.push(row(`nq_${nqLabel}_index_gb`, (nqFixed + perVector * NQ_PASSAGES) / 1e9, 'GB', `${NQ_PASSAGES} passages x ${DIM}: fixed ${(nqFixed / 1e6).toFixed(1)} MB + ${perVector.toFixed(1)} B/vector (measured above)`));
      // faiss holds in memory the arrays index.faiss serialises (codes, list ids, centroids); PassageIndex adds its
      // ids, measured below at a size where RSS resolves them
      const ram = nqFixed + (faissPerVector + ids.steady) * NQ_PASSAGES + baseRss.steady * 2 ** 20;
      rows.push(row(`nq_${nqLabel}_search_ram_gb`, ram / 1e9, 'GB', `resident to hold and search it: index.faiss ${faissPerVector.toFixed(1)} B/vector + PassageIndex ids ${ids.steady.toFixed(0)} B/vector (ids_ rows) + fixed ${(nqFixed / 1e6).toFixed(1)} MB + the process (${baseRss.steady.toFixed(0)} MB)`));
      if (spec.factory === 'Flat') {
        truth = index.search(xq, 100);
      } else {
        const settings = spec.factory.startsWith('IVF') ? [16, 64, 256].filter((p) => p <= nlist) : [0];
        for (const nprobe of settings) {
          if (nprobe) index.setSearchParameters({ nprobe });
          const res = index.search(xq, 100);
          const tag = nprobe ? `_nprobe${nprobe}` : '';
          for (const k of [10, 100]) rows.push(row(`${spec.label}${tag}_recall@${k}`, recallAt(res, truth!, k), 'recall vs Flat', `${sizes}; share of Flat's exact top-${k} in the index's top-${k}`));
        }
      }
      rmSync(dHalf, { recursive: true, force: true });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}

export const indexSizingSuite: Suite = {
  name: 'index-sizing',
  description: 'Flat / PQ64 / IVF-PQ64 on clustered 768-d vectors: bytes and search RAM per vector, recall vs Flat; extrapolated to NQ (21M passages)',
  defaultBackends: ['faiss-node'],
  run: runIndexSizing,
};
