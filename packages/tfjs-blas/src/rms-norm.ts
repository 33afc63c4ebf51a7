// Fused T5 RMS layer norm for the cpu backend, under names of its own: `FidkdRmsNorm` and its gradient
// `FidkdRmsNormGrad`, used by @fidkd/fid-reader when registered (contract also written in its kernels.ts):
//   FidkdRmsNorm     inputs x [..., d], w [d] float32; attrs eps → [y [..., d], rinv [rows]]
//                    (y = x / sqrt(mean(x²) + eps) · w; rinv the per-row 1/sqrt(...), saved for the gradient)
//   FidkdRmsNormGrad inputs dy [..., d], x, w, rinv → [dx [..., d], dw [d]]
import { denseInput as dense, epsAttr, rowsOf } from './backend-data.js';
import type { FusedKernelImpl } from './kernel-types.js';

export const RMS_NORM_KERNEL = 'FidkdRmsNorm';
export const RMS_NORM_GRAD_KERNEL = 'FidkdRmsNormGrad';

const rmsNorm: FusedKernelImpl = ({ inputs, backend, attrs, addon }) => {
  const x = inputs['x'];
  const xv = dense(backend, x, 'x', RMS_NORM_KERNEL);
  const wv = dense(backend, inputs['w'], 'w', RMS_NORM_KERNEL);
  const eps = epsAttr(attrs, RMS_NORM_KERNEL);
  const rows = rowsOf(x!.shape, wv.length, RMS_NORM_KERNEL, 'w');
  const y = new Float32Array(xv.length);
  const rinv = new Float32Array(rows);
  addon.rmsNorm(xv, wv, y, rinv, eps);
  return [backend.makeTensorInfo([...x!.shape], 'float32', y), backend.makeTensorInfo([rows], 'float32', rinv)];
};

const rmsNormGrad: FusedKernelImpl = ({ inputs, backend, addon }) => {
  const K = RMS_NORM_GRAD_KERNEL;
  const x = inputs['x'];
  const xv = dense(backend, x, 'x', K);
  const wv = dense(backend, inputs['w'], 'w', K);
  rowsOf(x!.shape, wv.length, K, 'w');
  const dx = new Float32Array(xv.length);
  const dw = new Float32Array(wv.length);
  addon.rmsNormGrad(dense(backend, inputs['dy'], 'dy', K), xv, wv, dense(backend, inputs['rinv'], 'rinv', K), dx, dw);
  return [backend.makeTensorInfo([...x!.shape], 'float32', dx), backend.makeTensorInfo([wv.length], 'float32', dw)];
};

/** The RMS-norm kernels by name. */
export const RMS_NORM_KERNELS: Readonly<Record<string, FusedKernelImpl>> = {
  [RMS_NORM_KERNEL]: rmsNorm,
  [RMS_NORM_GRAD_KERNEL]: rmsNormGrad,
};
