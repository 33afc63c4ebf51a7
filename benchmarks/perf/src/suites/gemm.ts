// gemm_512x768x3072: tf.matMul through the tfjs API (the read included: the time until the caller holds the
// numbers; on the cpu backend it is free, on wasm a copy, on webgpu the read-back) versus OpenBLAS sgemm called directly from C in the
// same process, the two interleaved repetition by repetition so that machine noise hits both alike.
import * as tf from '@tensorflow/tfjs';
import { isSlowBackend, loadBlas, useBackend } from '../backends.js';
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

/**
 * GFLOP/s of one OpenBLAS sgemm 512x768 @ 768x3072 called from C (the reference rate other suites compare
 * their FLOP rates with); null when the @fidkd/tfjs-blas addon is not built.
 */
export async function sgemmGflops(): Promise<number | null> {
  if (!(await referenceAvailable())) return null;
  return FLOP / (await loadBlas()).benchSgemm(M, N, K, 1)[0]! / 1e9;
}

/** Label of the sgemm reference in rows. */
export const SGEMM_REFERENCE = `openblas-sgemm ${M}x${K}x${N} (C, same process)`;

export const gemmSuite: Suite = {
  name: 'gemm',
  description: `${M}x${K} @ ${K}x${N} float32 matMul, GFLOP/s, vs OpenBLAS sgemm in the same run`,
  defaultBackends: ['blas', 'cpu', 'wasm', 'webgpu'],
  async run(ctx) {
    const rows: BenchRow[] = [];
    const haveRef = await referenceAvailable();
    for (const backend of ctx.backends) {
      try {
        await useBackend(backend);
        // The stock kernels need seconds per product: fewer repetitions, same interleaving.
        const slow = isSlowBackend(backend);
        const reps = slow ? Math.min(2, ctx.reps) : ctx.reps;
        const a = tf.randomNormal([M, K]);
        const b = tf.randomNormal([K, N]);
        const once = async (): Promise<number> => {
          const t0 = performance.now();
          const c = tf.matMul(a, b);
          await c.data(); // a copy on cpu; on webgpu the read-back, which ends the GPU's work
          const s = (performance.now() - t0) / 1000;
          c.dispose();
          return s;
        };
        if (!slow || backend === 'webgpu') await once(); // warm-up (on webgpu: compiles the shader)
        const tfjs: number[] = [];
        const ref: number[] = [];
        for (let i = 0; i < reps; i++) {
          tfjs.push(await once());
          const g = await sgemmGflops();
          if (g !== null) ref.push(g);
        }
        tf.dispose([a, b]);
        const value = FLOP / median(tfjs) / 1e9;
        const refValue = haveRef ? median(ref) : null;
        ctx.log(`${NAME} ${backend}: ${value.toFixed(2)} GFLOP/s${refValue ? ` (OpenBLAS ${refValue.toFixed(1)})` : ''}`);
        rows.push({
          name: NAME, backend, value, unit: 'GFLOP/s',
          reference: haveRef ? SGEMM_REFERENCE : null,
          reference_value: refValue,
          ratio: refValue ? value / refValue : null,
          ratio_kind: 'throughput',
          notes: `median of ${reps} interleaved reps; tf.matMul + data()` + (haveRef ? '' : '; reference needs the @fidkd/tfjs-blas addon'),
        });
      } catch (err) {
        rows.push(errorRow(NAME, backend, err));
      }
    }
    return rows;
  },
};
