import * as tf from '@tensorflow/tfjs';

/** The kernel (and its extra input or attribute) of each fused activation. */
const ACTIVATIONS: Record<string, string> = {
  relu: 'Relu', relu6: 'Relu6', elu: 'Elu', sigmoid: 'Sigmoid', leakyrelu: 'LeakyRelu', prelu: 'Prelu',
};

/**
 * tfjs-backend-wasm 4.22's `_FusedMatMul` adds the bias wrongly unless both operands are plain matrices without
 * transposition (its XNNPACK path): with `transposeA`, `transposeB` or batch dimensions every row but the first
 * gets wrong bias values (measured: off by up to 2.3 on a random [6, 16] · [32, 16]ᵀ + b). Every linear layer of
 * the BERT retriever is x·Wᵀ + b with W stored [out, in] (`linear` in @fidkd/bi-encoder). This replaces the kernel
 * on 'wasm' by one that, in those cases, runs the original product without bias and activation, then the
 * backend's Add and activation kernels; the right cases go to the original unchanged. Call after the wasm
 * backend's module is imported (it registers its kernels then). Idempotent; false when they are not registered.
 */
export function fixWasmFusedMatMul(): boolean {
  const original = tf.getKernel('_FusedMatMul', 'wasm');
  const kernel = (name: string): tf.KernelFunc => {
    const k = tf.getKernel(name, 'wasm');
    if (!k) throw new Error(`fixWasmFusedMatMul: the wasm backend has no ${name} kernel`);
    return k.kernelFunc;
  };
  if (!original || !tf.getKernel('Add', 'wasm')) return false;
  if ((original.kernelFunc as { fidkdFixed?: boolean }).fidkdFixed) return true;
  const kernelFunc: tf.KernelFunc = (args) => {
    const { inputs } = args;
    const backend = args.backend as tf.KernelBackend;
    const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean; activation?: string; leakyreluAlpha?: number };
    const a = inputs.a as tf.TensorInfo;
    const b = inputs.b as tf.TensorInfo;
    const bias = inputs.bias as tf.TensorInfo | undefined;
    if (!bias || (!attrs.transposeA && !attrs.transposeB && a.shape.length === 2 && b.shape.length === 2)) return original.kernelFunc(args);
    const product = original.kernelFunc({ inputs: { a, b }, attrs: { ...attrs, activation: 'linear' }, backend }) as tf.TensorInfo;
    const biased = kernel('Add')({ inputs: { a: product, b: bias }, attrs: {}, backend }) as tf.TensorInfo;
    backend.disposeData(product.dataId);
    const act = attrs.activation ?? 'linear';
    if (act === 'linear') return biased;
    const name = ACTIVATIONS[act];
    if (!name) throw new Error(`fixWasmFusedMatMul: unknown fused activation ${act}`);
    const out = kernel(name)({
      inputs: act === 'prelu' ? { x: biased, alpha: inputs.preluActivationWeights as tf.TensorInfo } : { x: biased },
      attrs: act === 'leakyrelu' ? { alpha: attrs.leakyreluAlpha ?? 0.2 } : {},
      backend,
    }) as tf.TensorInfo;
    backend.disposeData(biased.dataId);
    return out;
  };
  (kernelFunc as { fidkdFixed?: boolean }).fidkdFixed = true;
  tf.unregisterKernel('_FusedMatMul', 'wasm');
  tf.registerKernel({ ...original, kernelFunc });
  return true;
}
