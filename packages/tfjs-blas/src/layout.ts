// Data-movement kernels: Transpose (attention head split/merge), GatherV2 (embedding lookup) and
// UnsortedSegmentSum (the gradient of the gather, which the stock kernel computes with one masked pass
// over the input per segment, i.e. per vocabulary entry).
import { f32, i32, sizeOf } from './backend-data.js';
import type { BlasKernelImpl } from './kernel-types.js';

export const transpose: BlasKernelImpl = ({ inputs, backend, attrs, addon }) => {
  const x = inputs['x'];
  const xv = f32(backend, x);
  const perm = attrs['perm'];
  if (!x || !xv || !Array.isArray(perm) || perm.length !== x.shape.length || x.shape.length === 0) return undefined;
  if (x.shape.length > 8) return undefined;
  const outShape = perm.map((p: number) => x.shape[p]!);
  const out = new Float32Array(xv.length);
  if (out.length > 0) addon.transpose(xv, out, Float64Array.from(x.shape), Int32Array.from(perm as number[]));
  return backend.makeTensorInfo(outShape, 'float32', out);
};

export const gatherV2: BlasKernelImpl = ({ inputs, backend, attrs, addon }) => {
  const x = inputs['x'];
  const indices = inputs['indices'];
  const xv = f32(backend, x);
  const iv = i32(backend, indices);
  if (!x || !indices || !xv || !iv || x.shape.length === 0) return undefined;
  const batchDims = typeof attrs['batchDims'] === 'number' ? attrs['batchDims'] : 0;
  if (batchDims !== 0) return undefined;
  const rank = x.shape.length;
  const rawAxis = typeof attrs['axis'] === 'number' ? attrs['axis'] : 0;
  const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  if (axis < 0 || axis >= rank) return undefined;
  const outer = sizeOf(x.shape.slice(0, axis));
  const dim = x.shape[axis]!;
  const slice = sizeOf(x.shape.slice(axis + 1));
  const outShape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
  const out = new Float32Array(sizeOf(outShape));
  const bad = addon.gather(xv, iv, out, outer, dim, slice);
  if (bad >= 0) {
    // Same wording as the stock kernel.
    throw new Error(`GatherV2: the index value ${iv[bad]} is not in [0, ${dim - 1}]`);
  }
  return backend.makeTensorInfo(outShape, 'float32', out);
};

export const unsortedSegmentSum: BlasKernelImpl = ({ inputs, backend, attrs, addon }) => {
  const x = inputs['x'];
  const ids = inputs['segmentIds'];
  const xv = f32(backend, x);
  const iv = i32(backend, ids);
  const numSegments = attrs['numSegments'];
  if (!x || !ids || !xv || !iv || typeof numSegments !== 'number') return undefined;
  if (ids.shape.length > x.shape.length || ids.shape.some((d, i) => d !== x.shape[i])) return undefined;
  const sliceShape = x.shape.slice(ids.shape.length);
  const slice = sizeOf(sliceShape);
  const outShape = [numSegments, ...sliceShape];
  const out = new Float32Array(numSegments * slice);
  addon.segmentSum(xv, iv, out, slice, numSegments);
  return backend.makeTensorInfo(outShape, 'float32', out);
};
