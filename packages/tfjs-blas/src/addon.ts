// Loading the native addon (built from native/*.c with node-gyp by `npx fidkd-build-tfjs-blas`) and its typed surface.
import { createRequire } from 'node:module';

/** The functions exported by build/Release/fidkd_blas.node (see native/addon.c). */
export interface BlasAddon {
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, aOffsets: Float64Array, bOffsets: Float64Array,
    m: number, n: number, k: number, transA: number, transB: number): void;
  biasAct(c: Float32Array, rows: number, cols: number, bias: Float32Array | null, act: number, alpha: number,
    prelu: Float32Array | null): void;
  unary(op: number, x: Float32Array, y: Float32Array, alpha: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, shape: Float64Array,
    aStrides: Float64Array, bStrides: Float64Array): void;
  softmax(x: Float32Array, y: Float32Array, rows: number, cols: number): void;
  reduce(op: number, x: Float32Array, out: Float32Array, outer: number, r: number, inner: number): void;
  transpose(x: Float32Array, out: Float32Array, inShape: Float64Array, perm: Int32Array): void;
  gather(x: Float32Array, indices: Int32Array, out: Float32Array, outer: number, dim: number, slice: number): number;
  segmentSum(x: Float32Array, ids: Int32Array, out: Float32Array, slice: number, numSegments: number): void;
  /** packed = 1: q is one [n, l, 3·h·dkv] projection holding q, k, v (k, v null). */
  attention(q: Float32Array, k: Float32Array | null, v: Float32Array | null, pos: Float32Array | null, mask: Int32Array | null,
    out: Float32Array, probs: Float32Array, n: number, h: number, lq: number, lk: number, dkv: number, causal: number, packed: number): void;
  /** packed = 1: q and dq are packed [n, l, 3·h·dkv] (k, v, dk, dv null). */
  attentionGrad(dy: Float32Array, q: Float32Array, k: Float32Array | null, v: Float32Array | null, probs: Float32Array,
    dq: Float32Array, dk: Float32Array | null, dv: Float32Array | null, dpos: Float32Array | null, n: number, h: number, lq: number, lk: number, dkv: number, packed: number): void;
  rmsNorm(x: Float32Array, w: Float32Array, y: Float32Array, rinv: Float32Array, eps: number): void;
  rmsNormGrad(dy: Float32Array, x: Float32Array, w: Float32Array, rinv: Float32Array, dx: Float32Array, dw: Float32Array): void;
  layerNorm(x: Float32Array, g: Float32Array, b: Float32Array, y: Float32Array, mean: Float32Array, rstd: Float32Array, eps: number): void;
  layerNormGrad(dy: Float32Array, x: Float32Array, g: Float32Array, mean: Float32Array, rstd: Float32Array, dx: Float32Array, dg: Float32Array, db: Float32Array): void;
  gelu(x: Float32Array, y: Float32Array): void;
  geluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /** Updates m and v in place and writes the new parameter into pOut. */
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, pOut: Float32Array, decay: number, beta1: number,
    oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, eps: number, stepSize: number, bc2Sqrt: number, gradScale: number): void;
  sumSquares(x: Float32Array): number;
  benchSgemm(m: number, n: number, k: number, reps: number): Float64Array;
  info(): { blasThreads: number; poolThreads: number; config: string; corename: string };
  setThreads(n: number): void;
}

/** Thrown when the native addon is not built or cannot be loaded. */
export class BlasUnavailableError extends Error {
  override name = 'BlasUnavailableError';
}

const ADDON_PATH = '../build/Release/fidkd_blas.node';
let cached: BlasAddon | undefined;
let loadError: Error | undefined;

/** Loads the addon once; throws BlasUnavailableError with the fix when it is missing. */
export function loadAddon(): BlasAddon {
  if (cached) return cached;
  if (loadError) throw loadError;
  try {
    // Relative to this file: works from src/ (tests) and dist/ (built package) alike.
    const require = createRequire(import.meta.url);
    cached = require(ADDON_PATH) as BlasAddon;
    return cached;
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    loadError = new BlasUnavailableError(
      `@fidkd/tfjs-blas: native addon ${new URL(ADDON_PATH, import.meta.url).pathname} is not available (${detail}). ` +
        'Build it with `npx fidkd-build-tfjs-blas` (needs OpenBLAS, on Debian/Ubuntu `apt-get install libopenblas-dev`, ' +
        'and a C compiler).',
    );
    throw loadError;
  }
}

/** True when the native addon loads on this machine. */
export function isBlasAvailable(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}

/** What the addon runs on. */
export interface BlasInfo {
  /** OpenBLAS threads used by sgemm. */
  blasThreads: number;
  /** Threads of the addon's own pool for element-wise ops, reductions and layout kernels. */
  poolThreads: number;
  /** BLAS library and its build configuration, e.g. "OpenBLAS 0.3.21 ... Cooperlake". */
  library: string;
  /** CPU kernel family OpenBLAS selected. */
  corename: string;
}

/** Library and thread counts of the loaded addon (loads it; throws BlasUnavailableError when missing). */
export function blasInfo(): BlasInfo {
  const i = loadAddon().info();
  return { blasThreads: i.blasThreads, poolThreads: i.poolThreads, library: i.config, corename: i.corename };
}

/**
 * Times OpenBLAS sgemm (row-major, no transposes) on m×k by k×n random matrices directly in C, without tfjs:
 * the reference the benchmarks compare the tfjs path with. Returns seconds per call for each repetition.
 */
export function benchSgemm(m: number, n: number, k: number, reps: number): number[] {
  return Array.from(loadAddon().benchSgemm(m, n, k, reps));
}
