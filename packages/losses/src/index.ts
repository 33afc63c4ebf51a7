// @fidkd/losses: KL / MSE / max-margin distillation losses and the answer-string supervised baseline.
export {
  distillationLoss,
  resolveDistillationVariant,
  DISTILLATION_VARIANTS,
  FAMILY_DEFAULTS,
  type DistillationVariant,
  type DistillationFamily,
  type DistillationLossOptions,
} from './distillation.js';
export { answerSupervisedLoss } from './answer-supervised.js';
export { stopGradient } from './stop-gradient.js';
