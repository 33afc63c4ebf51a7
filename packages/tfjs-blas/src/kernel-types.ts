// The shape of an accelerated kernel: it returns undefined for inputs it does not handle (dtype, layout,
// attributes), and the registry then runs the stock cpu kernel instead.
import type * as tf from '@tensorflow/tfjs';
import type { BlasAddon } from './addon.js';
import type { CpuBackendLike } from './backend-data.js';

export interface BlasKernelArgs {
  inputs: Record<string, tf.TensorInfo | undefined>;
  backend: CpuBackendLike;
  attrs: Record<string, unknown>;
  addon: BlasAddon;
}

export type BlasKernelImpl = (args: BlasKernelArgs) => tf.TensorInfo | undefined;

/** A fused kernel with a name of its own (no stock kernel behind it): throws on inputs it cannot run. */
export type FusedKernelImpl = (args: BlasKernelArgs) => tf.TensorInfo[];
