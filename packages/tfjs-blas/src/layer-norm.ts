// Fused LayerNorm (BERT's) for the cpu backend, under names of its own: `FidkdLayerNorm` and its gradient
// `FidkdLayerNormGrad`, used by @fidkd/bi-encoder when registered (through @fidkd/core's fused-kernels.ts):
//   FidkdLayerNorm     inputs x [..., d], gamma, beta [d] float32; attrs eps
//                      → [y [..., d], mean [rows], rstd [rows]] (saved for the gradient)
//   FidkdLayerNormGrad inputs dy [..., d], x, gamma, mean, rstd → [dx [..., d], dgamma [d], dbeta [d]]
import { denseInput as dense, epsAttr, rowsOf } from './backend-data.js';
import type { FusedKernelImpl } from './kernel-types.js';

export const LAYER_NORM_KERNEL = 'FidkdLayerNorm';
export const LAYER_NORM_GRAD_KERNEL = 'FidkdLayerNormGrad';

const layerNorm: FusedKernelImpl = ({ inputs, backend, attrs, addon }) => {
  const K = LAYER_NORM_KERNEL;
  const x = inputs['x'];
  const xv = dense(backend, x, 'x', K);
  const gv = dense(backend, inputs['gamma'], 'gamma', K);
  const bv = dense(backend, inputs['beta'], 'beta', K);
  const eps = epsAttr(attrs, K);
  if (bv.length !== gv.length) throw new Error(`${K}: gamma and beta lengths differ (${gv.length}, ${bv.length})`);
  const rows = rowsOf(x!.shape, gv.length, K, 'gamma');
  const y = new Float32Array(xv.length);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  addon.layerNorm(xv, gv, bv, y, mean, rstd, eps);
  return [backend.makeTensorInfo([...x!.shape], 'float32', y), backend.makeTensorInfo([rows], 'float32', mean), backend.makeTensorInfo([rows], 'float32', rstd)];
};

const layerNormGrad: FusedKernelImpl = ({ inputs, backend, addon }) => {
  const K = LAYER_NORM_GRAD_KERNEL;
  const x = inputs['x'];
  const xv = dense(backend, x, 'x', K);
  const gv = dense(backend, inputs['gamma'], 'gamma', K);
  rowsOf(x!.shape, gv.length, K, 'gamma');
  const dx = new Float32Array(xv.length);
  const dg = new Float32Array(gv.length);
  const db = new Float32Array(gv.length);
  addon.layerNormGrad(dense(backend, inputs['dy'], 'dy', K), xv, gv, dense(backend, inputs['mean'], 'mean', K), dense(backend, inputs['rstd'], 'rstd', K), dx, dg, db);
  return [backend.makeTensorInfo([...x!.shape], 'float32', dx), backend.makeTensorInfo([gv.length], 'float32', dg), backend.makeTensorInfo([gv.length], 'float32', db)];
};

/** The LayerNorm kernels by name. */
export const LAYER_NORM_KERNELS: Readonly<Record<string, FusedKernelImpl>> = {
  [LAYER_NORM_KERNEL]: layerNorm,
  [LAYER_NORM_GRAD_KERNEL]: layerNormGrad,
};
