// @fidkd/fid-reader: T5 Fusion-in-Decoder reader in tfjs: HF and official FiD checkpoints, loss, greedy generation,
// cross-attention relevance scores.
export { createT5Config, parseT5Config, toHfConfig, validateT5Config, type T5Config, type T5ConfigInit } from './config.js';
export { relativePositionBucket, bucketTable } from './position-bucket.js';
export { normalizeT5Name, resolveT5Weights, t5ParamSpecs, initT5Weights, type ParamSpec, type ResolvedWeights } from './weights.js';
export {
  FLOAT32_MIN,
  rmsNorm,
  positionBias,
  additiveMask,
  encoderForward,
  decoderForward,
  crossKeyValues,
  lmLogits,
  tokenCrossEntropy,
  type T5Params,
  type ForwardOptions,
  type KeyValue,
  type DecoderOutput,
} from './t5.js';
export { aggregatePassageScores, resolveScoreOptions, type PassageScoreOptions } from './passage-scores.js';
export {
  FiDReader,
  shiftRight,
  type GradientOptimizer,
  type ReaderTrainStepOptions,
  type ReaderTrainStepResult,
  type GenerationResult,
  type GenerateOptions,
  type ReaderForwardOutput,
} from './reader.js';
export { setFusedCpuKernels, usesFusedAttention, usesFusedCpuKernels } from './kernels.js';
export { runReaderParity, runReaderParityAsync, type ReaderParityInputs, type ReaderParityResult } from './parity.js';
