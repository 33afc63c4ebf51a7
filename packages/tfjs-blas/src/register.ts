// Swapping the cpu backend's stock kernels for the native ones in tfjs's global kernel registry, and back.
import * as tf from '@tensorflow/tfjs';
import { loadAddon } from './addon.js';
import type { CpuBackendLike } from './backend-data.js';
import { BINARY_OPS, UNARY_OPS, binaryKernel, softmax, unaryKernel } from './elementwise.js';
import type { BlasKernelImpl, FusedKernelImpl } from './kernel-types.js';
import { ATTENTION_KERNELS } from './attention.js';
import { gatherV2, transpose, unsortedSegmentSum } from './layout.js';
import { batchMatMul, fusedMatMul } from './matmul.js';
import { REDUCE_OPS, reduceKernel } from './reductions.js';
import { RMS_NORM_KERNELS } from './rms-norm.js';
import { LAYER_NORM_KERNELS } from './layer-norm.js';
import { GELU_KERNELS } from './gelu.js';
import { OPTIMIZER_KERNELS } from './adamw.js';

const BACKEND = 'cpu';

/** Every kernel this package can replace, by tfjs kernel name. */
export const BLAS_KERNELS: Readonly<Record<string, BlasKernelImpl>> = {
  BatchMatMul: batchMatMul,
  _FusedMatMul: fusedMatMul,
  ...Object.fromEntries(Object.entries(UNARY_OPS).map(([name, op]) => [name, unaryKernel(op, name === 'LeakyRelu' ? 0.2 : 0)])),
  ...Object.fromEntries(Object.entries(BINARY_OPS).map(([name, op]) => [name, binaryKernel(op)])),
  Softmax: softmax,
  Sum: reduceKernel(REDUCE_OPS.Sum, 'axis'),
  Mean: reduceKernel(REDUCE_OPS.Mean, 'axis'),
  Max: reduceKernel(REDUCE_OPS.Max, 'reductionIndices'),
  Min: reduceKernel(REDUCE_OPS.Min, 'axis'),
  Transpose: transpose,
  GatherV2: gatherV2,
  UnsortedSegmentSum: unsortedSegmentSum,
};

/** Options of {@link registerBlasKernels}. */
export interface RegisterBlasOptions {
  /** Register only these kernels (names from {@link BLAS_KERNELS} or {@link FUSED_KERNEL_NAMES}); default all. */
  kernels?: readonly string[];
  /** Threads for OpenBLAS and the element-wise pool; default: OpenBLAS's own default (the core count). */
  threads?: number;
}

/** Kernels with names of their own (no stock kernel to replace), which libraries use when registered. */
const FUSED_KERNELS: Readonly<Record<string, FusedKernelImpl>> = { ...ATTENTION_KERNELS, ...RMS_NORM_KERNELS, ...LAYER_NORM_KERNELS, ...GELU_KERNELS, ...OPTIMIZER_KERNELS };

/**
 * Names of the fused kernels: `FidkdT5Attention` / `FidkdT5AttentionGrad` (T5 attention) and `FidkdRmsNorm` /
 * `FidkdRmsNormGrad` (T5 layer norm), each with its gradient, used by @fidkd/fid-reader when registered;
 * `FidkdLayerNorm` / `FidkdLayerNormGrad` and `FidkdGelu` / `FidkdGeluGrad` (BERT's LayerNorm and erf GELU), and
 * the attention kernels again (with the query scale folded into its projection), used by @fidkd/bi-encoder;
 * `FidkdAdamW` and `FidkdSumSquares` (one-pass AdamW update and global-norm sum), used by @fidkd/core's training.
 */
export const FUSED_KERNEL_NAMES: readonly string[] = Object.keys(FUSED_KERNELS);

/** Stock kernel configs we replaced, to fall back to and to restore. */
const stock = new Map<string, tf.KernelConfig>();
/** Fused kernels we added, to remove again. */
const fused = new Set<string>();

/**
 * Replaces the tfjs `cpu` backend's kernels by native OpenBLAS / C ones. Idempotent: a second call adds
 * kernels not yet registered and leaves the others. Inputs a native kernel does not handle (int32, bool,
 * complex, unusual broadcasts) run the stock kernel. Throws BlasUnavailableError (with the fix) when the
 * addon is not built.
 */
export function registerBlasKernels(options: RegisterBlasOptions = {}): { registered: string[] } {
  const addon = loadAddon();
  if (options.threads !== undefined) {
    if (!Number.isInteger(options.threads) || options.threads < 1) {
      throw new Error(`registerBlasKernels: threads must be a positive integer, got ${options.threads}`);
    }
    addon.setThreads(options.threads);
  }
  const names = options.kernels ?? [...Object.keys(BLAS_KERNELS), ...FUSED_KERNEL_NAMES];
  for (const name of names) {
    const fusedImpl = FUSED_KERNELS[name];
    if (fusedImpl) {
      if (fused.has(name)) continue;
      fused.add(name);
      tf.registerKernel({
        kernelName: name,
        backendName: BACKEND,
        kernelFunc: (args) => fusedImpl({
          inputs: args.inputs as Record<string, tf.TensorInfo | undefined>,
          backend: args.backend as CpuBackendLike,
          attrs: (args.attrs ?? {}) as Record<string, unknown>,
          addon,
        }),
      });
      continue;
    }
    const impl = BLAS_KERNELS[name];
    if (!impl) {
      throw new Error(`registerBlasKernels: unknown kernel ${name}; known: ${[...Object.keys(BLAS_KERNELS), ...FUSED_KERNEL_NAMES].join(', ')}`);
    }
    if (stock.has(name)) continue;
    const original = tf.getKernel(name, BACKEND);
    if (!original) continue; // this tfjs build has no cpu kernel by that name: nothing to accelerate
    stock.set(name, original);
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({
      kernelName: name,
      backendName: BACKEND,
      kernelFunc: (args) => {
        const res = impl({
          inputs: args.inputs as Record<string, tf.TensorInfo | undefined>,
          backend: args.backend as CpuBackendLike,
          attrs: (args.attrs ?? {}) as Record<string, unknown>,
          addon,
        });
        return res ?? original.kernelFunc(args);
      },
    });
  }
  return { registered: [...stock.keys(), ...fused] };
}

/** Restores the stock cpu kernels replaced by {@link registerBlasKernels}. */
export function unregisterBlasKernels(): void {
  for (const [name, original] of stock) {
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(original);
  }
  stock.clear();
  for (const name of fused) tf.unregisterKernel(name, BACKEND);
  fused.clear();
}

/** Names of the kernels currently replaced. */
export function registeredBlasKernels(): string[] {
  return [...stock.keys(), ...fused];
}
