// @fidkd/orchestrator: the iterative reader-to-retriever distillation loop as resumable stages with manifests
// and typed events.
export * from './runner/index.js';
export * from './config.js';
export * from './config-merge.js';
export * from './did-you-mean.js';
export * from './pipeline.js';
export * from './stages/index.js';
export * from './synthetic/prepare.js';
export { trainingTarget, scheduleOf } from './stages/train-reader.js';
export { trainerLoss } from './stages/train-retriever.js';
export { readQuestions, writeQuestions, passageLookup, type PassageLookup } from './stages/io.js';
export { readerPretrainingStages, PRETRAIN_READER_KEYS, type ReaderPretrainingConfig } from './synthetic/pretrain-reader-stages.js';
export { CLOZE_CONTEXTS, clozeContextKinds, clozeOf, clozeExamples, type ClozeOptions, type ClozeContexts } from './synthetic/reader-cloze.js';
export { pretrainReaderStage, type PretrainReaderConfig } from './stages/pretrain-reader.js';
export * from './preflight.js';
export { checkPipelineData, type DataCheckOptions, type DataCheckSummary } from './data-check.js';
export { TrainingDivergedError, checkFiniteStep, type DivergenceContext } from './stages/diverged.js';
export { readerStep, type ReaderStepOptions } from './stages/reader-step.js';
export { accumulatedStep, type MicroBatchGradients, type OptimizerStepOptions, type OptimizerStepResult } from './stages/optimizer-step.js';
export * from './parity/trajectory-batches.js';
export * from './parity/trajectory.js';
export * from './parity/compare-trajectories.js';
