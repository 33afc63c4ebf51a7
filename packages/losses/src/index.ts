// @fidkd/losses: KL / MSE / max-margin distillation losses and the answer-string supervised baseline.
export {};
