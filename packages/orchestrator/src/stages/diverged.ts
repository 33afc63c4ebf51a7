/**
 * A training stage stops at the first non-finite loss or gradient norm (as mature trainers do): a NaN model
 * written and scored would only fail stages later, far from its cause. Nothing is written when this is thrown.
 */
export class TrainingDivergedError extends Error {
  constructor(
    readonly stage: string,
    readonly iteration: number | string,
    readonly step: number,
    message: string,
  ) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}

/** What the check needs to know to name the likely cause. */
export interface DivergenceContext {
  stage: string;
  iteration: number | string;
  /** The config key prefix of the stage's settings ('reader', 'retriever', 'pretrain_retriever'). */
  section: string;
  lr: number;
  clip: number;
  /** The initial checkpoint the stage started from, if any. */
  init?: string;
  /** The first step this process ran (a resumed stage starts past 0). */
  firstStep: number;
}

/** Throws a TrainingDivergedError when `loss` or `gradNorm` (when known) is NaN or ±Infinity at 1-based `step`. */
export function checkFiniteStep(c: DivergenceContext, step: number, loss: number, gradNorm?: number): void {
  const lossBad = !Number.isFinite(loss);
  const normBad = gradNorm !== undefined && !Number.isFinite(gradNorm);
  if (!lossBad && !normBad) return;
  const what = lossBad ? `loss is ${loss}` : `gradient norm is ${gradNorm}`;
  const causes: string[] = [];
  const firstStep = step === c.firstStep + 1;
  if (firstStep) causes.push(c.init ? `non-finite initial weights in ${c.init}` : 'non-finite values in the batch or initial weights');
  causes.push(`a learning rate too high (${c.section}.lr = ${c.lr})`);
  if (!(c.clip > 0)) causes.push(`no gradient clipping (${c.section}.clip = ${c.clip})`);
  throw new TrainingDivergedError(
    c.stage, c.iteration, step,
    `${c.stage} (iteration ${c.iteration}) diverged at step ${step}: ${what}. Likely cause: ${causes.join(', or ')}. ` +
      'Training stopped; no model was written and no later stage ran.',
  );
}
