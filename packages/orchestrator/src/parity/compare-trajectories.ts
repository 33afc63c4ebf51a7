/**
 * Comparing a training trajectory with a reference one (fidkd against PyTorch, same checkpoint, same batches).
 *
 * Per step: loss, total gradient norm and clipping coefficient within `rtol` (1e-5) relative; the learning rate
 * within 1e-9 (both sides evaluate the same schedule in double); each tensor's gradient norm within
 * rtol·|ref| + 1e-6·(the step's total norm), the float32 rounding floor of a gradient.
 *
 * Final parameters, per element, within a float32 budget derived from AdamW (β₁, β₂ from the batches file):
 * - rounding of the parameter itself: both sides round p to float32 at each of N updates, so R·|p| with
 *   R = 2N·2⁻²³;
 * - the updates: AdamW moves an element by lr_t·m̂/(√v̂ + ε) at step t, a function of degree 0 of its gradient
 *   history, so a relative gradient error ρ changes the step by about 2ρ·lr_t. The float32 gradients agree to
 *   ρ ≲ 1e-6 in norm (the per-step norms, measured ≤ 8e-7 on cpu, blas and wasm); δ = 1e-3 allows elements whose
 *   gradient is up to ~500× below their tensor's typical one (their relative error is that much larger):
 *   Σ_t lr_t·δ. Measured on the fixtures: at most 9e-5·Σ_t lr_t.
 * - a tensor whose gradient never rises above 1e-6 of the total norm carries only rounding noise (BERT's key
 *   biases: softmax ignores a shift of every key by the same q·b, so their exact gradient is 0). AdamW
 *   normalises that noise to steps of up to U_t·lr_t in either direction, U_t = (Σ_i w_i²/w'_i)^½ with
 *   m̂'s weights w_i and v̂'s w'_i (Cauchy–Schwarz; ≈ 1.04 over the first 10 steps): budget 2·Σ_t lr_t·U_t.
 *   The same bound admits, in an informative tensor, at most ⌊1e-4·size⌋ elements whose own gradient cancels
 *   to rounding level.
 */
import type { TrajectoryBatches } from './trajectory-batches.js';
import type { TrajectoryRecord } from './trajectory.js';

export interface TrajectoryTolerance {
  /** Relative tolerance of losses, gradient norms and clipping coefficients (default 1e-5). */
  rtol?: number;
  /** Precision of an informative element's AdamW step (default 1e-3). */
  delta?: number;
  /** Gradient norm, relative to the total, below which a tensor carries only rounding noise (default 1e-6). */
  noiseFloor?: number;
}

/**
 * What a comparison reads of a trajectory: the issue's minimal format (`losses`, `grad_norms`, `params`) from any
 * tool; learning rates, clipping coefficients and per-tensor gradient norms are compared when both sides have them,
 * and the budget takes the learning rates (and which tensors are rounding noise) from whichever side has them.
 */
export type ComparableTrajectory = Pick<TrajectoryRecord, 'losses' | 'grad_norms' | 'params'> &
  Partial<Pick<TrajectoryRecord, 'lrs' | 'clip_coefficients' | 'param_grad_norms'>>;

/** One parameter element's difference and budget. */
export interface ParameterDifference {
  name: string;
  index: number;
  ratio: number;
  difference: number;
  budget: number;
}

export interface TrajectoryComparison {
  ok: boolean;
  steps: number;
  /** Largest relative differences over all steps. */
  maxRelative: { loss: number; gradNorm: number; clipCoefficient: number };
  /** Largest |Δp| / budget over the informative parameters (≤ 1 passes), with where it is. */
  worstParameter: ParameterDifference | null;
  /** The same over the rounding-noise tensors. */
  worstNoiseParameter: ParameterDifference | null;
  /** Tensors treated as rounding noise (their gradient stayed below the noise floor). */
  noiseTensors: string[];
  /** The first disagreement, in words: the step and quantity, or the tensor and element; null when ok. */
  firstDifference: string | null;
  /** The budget's terms, for the report. */
  budget: { R: number; sumLr: number; determined: number; noise: number };
}

const rel = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), Number.MIN_VALUE));

