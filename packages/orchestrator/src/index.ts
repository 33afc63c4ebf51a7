// @fidkd/orchestrator: the iterative reader-to-retriever distillation loop as resumable stages with manifests
// and typed events.
export * from './runner/index.js';
export * from './config.js';
export * from './pipeline.js';
export * from './stages/index.js';
export * from './synthetic/prepare.js';
export { trainingTarget, scheduleOf } from './stages/train-reader.js';
export { trainerLoss } from './stages/train-retriever.js';
export { readQuestions, writeQuestions, passageLookup, type PassageLookup } from './stages/io.js';
export * from './preflight.js';
export { TrainingDivergedError, checkFiniteStep, type DivergenceContext } from './stages/diverged.js';
