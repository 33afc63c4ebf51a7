// @fidkd/bi-encoder: BERT bi-encoder retriever in tfjs: pooling, projection, batched embedding, HF and FiD Retriever checkpoints.
export { BiEncoder, type TextKind, type EmbedOptions, type EmbedPassagesOptions, type CreateOptions } from './bi-encoder.js';
export {
  configFromHf,
  configToHf,
  resolveConfig,
  DEFAULT_BERT_CONFIG,
  PROJECTION_LAYER_NORM_EPS,
  type BertActivation,
  type BertConfig,
  type RetrieverFlags,
  type BiEncoderConfig,
  type BiEncoderConfigInput,
} from './config.js';
export { bertForward, bertPooler, geluErf, FLOAT32_MIN, type BertInputs, type DropoutSpec, type ParameterMap } from './bert.js';
export { poolEmbeddings, ownPassageScores, type PoolingFlags } from './pooling.js';
export { RetrieverTrainer, type RetrieverTrainBatch, type RetrieverTrainOptions, type TrainStepResult } from './trainer.js';
export { runRetrieverParity, runRetrieverParityAsync, type RetrieverParityResult, type ParityLoss } from './parity.js';
export { detectLayout, parameterShapes, storedName, LAYOUT_PREFIX, type CheckpointLayout } from './weights.js';
