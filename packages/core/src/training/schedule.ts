/** Options of {@link linearWarmupDecay} (FiD's `--warmup_steps`, `--total_steps` / `--scheduler_steps`). */
export interface LinearWarmupDecayOptions {
  warmupSteps: number;
  /** Step at which the multiplier reaches `minRatio` (FiD: `scheduler_steps`, defaulting to `total_steps`). */
  totalSteps: number;
  /** Multiplier at step 0 and at `totalSteps` (default 0). */
  minRatio?: number;
  /** Stay at 1 after the warm-up instead of decaying (FiD `--fixed_lr`). Default false. */
  fixedLr?: boolean;
}

/**
 * FiD's `WarmupLinearScheduler` (src/util.py) as a multiplier of the base learning rate:
 *
 *     step < warmup:  (1 − minRatio)·step / max(1, warmup) + minRatio
 *     otherwise:      max(0, 1 + (minRatio − 1)·(step − warmup) / max(1, total − warmup))   (1 if fixedLr)
 *
 * `step` is the number of updates already made (PyTorch's LambdaLR `last_epoch`), so update number 0 uses
 * multiplier(0) — which is `minRatio`, i.e. 0 by default, exactly as in FiD.
 */
export function linearWarmupDecay(options: LinearWarmupDecayOptions): (step: number) => number {
  const { warmupSteps, totalSteps } = options;
  const minRatio = options.minRatio ?? 0;
  const fixedLr = options.fixedLr ?? false;
  if (!Number.isFinite(warmupSteps) || warmupSteps < 0) throw new RangeError(`linearWarmupDecay: warmupSteps must be >= 0, got ${warmupSteps}`);
  if (!Number.isFinite(totalSteps) || totalSteps < 0) throw new RangeError(`linearWarmupDecay: totalSteps must be >= 0, got ${totalSteps}`);
  if (!(minRatio >= 0 && minRatio <= 1)) throw new RangeError(`linearWarmupDecay: minRatio must be in [0, 1], got ${minRatio}`);
  return (step: number): number => {
    if (step < warmupSteps) return ((1 - minRatio) * step) / Math.max(1, warmupSteps) + minRatio;
    if (fixedLr) return 1;
    return Math.max(0, 1 + ((minRatio - 1) * (step - warmupSteps)) / Math.max(1, totalSteps - warmupSteps));
  };
}
