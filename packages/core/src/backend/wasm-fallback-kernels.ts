import * as tf from '@tensorflow/tfjs';

/**
 * The tfjs wasm backend (4.22) lacks some kernels that the cpu backend has; two matter for us:
 * `UnsortedSegmentSum` (the gradient of `tf.gather`, i.e. of every embedding lookup: without it no model with an
 * embedding trains on wasm) and `Einsum`. Each missing numeric kernel is bridged: its inputs are copied from wasm
 * memory into the cpu backend, the cpu kernel runs, and its outputs are copied back into wasm tensors. Slower
 * than native, but correct, and these kernels are rare in a step.
 */
interface DataBackend {
  readSync(dataId: object): tf.TypedArray | Uint8Array[] | string[];
  write(values: tf.TypedArray, shape: number[], dtype: tf.DataType): object;
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput?(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.TypedArray): tf.TensorInfo;
}

// Complex, string and ragged kernels have no meaning for our models; they stay unregistered.
const NOT_BRIDGED = /^(Complex|ComplexAbs|FFT|IFFT|RFFT|IRFFT|Imag|Real|StaticRegexReplace|StringNGrams|StringSplit|StringToHashBucketFast|Ragged.*|Draw)$/;

let bridged: string[] | null = null;

/** Registers the cpu-bridged kernels for 'wasm' (idempotent). Returns the kernel names bridged. */
export function registerWasmFallbackKernels(): string[] {
  if (bridged) return bridged;
  const wasmKernels = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
  bridged = [];
  for (const cpuKernel of tf.getKernelsForBackend('cpu')) {
    const name = cpuKernel.kernelName;
    if (wasmKernels.has(name) || NOT_BRIDGED.test(name)) continue;
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const wasm = backend as unknown as DataBackend;
        const cpu = tf.findBackend('cpu') as unknown as DataBackend | null;
        if (!cpu) throw new Error(`wasm fallback for ${name}: the tfjs cpu backend is not available`);
        const created: object[] = [];
        const toCpu = (info: tf.TensorInfo): tf.TensorInfo => {
          const dataId = cpu.write(wasm.readSync(info.dataId) as tf.TypedArray, info.shape, info.dtype);
          created.push(dataId);
          return { dataId, shape: info.shape, dtype: info.dtype };
        };
        try {
          // some kernels (Einsum, Concat, AddN) take an array of inputs, the others a name -> tensor map
          const cpuInputs = Array.isArray(inputs)
            ? (inputs as tf.TensorInfo[]).map(toCpu)
            : Object.fromEntries(
                Object.entries(inputs as Record<string, tf.TensorInfo | undefined>)
                  .filter((e): e is [string, tf.TensorInfo] => e[1] !== undefined)
                  .map(([k, v]) => [k, toCpu(v)]),
              );
          const out = cpuKernel.kernelFunc({ inputs: cpuInputs as tf.NamedTensorInfoMap, attrs, backend: cpu as unknown as tf.KernelBackend });
          const outs = Array.isArray(out) ? out : [out];
          const copied = outs.map((o) => {
            created.push(o.dataId);
            return wasm.makeOutput!(o.shape, o.dtype, undefined, cpu.readSync(o.dataId) as tf.TypedArray);
          });
          return Array.isArray(out) ? copied : copied[0]!;
        } finally {
          for (const id of created) cpu.disposeData(id, true);
        }
      },
    });
    bridged.push(name);
  }
  return bridged;
}
