import * as tf from '@tensorflow/tfjs';
import type { NamedTensor, StateDict } from '../checkpoint/types.js';

/** Copies tensors (e.g. model variables) into a {@link StateDict}: float32 → F32, int32 → I32, bool → BOOL. */
export function variablesToStateDict(vars: Map<string, tf.Tensor>): StateDict {
  const out: StateDict = new Map();
  for (const [name, t] of vars) {
    const shape = [...t.shape];
    switch (t.dtype) {
      case 'float32':
        out.set(name, { dtype: 'F32', shape, data: Float32Array.from(t.dataSync() as Float32Array) });
        break;
      case 'int32':
        out.set(name, { dtype: 'I32', shape, data: Int32Array.from(t.dataSync() as Int32Array) });
        break;
      case 'bool':
        out.set(name, { dtype: 'BOOL', shape, data: Uint8Array.from(t.dataSync() as Uint8Array) });
        break;
      default:
        throw new Error(`variablesToStateDict: '${name}' has dtype ${t.dtype}, which a state dict cannot hold`);
    }
  }
  return out;
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
