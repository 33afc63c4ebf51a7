import * as tf from '@tensorflow/tfjs';
import type { NamedTensor, StateDict } from '../checkpoint/types.js';
import { runReadTask, runReadTaskSync, type ReadTask } from '../backend/reads.js';

/**
 * Copies tensors (e.g. model variables) into a {@link StateDict}: float32 → F32, int32 → I32, bool → BOOL. Reads
 * synchronously (cpu, wasm, tensorflow backends); {@link variablesToStateDictAsync} works on every backend.
 */
export function variablesToStateDict(vars: Map<string, tf.Tensor>): StateDict {
  return runReadTaskSync(stateDictTask(vars), 'variablesToStateDict', 'variablesToStateDictAsync');
}

/** {@link variablesToStateDict} with asynchronous reads, all issued at once (every backend, webgpu included). */
export function variablesToStateDictAsync(vars: Map<string, tf.Tensor>): Promise<StateDict> {
  return runReadTask(stateDictTask(vars));
}

/** The {@link ReadTask} behind both: reads every tensor of `vars`. */
export function* stateDictTask(vars: Map<string, tf.Tensor>): ReadTask<StateDict> {
  const entries = [...vars];
  const data = yield entries.map(([, t]) => t);
  return new Map(entries.map(([name, t], i) => [name, named(name, t, data[i]!)]));
}

/** A copy of a tensor's values (the cpu backend hands out its own buffer) under its state-dict dtype. */
function named(name: string, t: tf.Tensor, values: tf.TypedArray | ArrayLike<number>): NamedTensor {
  const shape = [...t.shape];
  switch (t.dtype) {
    case 'float32':
      return { dtype: 'F32', shape, data: Float32Array.from(values as Float32Array) };
    case 'int32':
      return { dtype: 'I32', shape, data: Int32Array.from(values as Int32Array) };
    case 'bool':
      return { dtype: 'BOOL', shape, data: Uint8Array.from(values as Uint8Array) };
    default:
      throw new Error(`variablesToStateDict: '${name}' has dtype ${t.dtype}, which a state dict cannot hold`);
  }
}

function toFloat32(name: string, t: NamedTensor): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) throw new Error(`'${name}': ${t.data.length} values for shape [${t.shape}]`);
  if (t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16') return t.data as Float32Array;
  if (t.dtype === 'F64') return Float32Array.from(t.data as Float64Array);
  throw new Error(`'${name}' is ${t.dtype}, expected a floating-point tensor`);
}

/**
 * Assigns saved weights to variables by name (shapes must match). With `strict` (default) every variable needs
 * a weight and every weight a variable; errors name the tensor.
 */
export function assignStateDict(vars: Map<string, tf.Variable>, weights: StateDict, options: { strict?: boolean } = {}): void {
  const strict = options.strict ?? true;
  if (strict) {
    const missing = [...vars.keys()].filter((k) => !weights.has(k));
    const unexpected = [...weights.keys()].filter((k) => !vars.has(k));
    if (missing.length || unexpected.length) {
      throw new Error(`assignStateDict: missing weights [${missing.join(', ')}], unexpected weights [${unexpected.join(', ')}]`);
    }
  }
  for (const [name, v] of vars) {
    const w = weights.get(name);
    if (!w) continue;
    if (!tf.util.arraysEqual(v.shape, w.shape)) throw new Error(`assignStateDict: '${name}' has shape [${w.shape}], the variable [${v.shape}]`);
    const data = toFloat32(name, w);
    tf.tidy(() => v.assign(tf.tensor(data, w.shape, 'float32')));
  }
}
