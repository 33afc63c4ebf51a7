import * as tf from '@tensorflow/tfjs';

/**
 * tfjs-backend-wasm 4.22's `_FusedMatMul` adds its bias wrongly unless both operands are plain matrices: with a
 * transposed operand or more than one matrix in the batch, only some output rows get bias[j] in column j (measured:
 * x·Wᵀ + [1, 10, 100] came back with [100, 100, 100] added to the second row). `tf.fused.matMul({a, b,
 * transposeB: true, bias})` is how BERT's linear layers are written, so every BERT forward on wasm was off by the
 * bias differences. The wrapper runs the product without bias (the plain BatchMatMul path, which is right), then
 * the wasm Add kernel for the bias and the activation kernel, as the unfused ops would.
 */
interface WasmBackend {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The kernel (and its extra inputs / attrs) of each fusable activation but 'linear'. */
const ACTIVATION_KERNELS: Record<string, string> = {
  relu: 'Relu', relu6: 'Relu6', elu: 'Elu', sigmoid: 'Sigmoid', leakyrelu: 'LeakyRelu', prelu: 'Prelu',
};

let fixed = false;

/** Wraps the wasm `_FusedMatMul` kernel (idempotent; false until the wasm backend is imported). */
export function registerWasmFusedMatMulFix(): boolean {
  if (fixed) return true;
  const original = tf.getKernel('_FusedMatMul', 'wasm');
  const add = tf.getKernel('Add', 'wasm');
  if (!original || !add) return false;
  tf.unregisterKernel('_FusedMatMul', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const { inputs, attrs, backend } = args;
      const bias = inputs['bias'] as tf.TensorInfo | undefined;
      if (bias == null) return original.kernelFunc(args);
      const { activation, leakyreluAlpha } = attrs as unknown as { activation?: string; leakyreluAlpha?: number };
      const act = activation && activation !== 'linear' ? tf.getKernel(ACTIVATION_KERNELS[activation] ?? '', 'wasm') : undefined;
      if (activation && activation !== 'linear' && !act) throw new Error(`_FusedMatMul (wasm): activation '${activation}' has no kernel`);
      const made: tf.TensorInfo[] = [];
      const keep = <T extends tf.TensorInfo>(t: T): T => {
        made.push(t);
        return t;
      };
      try {
        const product = keep(original.kernelFunc({
          inputs: { a: inputs['a']!, b: inputs['b']! }, backend, attrs: { ...attrs, activation: 'linear' },
        }) as tf.TensorInfo);
        const biased = add.kernelFunc({ inputs: { a: product, b: bias }, backend, attrs: {} }) as tf.TensorInfo;
        if (!act) return biased;
        keep(biased);
        const actInputs = activation === 'prelu' ? { x: biased, alpha: inputs['preluActivationWeights']! } : { x: biased };
        return act.kernelFunc({ inputs: actInputs, backend, attrs: activation === 'leakyrelu' ? { alpha: leakyreluAlpha ?? 0.2 } : {} }) as tf.TensorInfo;
      } finally {
        for (const t of made) (backend as unknown as WasmBackend).disposeData(t.dataId, true);
      }
    },
  });
  fixed = true;
  return true;
}
