// gemm_512x768x3072: tf.matMul through the tfjs API (dataSync included: the time until the caller holds the
// numbers; on the cpu backend it is free, on wasm a copy) versus OpenBLAS sgemm called directly from C in the
// same process, the two interleaved repetition by repetition so that machine noise hits both alike.
import * as tf from '@tensorflow/tfjs';
import { loadBlas, useBackend } from '../backends.js';
import { errorRow, type BenchRow, type Suite } from '../suite.js';
import { median } from '../timing.js';

const M = 512;
const K = 768;
const N = 3072;
const FLOP = 2 * M * K * N;
const NAME = `gemm_${M}x${K}x${N}`;

async function referenceAvailable(): Promise<boolean> {
  try {
    return (await loadBlas()).isBlasAvailable();
  } catch {
    return false;
  }
}

export const gemmSuite: Suite = {
  name: 'gemm',
  description: `${M}x${K} @ ${K}x${N} float32 matMul, GFLOP/s, vs OpenBLAS sgemm in the same run`,
  defaultBackends: ['blas', 'cpu', 'wasm'],
  async run(ctx) {
    const rows: BenchRow[] = [];
    const haveRef = await referenceAvailable();
    for (const backend of ctx.backends) {
      try {
        await useBackend(backend);
        // The stock kernels need seconds per product: fewer repetitions, same interleaving.
        const slow = backend === 'cpu' || backend === 'wasm';
        const reps = slow ? Math.min(2, ctx.reps) : ctx.reps;
        const a = tf.randomNormal([M, K]);
        const b = tf.randomNormal([K, N]);
        const once = (): number => {
          const t0 = performance.now();
          const c = tf.matMul(a, b);
          c.dataSync();
          const s = (performance.now() - t0) / 1000;
          c.dispose();
          return s;
        };
        if (!slow) once(); // warm-up
        const tfjs: number[] = [];
        const ref: number[] = [];
        for (let i = 0; i < reps; i++) {
          tfjs.push(once());
          if (haveRef) ref.push((await loadBlas()).benchSgemm(M, N, K, 1)[0]!);
        }
        tf.dispose([a, b]);
        const value = FLOP / median(tfjs) / 1e9;
        const refValue = haveRef ? FLOP / median(ref) / 1e9 : null;
        ctx.log(`${NAME} ${backend}: ${value.toFixed(2)} GFLOP/s${refValue ? ` (OpenBLAS ${refValue.toFixed(1)})` : ''}`);
        rows.push({
          name: NAME, backend, value, unit: 'GFLOP/s',
          reference: haveRef ? 'openblas-sgemm (C, same process)' : null,
          reference_value: refValue,
          ratio: refValue ? value / refValue : null,
          ratio_kind: 'throughput',
          notes: `median of ${reps} interleaved reps; tf.matMul + dataSync` + (haveRef ? '' : '; reference needs the @fidkd/tfjs-blas addon'),
        });
      } catch (err) {
        rows.push(errorRow(NAME, backend, err));
      }
    }
    return rows;
  },
};
