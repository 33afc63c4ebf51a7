// Fused T5 attention kernels for the cpu backend, under names of their own (no stock kernel has them):
// `FidkdT5Attention` and its gradient `FidkdT5AttentionGrad`. @fidkd/fid-reader looks them up in tfjs's
// kernel registry (tf.getKernel) and uses them when registered; the contract (inputs, attrs, outputs) is
// written here and in fid-reader's kernels.ts.
//   FidkdT5Attention     inputs q [N, Lq, H*dkv], k, v [N, Lk, H*dkv], pos? [H, Lq, Lk] float32,
//                        mask? [N, Lk] int32 (0 = padded key); attrs numHeads, causal
//                        → [out [N, Lq, H*dkv], probs [N, H, Lq, Lk]]
//   FidkdT5AttentionGrad inputs dy [N, Lq, H*dkv], q, k, v, probs; attrs numHeads, posGrad
//                        → [dq, dk, dv] and, when posGrad, dpos [H, Lq, Lk]
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

const attention: FusedKernelImpl = ({ inputs, backend, attrs, addon }) => {
  const { q, k, pos, mask } = inputs;
  const qv = dense(backend, q, 'q', ATTENTION_KERNEL);
  const kv = dense(backend, k, 'k', ATTENTION_KERNEL);
  const vv = dense(backend, inputs['v'], 'v', ATTENTION_KERNEL);
  const [n, lq, width] = q!.shape as [number, number, number];
  const lk = k!.shape[1]!;
  const h = heads(attrs, width, ATTENTION_KERNEL);
  const posv = pos ? dense(backend, pos, 'pos', ATTENTION_KERNEL) : null;
  const maskv = mask ? i32(backend, mask) : null;
  if (mask && !maskv) throw new Error(`${ATTENTION_KERNEL}: mask must be an int32 tensor`);
  const out = new Float32Array(qv.length);
  const probs = new Float32Array(n * h * lq * lk);
  addon.attention(qv, kv, vv, posv, maskv ?? null, out, probs, n, h, lq, lk, width / h, attrs['causal'] === true ? 1 : 0);
  return [backend.makeTensorInfo([n, lq, width], 'float32', out), backend.makeTensorInfo([n, h, lq, lk], 'float32', probs)];
};

const attentionGrad: FusedKernelImpl = ({ inputs, backend, attrs, addon }) => {
  const K = ATTENTION_GRAD_KERNEL;
  const { q, k } = inputs;
  const dyv = dense(backend, inputs['dy'], 'dy', K);
  const qv = dense(backend, q, 'q', K);
  const kv = dense(backend, k, 'k', K);
  const vv = dense(backend, inputs['v'], 'v', K);
  const pv = dense(backend, inputs['probs'], 'probs', K);
  const [n, lq, width] = q!.shape as [number, number, number];
  const lk = k!.shape[1]!;
  const h = heads(attrs, width, K);
  const dq = new Float32Array(qv.length);
  const dk = new Float32Array(kv.length);
  const dv = new Float32Array(kv.length);
  const posGrad = attrs['posGrad'] === true;
  const dpos = posGrad ? new Float32Array(h * lq * lk) : null;
  addon.attentionGrad(dyv, qv, kv, vv, pv, dq, dk, dv, dpos, posGrad ? new Float32Array(pv.length) : null, n, h, lq, lk, width / h);
  const outs = [
    backend.makeTensorInfo([n, lq, width], 'float32', dq),
    backend.makeTensorInfo([n, lk, width], 'float32', dk),
    backend.makeTensorInfo([n, lk, width], 'float32', dv),
  ];
  if (dpos) outs.push(backend.makeTensorInfo([h, lq, lk], 'float32', dpos));
  return outs;
};

/** The attention kernels by name. */
export const ATTENTION_KERNELS: Readonly<Record<string, FusedKernelImpl>> = {
  [ATTENTION_KERNEL]: attention,
  [ATTENTION_GRAD_KERNEL]: attentionGrad,
};
