// Passage index throughput and the HNSW recall / latency trade-off: @fidkd/faiss-index (faiss-node over libfaiss
// 1.7.3) beside Python faiss (Debian python3-faiss, the same libfaiss version) on the same clustered vectors.
// Sizes: FIDKD_BENCH_INDEX_N (default 100000 vectors), FIDKD_BENCH_INDEX_DIM (768), FIDKD_BENCH_INDEX_NQ (200 queries).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassageIndex, clusteredVectors, type SearchHit } from '@fidkd/faiss-index';
import type { BenchRow, Suite, SuiteContext } from '../suite.js';
import { errorRow } from '../suite.js';

const EFS = [16, 32, 64, 128, 256, 512];
const K = 10;

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : fallback;
}

/** An interpreter that imports faiss and numpy (the Debian one when a pyenv shim shadows it), or null. */
function findFaissPython(): { python: string; version: string } | null {
  for (const py of [...(process.env['FIDKD_PYTHON'] ? [process.env['FIDKD_PYTHON']] : []), 'python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import faiss, numpy; print(faiss.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py, version: r.stdout.trim() };
  }
  return null;
}

function recall(results: SearchHit[][], truth: SearchHit[][]): number {
  let hits = 0;
  results.forEach((r, q) => {
    const want = new Set(truth[q]!.map((h) => h.id));
    for (const h of r) if (want.has(h.id)) hits++;
  });
  return hits / (results.length * K);
}

type PyOut = Record<string, number | string>;

function row(name: string, value: number, unit: string, kind: 'throughput' | 'time' | null, py: PyOut | null, pyKey: string, ref: string | null, notes: string): BenchRow {
  const refValue = py && typeof py[pyKey] === 'number' ? (py[pyKey] as number) : null;
  return {
    name,
    backend: 'faiss-node',
    value,
    unit,
    reference: refValue !== null ? ref : null,
    reference_value: refValue,
    ratio: refValue !== null && refValue !== 0 ? value / refValue : null,
    ...(kind && refValue !== null ? { ratio_kind: kind } : {}),
    notes,
  };
}

export async function runIndexBench(ctx: SuiteContext): Promise<BenchRow[]> {
  const n = envInt('FIDKD_BENCH_INDEX_N', 100_000);
  const d = envInt('FIDKD_BENCH_INDEX_DIM', 768);
  const nq = envInt('FIDKD_BENCH_INDEX_NQ', 200);
  const sizes = `${n} x ${d}, 1000 centres, ${nq} queries, k=${K}`;
  ctx.log(`index: generating ${sizes}`);
  const xb = clusteredVectors({ count: n, dimension: d, clusters: 1000, seed: 1 });
  const xq = clusteredVectors({ count: nq, dimension: d, clusters: 1000, seed: 2 });
  const ids = Array.from({ length: n }, (_, i) => String(i));
  const rows: BenchRow[] = [];

  // Python faiss on the same vectors, first (so the two runs do not share the CPU).
  let py: PyOut | null = null;
  let pyRef: string | null = null;
  const found = findFaissPython();
  if (!found) {
    rows.push({ ...errorRow('python-faiss', 'python', new Error('no python3 with faiss found: apt-get install -y python3-faiss (or set FIDKD_PYTHON)')) });
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'fidkd-index-bench-'));
    try {
      writeFileSync(join(dir, 'xb.f32'), Buffer.from(xb.buffer, xb.byteOffset, xb.byteLength));
      writeFileSync(join(dir, 'xq.f32'), Buffer.from(xq.buffer, xq.byteOffset, xq.byteLength));
      ctx.log(`index: python faiss ${found.version}`);
      const script = fileURLToPath(new URL('../../python/faiss_bench.py', import.meta.url));
      const r = spawnSync(found.python, [script, '--xb', join(dir, 'xb.f32'), '--xq', join(dir, 'xq.f32'), '--dim', String(d), '--ef', EFS.join(','), '--ip-via-l2'], {
        encoding: 'utf8',
        maxBuffer: 16 << 20,
      });
      if (r.status !== 0) throw new Error(`faiss_bench.py failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      const lines = r.stdout.trim().split('\n');
      py = JSON.parse(lines[lines.length - 1]!) as PyOut;
      pyRef = `python-faiss-${found.version} (${String(py['threads'])} threads)`;
    } catch (err) {
      rows.push(errorRow('python-faiss', 'python', err));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  ctx.log('index: Flat');
  let t = performance.now();
  const flat = PassageIndex.create({ dimension: d, factory: 'Flat', metric: 'ip' });
  flat.add(ids, xb);
  rows.push(row(`flat_add_${n}x${d}`, n / ((performance.now() - t) / 1000), 'vectors/s', 'throughput', py, 'flat_add_per_s', pyRef, sizes));
  t = performance.now();
  const truth = flat.search(xq, K);
  rows.push(row(`flat_search_${n}x${d}`, (performance.now() - t) / nq, 'ms/query', 'time', py, 'flat_search_ms', pyRef, `${sizes}; batch of ${nq}`));

  for (const variant of [
    { key: 'hnsw', label: 'hnsw32', ipViaL2: false },
    { key: 'hnsw_l2aug', label: 'hnsw32_ip_via_l2', ipViaL2: true },
  ]) {
    ctx.log(`index: ${variant.label} (efConstruction 40)`);
    t = performance.now();
    const hnsw = PassageIndex.create({ dimension: d, factory: 'HNSW32', metric: 'ip', ipViaL2: variant.ipViaL2 });
    hnsw.add(ids, xb);
    rows.push(row(`${variant.label}_add_${n}x${d}`, n / ((performance.now() - t) / 1000), 'vectors/s', 'throughput', py, `${variant.key}_add_per_s`, pyRef, sizes));
    for (const ef of EFS) {
      hnsw.setSearchParameters({ efSearch: ef });
      t = performance.now();
      const res = hnsw.search(xq, K);
      const ms = (performance.now() - t) / nq;
      rows.push(row(`${variant.label}_ef${ef}_search`, ms, 'ms/query', 'time', py, `${variant.key}_ef${ef}_ms`, pyRef, `${sizes}; batch of ${nq}`));
      rows.push(row(`${variant.label}_ef${ef}_recall@${K}`, recall(res, truth), 'recall vs Flat', null, py, `${variant.key}_ef${ef}_recall`, pyRef, sizes));
    }
  }
  return rows;
}

/** The `index` perf suite (add / search throughput, recall over efSearch, DPR's L2-augmented HNSW). */
export const indexSuite: Suite = {
  name: 'index',
  description: 'PassageIndex Flat / HNSW32 add and search throughput and recall@10 over efSearch, beside Python faiss',
  defaultBackends: ['faiss-node'],
  run: runIndexBench,
};
