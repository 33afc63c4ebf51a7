import * as tf from '@tensorflow/tfjs';

/**
 * Faster replacements for tfjs kernels that make training on the cpu / wasm backends impractically slow.
 *
 * `UnsortedSegmentSum` is the gradient of `tf.gather`, i.e. of every embedding lookup. The tfjs cpu kernel
 * (4.22) loops over the segments and, for each one, builds a mask over the whole input and multiplies and sums
 * it: O(numSegments × N × d) work and four full-size temporaries per vocabulary entry (32k for T5). The kernel
 * here is the direct O(N × d) scatter-add. wasm has no such kernel at all; it gets the same one.
 */
interface ReadableBackend {
  readSync(dataId: object): ArrayLike<number>;
}
interface CpuLikeBackend extends ReadableBackend {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.TypedArray): tf.TensorInfo;
}
interface WasmLikeBackend extends ReadableBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.TypedArray): tf.TensorInfo;
}

/** out[s, :] = Σ over rows r with segmentIds[r] = s of x[r, :] (rows whose id is outside [0, numSegments) dropped). */
function segmentSum(x: ArrayLike<number>, ids: ArrayLike<number>, numSegments: number, dtype: tf.DataType): tf.TypedArray {
  const rows = ids.length;
  const inner = rows === 0 ? 0 : x.length / rows;
  const out = dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
  for (let r = 0; r < rows; r++) {
    const s = ids[r]!;
    if (s < 0 || s >= numSegments) continue;
    const o = s * inner;
    const i = r * inner;
    for (let j = 0; j < inner; j++) out[o + j]! += x[i + j]!;
  }
  return out;
}

function segmentSumKernel(backendName: 'cpu' | 'wasm'): tf.KernelConfig {
  return {
    kernelName: 'UnsortedSegmentSum',
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const x = inputs['x'] as tf.TensorInfo;
      const segmentIds = inputs['segmentIds'] as tf.TensorInfo;
      const { numSegments } = attrs as unknown as { numSegments: number };
      const b = backend as unknown as ReadableBackend;
      const values = segmentSum(b.readSync(x.dataId), b.readSync(segmentIds.dataId), numSegments, x.dtype);
      const shape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
      return backendName === 'cpu'
        ? (backend as unknown as CpuLikeBackend).makeTensorInfo(shape, x.dtype, values)
        : (backend as unknown as WasmLikeBackend).makeOutput(shape, x.dtype, undefined, values);
    },
  };
}

const done = new Set<string>();

/**
 * Registers the faster kernels for 'cpu' and, once `@tensorflow/tfjs-backend-wasm` has been imported, for
 * 'wasm'. Idempotent; returns `backend/kernel` names newly registered. {@link initBackend} calls it; tests and
 * scripts that call `tf.setBackend('cpu')` themselves may call it too (it does not change the backend).
 */
export function registerFastKernels(): string[] {
  const added: string[] = [];
  for (const backendName of ['cpu', 'wasm'] as const) {
    if (done.has(backendName)) continue;
    const kernels = tf.getKernelsForBackend(backendName);
    if (kernels.length === 0) continue; // backend not loaded (wasm not imported)
    const current = kernels.find((k) => k.kernelName === 'UnsortedSegmentSum');
    // replace only tfjs's own kernel (named `unsortedSegmentSum`): one registered by someone else, e.g.
    // @fidkd/tfjs-blas's native kernel, is left in place
    if (current && current.kernelFunc.name !== 'unsortedSegmentSum') {
      done.add(backendName);
      continue;
    }
    if (current) tf.unregisterKernel('UnsortedSegmentSum', backendName);
    tf.registerKernel(segmentSumKernel(backendName));
    done.add(backendName);
    added.push(`${backendName}/UnsortedSegmentSum`);
  }
  return added;
}
