// Reading the cpu backend's storage: kernels receive TensorInfos whose values live in backend.data.
import type * as tf from '@tensorflow/tfjs';
import { types } from 'node:util';

/** The part of tfjs's MathBackendCPU the kernels use. */
export interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** The Float32Array behind a float32 tensor, or undefined (other dtype or storage): caller falls back. */
export function f32(backend: CpuBackendLike, t: tf.TensorInfo | undefined): Float32Array | undefined {
  if (!t || t.dtype !== 'float32') return undefined;
  const v = backend.data.get(t.dataId).values;
  return types.isFloat32Array(v) ? v : undefined;
}

/** The Float32Array behind input `name` of a fused kernel; throws (naming the kernel) when it is not one. */
export function denseInput(backend: CpuBackendLike, t: tf.TensorInfo | undefined, name: string, kernel: string): Float32Array {
  const v = f32(backend, t);
  if (!v) throw new Error(`${kernel}: input ${name} must be a dense float32 tensor`);
  return v;
}

/** The Int32Array behind an int32 tensor, or undefined. */
export function i32(backend: CpuBackendLike, t: tf.TensorInfo | undefined): Int32Array | undefined {
  if (!t || t.dtype !== 'int32') return undefined;
  const v = backend.data.get(t.dataId).values;
  return types.isInt32Array(v) ? v : undefined;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

/** Normalises an axis attribute (number, list, negative) against a rank; undefined when out of range. */
export function normAxes(axis: number | number[] | undefined | null, rank: number): number[] | undefined {
  const list = axis == null ? Array.from({ length: rank }, (_, i) => i) : Array.isArray(axis) ? axis : [axis];
  const out: number[] = [];
  for (const a of list) {
    const ax = a < 0 ? a + rank : a;
    if (!Number.isInteger(ax) || ax < 0 || ax >= rank) return undefined;
    if (!out.includes(ax)) out.push(ax);
  }
  return out.sort((x, y) => x - y);
}

/** A norm kernel's `eps` attribute: a non-negative number, or an error naming the kernel. */
export function epsAttr(attrs: Record<string, unknown>, kernel: string): number {
  const eps = attrs['eps'];
  if (typeof eps !== 'number' || !(eps >= 0)) throw new Error(`${kernel}: eps must be a non-negative number, got ${String(eps)}`);
  return eps;
}

/** Rows of a [..., d] tensor normalised over its last axis by a [d] weight; throws naming the kernel otherwise. */
export function rowsOf(shape: readonly number[], d: number, kernel: string, weight: string): number {
  if (shape[shape.length - 1] !== d || d === 0) throw new Error(`${kernel}: last axis of x (${shape.join('x')}) must equal the length of ${weight} (${d})`);
  return sizeOf(shape) / d;
}
