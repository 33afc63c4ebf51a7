// Sum / Mean / Max / Min over any contiguous run of axes (after dropping size-1 axes) without the
// transpose the stock kernels do first: x is viewed as [outer, reduced, inner].
import { f32, normAxes, sizeOf } from './backend-data.js';
import type { BlasKernelImpl } from './kernel-types.js';

/** Op codes of native/kernels.h `enum fidkd_reduce`. */
export const REDUCE_OPS = { Sum: 0, Max: 1, Min: 2, Mean: 3 } as const;

export function reduceKernel(op: number, axisAttr: 'axis' | 'reductionIndices'): BlasKernelImpl {
  return ({ inputs, backend, attrs, addon }) => {
    const x = inputs['x'];
    const xv = f32(backend, x);
    if (!x || !xv) return undefined;
    const rank = x.shape.length;
    const axes = normAxes(attrs[axisAttr] as number | number[] | undefined, rank);
    if (!axes) return undefined;
    const reduced = axes.filter((a) => x.shape[a] !== 1);
    let outer = 1;
    let r = 1;
    let inner = 1;
    if (reduced.length > 0) {
      const lo = reduced[0]!;
      const hi = reduced[reduced.length - 1]!;
      for (let d = lo; d <= hi; d++) if (x.shape[d] !== 1 && !reduced.includes(d)) return undefined;
      outer = sizeOf(x.shape.slice(0, lo));
      r = sizeOf(x.shape.slice(lo, hi + 1));
      inner = sizeOf(x.shape.slice(hi + 1));
    } else {
      outer = xv.length;
    }
    if (r === 0 && (op === REDUCE_OPS.Max || op === REDUCE_OPS.Min)) return undefined;
    const keepDims = attrs['keepDims'] === true;
    const outShape = keepDims
      ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !axes.includes(i));
    const out = new Float32Array(sizeOf(outShape));
    if (out.length > 0) addon.reduce(op, xv, out, outer, r, inner);
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}