/** AdamW's bound on |m̂_t/(√v̂_t + ε)| after t updates (see the file comment). */
export function adamStepBound(t: number, beta1: number, beta2: number): number {
  let s = 0;
  for (let i = 1; i <= t; i++) {
    const w = ((1 - beta1) * beta1 ** (t - i)) / (1 - beta1 ** t);
    const w2 = ((1 - beta2) * beta2 ** (t - i)) / (1 - beta2 ** t);
    s += (w * w) / w2;
  }
  return Math.sqrt(s);
}

/**
 * Compares `actual` with `reference` (both TrajectoryRecords of the same batches). `optimizer` gives β₁, β₂
 * (default torch's 0.9, 0.999).
 */
export function compareTrajectories(
  actual: ComparableTrajectory,
  reference: ComparableTrajectory,
  optimizer: Pick<TrajectoryBatches['optimizer'], 'beta1' | 'beta2'> = { beta1: 0.9, beta2: 0.999 },
  tol: TrajectoryTolerance = {},
): TrajectoryComparison {
  const rtol = tol.rtol ?? 1e-5;
  const delta = tol.delta ?? 1e-3;
  const floor = tol.noiseFloor ?? 1e-6;
  const n = reference.losses.length;
  const maxRelative = { loss: 0, gradNorm: 0, clipCoefficient: 0 };
  const found: { first: string | null } = { first: null };
  const note = (msg: string): void => {
    found.first ??= msg;
  };
  if (actual.losses.length !== n) note(`${actual.losses.length} steps, the reference ${n}`);
  const steps = Math.min(n, actual.losses.length);
  for (let t = 0; t < steps; t++) {
    const at = `step ${t + 1}`;
    const checks: [keyof typeof maxRelative | 'lr', number | undefined, number | undefined, number][] = [
      ['lr', actual.lrs?.[t], reference.lrs?.[t], 1e-9],
      ['loss', actual.losses[t], reference.losses[t], rtol],
      ['gradNorm', actual.grad_norms[t], reference.grad_norms[t], rtol],
      ['clipCoefficient', actual.clip_coefficients?.[t], reference.clip_coefficients?.[t], rtol],
    ];
    for (const [what, a, b, limit] of checks) {
      if (a === undefined || b === undefined) continue;
      const r = rel(a, b);
      if (what !== 'lr') maxRelative[what] = Math.max(maxRelative[what], r);
      if (!(r <= limit)) {
        const label = { lr: 'learning rate', loss: 'loss', gradNorm: 'total gradient norm', clipCoefficient: 'clipping coefficient' }[what];
        note(`${at}: ${label} ${a} vs reference ${b} (relative ${r.toExponential(2)} > ${limit})${found.first ? '' : tensorHint(actual, reference, t)}`);
      }
    }
    const total = reference.grad_norms[t] ?? 0;
    for (const [name, ref] of Object.entries(reference.param_grad_norms ?? {})) {
      const a = actual.param_grad_norms?.[name]?.[t];
      const b = ref[t];
      if (a === undefined || b === undefined) continue;
      if (!(Math.abs(a - b) <= rtol * Math.abs(b) + floor * total)) {
        note(`${at}: gradient of ${name} has norm ${a} vs reference ${b} (allowed ${rtol}·ref + ${floor}·total norm)`);
      }
    }
  }

  // the parameter budget
  const lrs = reference.lrs ?? actual.lrs ?? [];
  if (lrs.length < n) note(`the budget of the parameters needs the learning rate of each of the ${n} steps ("lrs"): neither trajectory has them`);
  const gradNormsPerTensor = reference.param_grad_norms ?? actual.param_grad_norms ?? {};
  const sumLr = lrs.reduce((s, x) => s + x, 0);
  const R = 2 * lrs.length * 2 ** -23;
  const determined = delta * sumLr;
  const noise = 2 * lrs.reduce((s, lr, t) => s + lr * adamStepBound(t + 1, optimizer.beta1, optimizer.beta2), 0);
  const noiseTensors = Object.entries(gradNormsPerTensor)
    .filter(([, g]) => g.every((x, t) => x <= floor * (reference.grad_norms[t] ?? 0)))
    .map(([name]) => name);
  const isNoise = new Set(noiseTensors);
  let worst: ParameterDifference | null = null;
  let worstNoise: ParameterDifference | null = null;
  for (const name of Object.keys(actual.params)) if (!(name in reference.params)) note(`parameter ${name} is not in the reference`);
  for (const [name, ref] of Object.entries(reference.params)) {
    const got = actual.params[name];
    if (!got) {
      note(`parameter ${name} is missing`);
      continue;
    }
    if (got.shape.join() !== ref.shape.join()) {
      note(`parameter ${name} has shape [${got.shape}], the reference [${ref.shape}]`);
      continue;
    }
    // elements beyond the informative bound: within AdamW's bound, a few (⌊1e-4·size⌋) may be rounding noise
    let outliers = 0;
    let firstBad: { index: number; d: number; budget: number } | null = null;
    let firstOutlier: { index: number; d: number; budget: number } | null = null;
    for (let i = 0; i < ref.data.length; i++) {
      const b = ref.data[i]!;
      const d = Math.abs(got.data[i]! - b);
      const round = R * Math.max(Math.abs(b), Math.abs(got.data[i]!));
      const tight = round + (isNoise.has(name) ? noise : determined);
      const ratio = d / tight;
      if (isNoise.has(name)) {
        if (!worstNoise || ratio > worstNoise.ratio) worstNoise = { name, index: i, ratio, difference: d, budget: tight };
      } else if (!worst || ratio > worst.ratio) {
        worst = { name, index: i, ratio, difference: d, budget: tight };
      }
      if (ratio <= 1) continue;
      if (!isNoise.has(name) && d <= round + noise) {
        outliers++;
        firstOutlier ??= { index: i, d, budget: tight };
      } else {
        firstBad ??= { index: i, d, budget: tight };
      }
    }
    const allowed = Math.floor(1e-4 * ref.data.length);
    const bad = firstBad ?? (outliers > allowed ? firstOutlier : null);
    if (bad) {
      const more = firstBad ? '' : `; ${outliers} such elements in the tensor, at most ${allowed} may be rounding noise`;
      note(`parameter ${name}[${flatIndex(ref.shape, bad.index)}] = ${got.data[bad.index]} vs reference ${ref.data[bad.index]} (|Δ| ${bad.d.toExponential(2)} > budget ${bad.budget.toExponential(2)}${more})`);
    }
  }
  return {
    ok: found.first === null,
    steps,
    maxRelative,
    worstParameter: worst,
    worstNoiseParameter: worstNoise,
    noiseTensors,
    firstDifference: found.first,
    budget: { R, sumLr, determined, noise },
  };
}

