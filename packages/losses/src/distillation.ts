import * as tf from '@tensorflow/tfjs';
import { stopGradient } from './stop-gradient.js';

/**
 * Every distillation loss variant, named as in the oracle fixture `fixtures/oracle/losses`.
 * S = retriever scores, G = gold (reader) scores, both [question, passage]; softmaxes run over passages.
 */
export const DISTILLATION_VARIANTS = [
  'kl_repo',
  'kl_sum',
  'kl_batchmean',
  'mse_sum',
  'mse_mean',
  'margin_all_pairs_sum',
  'margin_all_pairs_mean',
  'margin_distinct_pairs_mean',
  'margin_ordered_pos_pairs_sum',
  'margin_ordered_pos_pairs_mean',
] as const;

/** One exact loss variant (see {@link DISTILLATION_VARIANTS}). */
export type DistillationVariant = (typeof DISTILLATION_VARIANTS)[number];

/**
 * A loss family; each maps to one variant:
 * - `kl` → `kl_repo` (the official FiD code: nn.KLDivLoss() default reduction, mean over Q×P),
 * - `mse` → `mse_sum` (the paper's Σ (S − G)²),
 * - `margin` → `margin_all_pairs_sum` (the paper's Σ over all passage pairs of max(0, γ − sign(G₁ − G₂)(S₁ − S₂))).
 */
export type DistillationFamily = 'kl' | 'mse' | 'margin';

/** What the shorthand families stand for. */
export const FAMILY_DEFAULTS: Readonly<Record<DistillationFamily, DistillationVariant>> = {
  kl: 'kl_repo',
  mse: 'mse_sum',
  margin: 'margin_all_pairs_sum',
};

export interface DistillationLossOptions {
  /** Loss variant or family; default `kl_repo` (the official FiD code). */
  variant?: DistillationVariant | DistillationFamily;
  /** Margin γ of the max-margin losses (default 1). */
  gamma?: number;
  /** KL only: the target is softmax(G / temperatureGold) (default 1, as in the repo). */
  temperatureGold?: number;
  /** KL only: the student is log_softmax(S / temperatureScore) (default 1, as in the repo). */
  temperatureScore?: number;
}

/** Resolves a family name or variant name to a variant; throws on anything else. */
export function resolveDistillationVariant(variant: string): DistillationVariant {
  if ((DISTILLATION_VARIANTS as readonly string[]).includes(variant)) return variant as DistillationVariant;
  const fam = FAMILY_DEFAULTS[variant as DistillationFamily];
  if (fam) return fam;
  throw new Error(
    `distillationLoss: unknown variant '${variant}' (expected one of ${[...DISTILLATION_VARIANTS, 'kl', 'mse', 'margin'].join(', ')})`,
  );
}

/**
 * Distillation loss of the retriever scores S against the gold scores G (both [Q, P]), a scalar
 * differentiable in `scores`. G never receives gradient. Formulas (per variant) are those of the losses
 * fixture README and of this package's README. Call inside `tf.tidy` / `tf.variableGrads`: intermediates are
 * disposed by the caller's scope (the function itself is tidy).
 */
export function distillationLoss(scores: tf.Tensor2D, gold: tf.Tensor2D, options: DistillationLossOptions = {}): tf.Scalar {
  const variant = resolveDistillationVariant(options.variant ?? 'kl_repo');
  const gamma = options.gamma ?? 1;
  const tg = options.temperatureGold ?? 1;
  const ts = options.temperatureScore ?? 1;
  if (scores.rank !== 2 || gold.rank !== 2) {
    throw new Error(`distillationLoss: scores and gold must be [question, passage] matrices, got ranks ${scores.rank} and ${gold.rank}`);
  }
  if (scores.shape[0] !== gold.shape[0] || scores.shape[1] !== gold.shape[1]) {
    throw new Error(`distillationLoss: scores shape [${scores.shape.join(', ')}] differs from gold shape [${gold.shape.join(', ')}]`);
  }
  if (!(tg > 0) || !(ts > 0)) throw new Error(`distillationLoss: temperatures must be > 0 (got gold ${tg}, score ${ts})`);
  const [q, p] = scores.shape;
  return tf.tidy(() => {
    const s = scores.toFloat();
    const g = stopGradient(gold.toFloat());
    switch (variant) {
      case 'kl_repo':
      case 'kl_sum':
      case 'kl_batchmean': {
        // log g from log_softmax so that a vanishing g gives g*log g = 0 rather than 0*(-inf).
        const logG = tf.logSoftmax(tg === 1 ? g : tf.div(g, tg));
        const logS = tf.logSoftmax(ts === 1 ? s : tf.div(s, ts));
        const total = tf.sum(tf.mul(tf.exp(logG), tf.sub(logG, logS)));
        const denom = variant === 'kl_repo' ? q * p : variant === 'kl_batchmean' ? q : 1;
        return (denom === 1 ? total : tf.div(total, denom)) as tf.Scalar;
      }
      case 'mse_sum':
      case 'mse_mean': {
        const total = tf.sum(tf.square(tf.sub(s, g)));
        return (variant === 'mse_mean' ? tf.div(total, q * p) : total) as tf.Scalar;
      }
      default:
        return marginLoss(s, g, variant, gamma, q, p);
    }
  });
}

/** Pairwise hinge losses over [Q, P, P] pair tensors; pair (i, j) compares passage i with passage j. */
function marginLoss(s: tf.Tensor2D, g: tf.Tensor2D, variant: DistillationVariant, gamma: number, q: number, p: number): tf.Scalar {
  const dS = tf.sub(tf.expandDims(s, 2), tf.expandDims(s, 1)); // S_i - S_j
  const dG = tf.sub(tf.expandDims(g, 2), tf.expandDims(g, 1));
  const sign = tf.sign(dG); // sign(0) = 0: tied pairs (and i == j) add the constant gamma
  const hinge = tf.relu(tf.sub(gamma, tf.mul(sign, dS)));
  switch (variant) {
    case 'margin_all_pairs_sum':
      return tf.sum(hinge);
    case 'margin_all_pairs_mean':
      return tf.div(tf.sum(hinge), q * p * p);
    case 'margin_distinct_pairs_mean': {
      // One passage: no distinct pair; 0, kept connected to S so that tf.grad yields zeros.
      if (p < 2) return tf.mul(tf.sum(s), 0) as tf.Scalar;
      const offDiag = tf.sub(1, tf.eye(p)).expandDims(0);
      return tf.div(tf.sum(tf.mul(hinge, offDiag)), q * p * (p - 1));
    }
    case 'margin_ordered_pos_pairs_sum':
    case 'margin_ordered_pos_pairs_mean': {
      // tf.step (1 where > 0) rather than tf.greater: it has a (zero) gradient, so differentiating w.r.t. G works.
      const pos = tf.step(dG);
      const total = tf.sum(tf.mul(hinge, pos));
      if (variant === 'margin_ordered_pos_pairs_sum') return total as tf.Scalar;
      // No pair with G_i > G_j (all gold tied): the loss is 0, not 0/0.
      const count = tf.maximum(tf.sum(pos), 1);
      return tf.div(total, count);
    }
    default:
      throw new Error(`distillationLoss: unhandled variant ${variant}`);
  }
}
