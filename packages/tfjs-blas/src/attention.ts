// Fused T5 attention kernels for the cpu backend, under names of their own (no stock kernel has them):
// `FidkdT5Attention` and its gradient `FidkdT5AttentionGrad`. @fidkd/fid-reader looks them up in tfjs's
// kernel registry (tf.getKernel) and uses them when registered; the contract (inputs, attrs, outputs) is
// written here and in fid-reader's kernels.ts.
//   FidkdT5Attention     inputs q [N, Lq, H*dkv], k, v [N, Lk, H*dkv] — or, for self-attention, qkv
//                        [N, L, 3*H*dkv] (the three projections side by side) —, pos? [H, Lq, Lk] float32,
//                        mask? [N, Lk] int32 (0 = padded key); attrs numHeads, causal
//                        → [out [N, Lq, H*dkv], probs [N, H, Lq, Lk]]
//   FidkdT5AttentionGrad inputs dy [N, Lq, H*dkv], q, k, v (or qkv), probs; attrs numHeads, posGrad
//                        → [dq, dk, dv] (or [dqkv]) and, when posGrad, dpos [H, Lq, Lk]
import { denseInput as dense, i32 } from './backend-data.js';
import type { FusedKernelImpl } from './kernel-types.js';

export const ATTENTION_KERNEL = 'FidkdT5Attention';
export const ATTENTION_GRAD_KERNEL = 'FidkdT5AttentionGrad';

function heads(attrs: Record<string, unknown>, width: number, kernel: string): number {
  const h = attrs['numHeads'];
  if (typeof h !== 'number' || !Number.isInteger(h) || h < 1 || width % h !== 0) {
    throw new Error(`${kernel}: numHeads must be a positive integer dividing ${width}, got ${String(h)}`);
  }
  return h;
}

/** q, k, v (separate or packed) and the shapes they imply. */
function operands(inputs: Parameters<FusedKernelImpl>[0]['inputs'], backend: Parameters<FusedKernelImpl>[0]['backend'], attrs: Record<string, unknown>, kernel: string) {
  const packed = inputs['qkv'];
  if (packed) {
    const qkv = dense(backend, packed, 'qkv', kernel);
    const [n, l, w3] = packed.shape as [number, number, number];
    if (w3 % 3 !== 0) throw new Error(`${kernel}: the last axis of qkv (${w3}) must hold q, k and v`);
    const width = w3 / 3;
    return { packed: true, q: qkv, k: null, v: null, n, lq: l, lk: l, width, h: heads(attrs, width, kernel) };
  }
  const { q, k } = inputs;
  const qv = dense(backend, q, 'q', kernel);
  const [n, lq, width] = q!.shape as [number, number, number];
  return {
    packed: false, q: qv, k: dense(backend, k, 'k', kernel), v: dense(backend, inputs['v'], 'v', kernel),
    n, lq, lk: k!.shape[1]!, width, h: heads(attrs, width, kernel),
  };
}

const attention: FusedKernelImpl = ({ inputs, backend, attrs, addon }) => {
  const o = operands(inputs, backend, attrs, ATTENTION_KERNEL);
  const { pos, mask } = inputs;
  const posv = pos ? dense(backend, pos, 'pos', ATTENTION_KERNEL) : null;
  const maskv = mask ? i32(backend, mask) : null;
  if (mask && !maskv) throw new Error(`${ATTENTION_KERNEL}: mask must be an int32 tensor`);
  const out = new Float32Array(o.n * o.lq * o.width);
  const probs = new Float32Array(o.n * o.h * o.lq * o.lk);
  addon.attention(o.q, o.k, o.v, posv, maskv ?? null, out, probs, o.n, o.h, o.lq, o.lk, o.width / o.h, attrs['causal'] === true ? 1 : 0, o.packed ? 1 : 0);
  return [backend.makeTensorInfo([o.n, o.lq, o.width], 'float32', out), backend.makeTensorInfo([o.n, o.h, o.lq, o.lk], 'float32', probs)];
};

const attentionGrad: FusedKernelImpl = ({ inputs, backend, attrs, addon }) => {
  const K = ATTENTION_GRAD_KERNEL;
  const o = operands(inputs, backend, attrs, K);
  const pv = dense(backend, inputs['probs'], 'probs', K);
  const dq = new Float32Array(o.q.length);
  const dk = o.k ? new Float32Array(o.k.length) : null;
  const dv = o.v ? new Float32Array(o.v.length) : null;
  const posGrad = attrs['posGrad'] === true;
  const dpos = posGrad ? new Float32Array(o.h * o.lq * o.lk) : null;
  addon.attentionGrad(dense(backend, inputs['dy'], 'dy', K), o.q, o.k, o.v, pv, dq, dk, dv, dpos, o.n, o.h, o.lq, o.lk, o.width / o.h, o.packed ? 1 : 0);
  const outs = o.packed
    ? [backend.makeTensorInfo([o.n, o.lq, 3 * o.width], 'float32', dq)]
    : [
        backend.makeTensorInfo([o.n, o.lq, o.width], 'float32', dq),
        backend.makeTensorInfo([o.n, o.lk, o.width], 'float32', dk!),
        backend.makeTensorInfo([o.n, o.lk, o.width], 'float32', dv!),
      ];
  if (dpos) outs.push(backend.makeTensorInfo([o.h, o.lq, o.lk], 'float32', dpos));
  return outs;
};

/** The attention kernels by name. */
export const ATTENTION_KERNELS: Readonly<Record<string, FusedKernelImpl>> = {
  [ATTENTION_KERNEL]: attention,
  [ATTENTION_GRAD_KERNEL]: attentionGrad,
};