/** The tensor whose gradient norm differs most at step t, to go with a differing total. */
function tensorHint(actual: ComparableTrajectory, reference: ComparableTrajectory, t: number): string {
  let best: [string, number] | null = null;
  for (const [name, ref] of Object.entries(reference.param_grad_norms ?? {})) {
    const a = actual.param_grad_norms?.[name]?.[t];
    const b = ref[t];
    if (a === undefined || b === undefined) continue;
    const d = Math.abs(a - b);
    if (!best || d > best[1]) best = [name, d];
  }
  return best ? `; the gradient that differs most: ${best[0]}` : '';
}

function flatIndex(shape: number[], i: number): string {
  const idx: number[] = [];
  for (let k = shape.length - 1; k >= 0; k--) {
    idx.unshift(i % shape[k]!);
    i = Math.floor(i / shape[k]!);
  }
  return idx.join(', ');
}

/** A few lines for a terminal: the verdict, the largest differences and the budget. */
export function formatTrajectoryComparison(c: TrajectoryComparison): string {
  const e = (x: number): string => x.toExponential(2);
  const lines = [
    `${c.ok ? 'agree' : 'DIFFER'} over ${c.steps} steps: max relative difference loss ${e(c.maxRelative.loss)}, gradient norm ${e(c.maxRelative.gradNorm)}, clipping coefficient ${e(c.maxRelative.clipCoefficient)}`,
    `parameter budget: ${e(c.budget.R)}·|p| + ${e(c.budget.determined)} (informative), + ${e(c.budget.noise)} (rounding-noise tensors${c.noiseTensors.length ? `: ${c.noiseTensors.join(', ')}` : ': none'})`,
  ];
  for (const [label, w] of [['informative', c.worstParameter], ['rounding-noise', c.worstNoiseParameter]] as const) {
    if (w) lines.push(`largest |Δp|/budget, ${label} tensors: ${w.ratio.toFixed(3)} (${w.name}, |Δ| ${e(w.difference)})`);
  }
  if (c.firstDifference) lines.push(`first difference: ${c.firstDifference}`);
  return lines.join('\n');
}
