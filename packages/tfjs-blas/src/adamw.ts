// Fused optimizer kernels for the cpu backend, under names of their own, used by @fidkd/core's AdamW and
// gradient clipping when registered:
//   FidkdAdamW       inputs p, g, m, v (same shape, float32); attrs decay (1 − lr·wd), beta1, oneMinusBeta1,
//                    beta2, oneMinusBeta2, eps, stepSize (lr/(1 − β₁ᵗ)), bc2Sqrt (√(1 − β₂ᵗ)), gradScale (the
//                    clipping coefficient, 1 = none) → [p'] — and m, v updated IN PLACE: pass only moments that
//                    no other tensor shares (the optimizer's own variables).
//   FidkdSumSquares  inputs x float32 → [Σ x² as a float32 scalar] (summed in double, in a fixed order)
import { denseInput as dense } from './backend-data.js';
import type { FusedKernelImpl } from './kernel-types.js';

export const ADAMW_KERNEL = 'FidkdAdamW';
export const SUM_SQUARES_KERNEL = 'FidkdSumSquares';

const ATTRS = ['decay', 'beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'eps', 'stepSize', 'bc2Sqrt', 'gradScale'] as const;

const adamw: FusedKernelImpl = ({ inputs, backend, attrs, addon }) => {
  const K = ADAMW_KERNEL;
  const p = inputs['p'];
  const [pv, gv, mv, vv] = (['p', 'g', 'm', 'v'] as const).map((name) => dense(backend, inputs[name], name, K)) as [Float32Array, Float32Array, Float32Array, Float32Array];
  if (gv.length !== pv.length || mv.length !== pv.length || vv.length !== pv.length) throw new Error(`${K}: p, g, m and v must have the same size`);
  const a = ATTRS.map((name) => {
    const x = attrs[name];
    // gradScale may be NaN or infinite: a non-finite gradient norm poisons the update, as in PyTorch.
    if (typeof x !== 'number' || (name !== 'gradScale' && !Number.isFinite(x))) throw new Error(`${K}: attr ${name} must be a finite number, got ${String(x)}`);
    return x;
  }) as [number, number, number, number, number, number, number, number, number];
  const out = new Float32Array(pv.length);
  addon.adamw(pv, gv, mv, vv, out, ...a);
  return [backend.makeTensorInfo([...p!.shape], 'float32', out)];
};

const sumSquares: FusedKernelImpl = ({ inputs, backend, addon }) => {
  const xv = dense(backend, inputs['x'], 'x', SUM_SQUARES_KERNEL);
  return [backend.makeTensorInfo([], 'float32', Float32Array.of(addon.sumSquares(xv)))];
};

/** The optimizer kernels by name. */
export const OPTIMIZER_KERNELS: Readonly<Record<string, FusedKernelImpl>> = {
  [ADAMW_KERNEL]: adamw,
  [SUM_SQUARES_KERNEL]: sumSquares,
};
