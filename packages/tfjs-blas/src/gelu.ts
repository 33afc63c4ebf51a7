// Fused exact (erf) GELU for the cpu backend, under names of its own: `FidkdGelu` and its gradient
// `FidkdGeluGrad`, used by @fidkd/bi-encoder when registered (through @fidkd/core's fused-kernels.ts):
//   FidkdGelu     inputs x float32 → [y] (y = x·Φ(x), erf by Abramowitz–Stegun 7.1.26 as tfjs's Erf kernel)
//   FidkdGeluGrad inputs dy, x → [dx] (dx = dy·(Φ(x) + x·φ(x)))
import { denseInput as dense } from './backend-data.js';
import type { FusedKernelImpl } from './kernel-types.js';

export const GELU_KERNEL = 'FidkdGelu';
export const GELU_GRAD_KERNEL = 'FidkdGeluGrad';

const gelu: FusedKernelImpl = ({ inputs, backend, addon }) => {
  const x = inputs['x'];
  const xv = dense(backend, x, 'x', GELU_KERNEL);
  const y = new Float32Array(xv.length);
  addon.gelu(xv, y);
  return [backend.makeTensorInfo([...x!.shape], 'float32', y)];
};

const geluGrad: FusedKernelImpl = ({ inputs, backend, addon }) => {
  const x = inputs['x'];
  const xv = dense(backend, x, 'x', GELU_GRAD_KERNEL);
  const dy = dense(backend, inputs['dy'], 'dy', GELU_GRAD_KERNEL);
  if (dy.length !== xv.length) throw new Error(`${GELU_GRAD_KERNEL}: dy and x sizes differ (${dy.length}, ${xv.length})`);
  const dx = new Float32Array(xv.length);
  addon.geluGrad(dy, xv, dx);
  return [backend.makeTensorInfo([...x!.shape], 'float32', dx)];
};

/** The GELU kernels by name. */
export const GELU_KERNELS: Readonly<Record<string, FusedKernelImpl>> = {
  [GELU_KERNEL]: gelu,
  [GELU_GRAD_KERNEL]: geluGrad,
};
