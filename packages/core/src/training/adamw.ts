import * as tf from '@tensorflow/tfjs';
import { FUSED_ADAMW_KERNEL, hasFusedKernels } from '../backend/fused-kernels.js';
import type { StateDict } from '../checkpoint/types.js';
import { runReadTask, runReadTaskSync, type ReadTask } from '../backend/reads.js';

/** Hyper-parameters of {@link AdamW} (PyTorch names in comments). */
export interface AdamWConfig {
  /** Base learning rate (`lr`); a schedule passes the scheduled value to `applyGradients`. */
  lr: number;
  /** `betas[0]`, default 0.9. */
  beta1?: number;
  /** `betas[1]`, default 0.999. */
  beta2?: number;
  /** `eps`, default 1e-8; added after the square root of the bias-corrected second moment. */
  eps?: number;
  /** Decoupled weight decay (`weight_decay`), default 0 (PyTorch's AdamW default is 0.01; FiD passes its own). */
  weightDecay?: number;
}

/**
 * AdamW with the semantics of `torch.optim.AdamW` (Loshchilov & Hutter): per step t (1-based) and parameter p
 * with gradient g,
 *
 *     p ← p − lr·wd·p                                  (decoupled weight decay, before the Adam update)
 *     m ← β₁·m + (1−β₁)·g,    v ← β₂·v + (1−β₂)·g²
 *     p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
 *
 * computed in float32 like PyTorch's single-tensor path. The moments are created (zero) on a parameter's first
 * gradient. One step counter serves all parameters (PyTorch keeps one per parameter; they differ only for a
 * parameter that receives no gradient on some step). State is a {@link StateDict} named `exp_avg.<name>` /
 * `exp_avg_sq.<name>` plus the step, so it round-trips through safetensors.
 */
export class AdamW {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private t = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(config: AdamWConfig) {
    this.lr = config.lr;
    this.beta1 = config.beta1 ?? 0.9;
    this.beta2 = config.beta2 ?? 0.999;
    this.eps = config.eps ?? 1e-8;
    this.weightDecay = config.weightDecay ?? 0;
    const bad = (what: string, x: number, ok: boolean): void => {
      if (!Number.isFinite(x) || !ok) throw new RangeError(`AdamW: invalid ${what} ${x}`);
    };
    bad('lr', this.lr, this.lr >= 0);
    bad('beta1', this.beta1, this.beta1 >= 0 && this.beta1 < 1);
    bad('beta2', this.beta2, this.beta2 >= 0 && this.beta2 < 1);
    bad('eps', this.eps, this.eps >= 0);
    bad('weightDecay', this.weightDecay, this.weightDecay >= 0);
  }

