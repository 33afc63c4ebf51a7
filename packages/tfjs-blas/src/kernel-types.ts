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
