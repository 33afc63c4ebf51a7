/**
 * Differentiable ops over the fused kernels that @fidkd/tfjs-blas registers for the tfjs `cpu` backend under
 * names of their own. They are looked up in tfjs's kernel registry by name (so no package depends on the native
 * addon), and the readers and retrievers share these wrappers: one kernel forward and one backward each, with the
 * contract (inputs, attrs, outputs) written in tfjs-blas's attention.ts, layer-norm.ts, gelu.ts and adamw.ts.
 * Callers check {@link hasFusedKernels} first and otherwise write the same math in plain tf ops.
 */
import * as tf from '@tensorflow/tfjs';

/** Attention softmax(q·kᵀ + pos + mask)·v per head (T5's; BERT's with the 1/√d folded into q). */
export const FUSED_ATTENTION_KERNEL = 'FidkdT5Attention';
/** Its gradient: inputs dy, q, k, v (or qkv), probs; attrs numHeads, posGrad; outputs dq, dk, dv (or dqkv) (, dpos). */
export const FUSED_ATTENTION_GRAD_KERNEL = 'FidkdT5AttentionGrad';
/** BERT's LayerNorm over the last axis: inputs x, gamma, beta; attr eps; outputs y, mean, rstd. */
export const FUSED_LAYER_NORM_KERNEL = 'FidkdLayerNorm';
/** Its gradient: inputs dy, x, gamma, mean, rstd; outputs dx, dgamma, dbeta. */
export const FUSED_LAYER_NORM_GRAD_KERNEL = 'FidkdLayerNormGrad';
/** Exact (erf) GELU x·Φ(x): input x; output y. */
export const FUSED_GELU_KERNEL = 'FidkdGelu';
/** Its gradient: inputs dy, x; output dx. */
export const FUSED_GELU_GRAD_KERNEL = 'FidkdGeluGrad';

/** One AdamW update (decay, moments, step) of a parameter in one pass; the moments are updated in place. */
export const FUSED_ADAMW_KERNEL = 'FidkdAdamW';
/** Σ x² of a tensor as a scalar, summed in double in a fixed order. */
export const FUSED_SUM_SQUARES_KERNEL = 'FidkdSumSquares';

/** Every kernel of a BERT layer's fused path (attention, LayerNorm, GELU, each with its gradient). */
export const FUSED_BERT_KERNELS: readonly string[] = [
  FUSED_ATTENTION_KERNEL, FUSED_ATTENTION_GRAD_KERNEL, FUSED_LAYER_NORM_KERNEL, FUSED_LAYER_NORM_GRAD_KERNEL, FUSED_GELU_KERNEL, FUSED_GELU_GRAD_KERNEL,
];

/** True when every named kernel (e.g. a kernel and its gradient) is registered for the active backend. */
export function hasFusedKernels(...names: string[]): boolean {
  const backend = tf.getBackend();
  return names.every((name) => tf.getKernel(name, backend) !== undefined);
}

type SaveFn = (tensors: tf.Tensor[]) => void;
type Forward = (...args: unknown[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };

/** tf.customGrad over a forward that receives its inputs then the save function (its published typing differs). */
function custom(forward: Forward): (...x: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...x: tf.Tensor[]) => tf.Tensor;
}

/**
 * The fused attention pair as one differentiable op of its operands — `{ q, k, v }` ([N, Lq, H·dkv], [N, Lk, H·dkv]
 * ×2) or `{ qkv }` ([N, L, 3·H·dkv], self-attention) — and of `pos` ([1, H, Lq, Lk]) when given. `mask` holds N·Lk
 * 0/1 keys (0 = padded: finfo(float32).min is added) or is null; `causal` masks keys after the query.
 */
export function fusedAttention(operands: Record<string, tf.Tensor>, pos: tf.Tensor | null, mask: Int32Array | null, causal: boolean, numHeads: number, [n, lq, lk]: [number, number, number]): tf.Tensor {
  const names = Object.keys(operands);
  const maskTensor = mask ? tf.tensor2d(mask, [n, lk], 'int32') : null;
  const op = custom((...args) => {
    const save = args[args.length - 1] as SaveFn;
    const xs = args.slice(0, names.length) as tf.Tensor[];
    const pp = pos ? (args[names.length] as tf.Tensor) : null;
    const inputs: tf.NamedTensorMap = Object.fromEntries(names.map((name, i) => [name, xs[i]!]));
    if (pp) inputs['pos'] = tf.reshape(pp, [numHeads, lq, lk]);
    if (maskTensor) inputs['mask'] = maskTensor;
    const [out, probs] = tf.engine().runKernel(FUSED_ATTENTION_KERNEL, inputs, { numHeads, causal }) as tf.Tensor[];
    save([...xs, probs!]);
    return {
      value: out!,
      gradFunc: (dy, saved) => {
        const gradInputs: tf.NamedTensorMap = Object.fromEntries(names.map((name, i) => [name, saved[i]!]));
        const grads = tf.engine().runKernel(FUSED_ATTENTION_GRAD_KERNEL, { ...gradInputs, dy, probs: saved[names.length]! }, { numHeads, posGrad: pp !== null }) as tf.Tensor[];
        if (pp) grads[names.length] = tf.reshape(grads[names.length]!, [1, numHeads, lq, lk]);
        return grads;
      },
    };
  });
  try {
    return op(...names.map((name) => operands[name]!), ...(pos ? [pos] : []));
  } finally {
    maskTensor?.dispose();
  }
}

/** LayerNorm (x − mean)/sqrt(var + eps)·gamma + beta over the last axis as one kernel forward and one backward. */
export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const op = custom((...args) => {
    const [input, g, b] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
    const save = args[3] as SaveFn;
    const [y, mean, rstd] = tf.engine().runKernel(FUSED_LAYER_NORM_KERNEL, { x: input, gamma: g, beta: b }, { eps }) as tf.Tensor[];
    save([input, g, mean!, rstd!]);
    return {
      value: y!,
      gradFunc: (dy, saved) => {
        const [sx, sg, sm, sr] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return tf.engine().runKernel(FUSED_LAYER_NORM_GRAD_KERNEL, { dy, x: sx, gamma: sg, mean: sm, rstd: sr }, {}) as tf.Tensor[];
      },
    };
  });
  return op(x, gamma, beta);
}

/** Exact GELU x·Φ(x) as one kernel forward and one backward (the tape keeps only x). */
export function fusedGelu(x: tf.Tensor): tf.Tensor {
  const op = custom((...args) => {
    const input = args[0] as tf.Tensor;
    (args[1] as SaveFn)([input]);
    const [y] = tf.engine().runKernel(FUSED_GELU_KERNEL, { x: input }, {}) as tf.Tensor[];
    return {
      value: y!,
      gradFunc: (dy, saved) => tf.engine().runKernel(FUSED_GELU_GRAD_KERNEL, { dy, x: saved[0]! }, {}) as tf.Tensor[],
    };
  });
  return op(x);
}

/** Σ x² over all elements of all `tensors` (float32 in, summed in double), through the fused kernel. */
export function fusedSumSquares(tensors: Iterable<tf.Tensor>): number {
  let total = 0;
  for (const t of tensors) {
    const [s] = tf.engine().runKernel(FUSED_SUM_SQUARES_KERNEL, { x: t }, {}) as tf.Tensor[];
    total += s!.dataSync()[0]!;
    s!.dispose();
  }
  return total;
}