  /** The hyper-parameters, for saving next to the state. */
  get config(): Required<AdamWConfig> {
    return { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }

  /** Number of updates applied so far (PyTorch's `state['step']`). */
  get step(): number {
    return this.t;
  }

  /**
   * One update of every variable that has a gradient (variables without one are left alone, as PyTorch skips
   * parameters whose `.grad` is None). `lr` overrides the base learning rate for this step (scheduled value).
   * Every gradient is first multiplied by `gradScale` (the global-norm clipping coefficient; 1 = as given), a
   * number or a scalar tensor (a coefficient computed on the device: no read-back on webgpu).
   * Gradients are read, not disposed. Where @fidkd/tfjs-blas registered `FidkdAdamW` each update is one native
   * pass (same float32 arithmetic) instead of a dozen tf ops over the parameter.
   */
  applyGradients(vars: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number = this.lr, gradScale: number | tf.Scalar = 1): void {
    if (!Number.isFinite(lr) || lr < 0) throw new RangeError(`AdamW: invalid learning rate ${lr}`);
    for (const [name, g] of grads) {
      const p = vars.get(name);
      if (!p) throw new Error(`AdamW: gradient for '${name}', which is not among the variables`);
      if (p.dtype !== 'float32') throw new Error(`AdamW: variable '${name}' is ${p.dtype}, only float32 is trained`);
      if (!tf.util.arraysEqual(p.shape, g.shape)) {
        throw new Error(`AdamW: gradient of '${name}' has shape [${g.shape}], the variable [${p.shape}]`);
      }
      const m = this.m.get(name);
      if (m && !tf.util.arraysEqual(m.shape, p.shape)) {
        throw new Error(`AdamW: optimizer state of '${name}' has shape [${m.shape}], the variable [${p.shape}]`);
      }
    }
    this.t += 1;
    const t = this.t;
    const stepSize = lr / (1 - this.beta1 ** t);
    const bc2Sqrt = Math.sqrt(1 - this.beta2 ** t);
    const fused = hasFusedKernels(FUSED_ADAMW_KERNEL);
    // the fused kernel takes the scale as an attribute: registered on the cpu backend only, where a read is a copy
    const scaleAttr = typeof gradScale === 'number' ? gradScale : fused ? gradScale.dataSync()[0]! : NaN;
    for (const [name, grad] of grads) {
      const p = vars.get(name)!;
      let m = this.m.get(name);
      let v = this.v.get(name);
      if (!m || !v) {
        m = zeroVariable(p, `adamw/exp_avg/${name}`);
        v = zeroVariable(p, `adamw/exp_avg_sq/${name}`);
        this.m.set(name, m);
        this.v.set(name, v);
      }
      const mm = m;
      const vv = v;
      if (fused && grad.dtype === 'float32') {
        // The kernel updates the moments in place (they are this optimizer's own, shared with no other tensor).
        const attrs = {
          decay: 1 - lr * this.weightDecay, beta1: this.beta1, oneMinusBeta1: 1 - this.beta1, beta2: this.beta2,
          oneMinusBeta2: 1 - this.beta2, eps: this.eps, stepSize, bc2Sqrt, gradScale: scaleAttr,
        };
        const [next] = tf.engine().runKernel(FUSED_ADAMW_KERNEL, { p, g: grad, m: mm, v: vv }, attrs) as tf.Tensor[];
        p.assign(next!);
        next!.dispose();
        continue;
      }
      tf.tidy(() => {
        const g = gradScale === 1 ? grad : grad.mul(gradScale);
        const decayed = this.weightDecay !== 0 ? p.mul(1 - lr * this.weightDecay) : p;
        const m1 = mm.mul(this.beta1).add(g.mul(1 - this.beta1));
        const v1 = vv.mul(this.beta2).add(g.mul(g).mul(1 - this.beta2));
        const denom = v1.sqrt().div(bc2Sqrt).add(this.eps);
        mm.assign(m1);
        vv.assign(v1);
        p.assign(decayed.sub(m1.div(denom).mul(stepSize)));
      });
    }
  }

  /**
   * The moments as a state dict (`exp_avg.<name>`, `exp_avg_sq.<name>`, F32 copies). Pair it with `step`.
   * Reads synchronously (cpu, wasm, tensorflow backends); {@link getStateAsync} works on every backend.
   */
  getState(): StateDict {
    return runReadTaskSync(this.stateTask(), 'AdamW.getState', 'AdamW.getStateAsync');
  }

  /** {@link getState} with asynchronous reads (every backend, webgpu included). */
  getStateAsync(): Promise<StateDict> {
    return runReadTask(this.stateTask());
  }

  private *stateTask(): ReadTask<StateDict> {
    const entries = [...this.m].flatMap(([name, m]): [string, tf.Variable][] => [[`exp_avg.${name}`, m], [`exp_avg_sq.${name}`, this.v.get(name)!]]);
    const data = yield entries.map(([, t]) => t);
    return new Map(entries.map(([key, t], i) => [key, { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(data[i] as Float32Array) }]));
  }

  /**
   * Replaces the moments and the step by saved ones (from {@link getState}). Every `exp_avg.<name>` needs its
   * `exp_avg_sq.<name>` of the same shape; anything else is an error naming the entry.
   */
  setState(state: StateDict, step: number): void {
    if (!Number.isInteger(step) || step < 0) throw new RangeError(`AdamW.setState: step must be a non-negative integer, got ${step}`);
    const pairs: [string, Float32Array, Float32Array, number[]][] = [];
    for (const [key, t] of state) {
      if (key.startsWith('exp_avg_sq.')) {
        if (!state.has(`exp_avg.${key.slice('exp_avg_sq.'.length)}`)) throw new Error(`AdamW.setState: '${key}' has no matching exp_avg entry`);
        continue;
      }
      if (!key.startsWith('exp_avg.')) throw new Error(`AdamW.setState: unexpected entry '${key}' (expected exp_avg.<name> / exp_avg_sq.<name>)`);
      const name = key.slice('exp_avg.'.length);
      const sq = state.get(`exp_avg_sq.${name}`);
      if (!sq) throw new Error(`AdamW.setState: '${key}' has no matching exp_avg_sq entry`);
      for (const [k, e] of [[key, t], [`exp_avg_sq.${name}`, sq]] as const) {
        if (e.dtype !== 'F32' || !ArrayBuffer.isView(e.data) || e.data.length !== e.shape.reduce((a, b) => a * b, 1)) {
          throw new Error(`AdamW.setState: '${k}' must be F32 with shape-many elements (got ${e.dtype} [${e.shape}])`);
        }
      }
      if (!tf.util.arraysEqual(t.shape, sq.shape)) throw new Error(`AdamW.setState: '${key}' and its exp_avg_sq differ in shape`);
      pairs.push([name, t.data as Float32Array, sq.data as Float32Array, t.shape]);
    }
    this.dispose();
    for (const [name, m, v, shape] of pairs) {
      this.m.set(name, valueVariable(m, shape, `adamw/exp_avg/${name}`));
      this.v.set(name, valueVariable(v, shape, `adamw/exp_avg_sq/${name}`));
    }
    this.t = step;
  }

  /** Frees the moment tensors (the step is kept). */
  dispose(): void {
    for (const x of this.m.values()) x.dispose();
    for (const x of this.v.values()) x.dispose();
    this.m.clear();
    this.v.clear();
  }
}

let variableCounter = 0;

/** A non-trainable variable holding `initial`, which is released (tf.variable keeps its own reference). */
function ownedVariable(initial: tf.Tensor, name: string): tf.Variable {
  // Variable names are global in tfjs: a counter keeps two optimizers over the same parameter names apart.
  const variable = tf.variable(initial, false, `${name}/${variableCounter++}`);
  initial.dispose();
  return variable;
}

function zeroVariable(like: tf.Tensor, name: string): tf.Variable {
  return ownedVariable(tf.zerosLike(like), name);
}

function valueVariable(values: Float32Array, shape: number[], name: string): tf.Variable {
  // A copy: tf.tensor keeps the caller's array, and FidkdAdamW updates the moments in place.
  return ownedVariable(tf.tensor(Float32Array.from(values), shape, 'float32'), name);
}
