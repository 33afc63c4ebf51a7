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
export { embedPassagesWith, embedQuestionsWith, type EmbedChunk, type PassageSource } from './embed-stream.js';
export {
  exportRetrieverOnnx,
  retrieverOnnx,
  retrieverOnnxBytes,
  readRetrieverWeights,
  biEncoderWeights,
  ONNX_OPSET,
  ONNX_IO,
  type RetrieverWeights,
  type RetrieverOnnx,
  type RetrieverOnnxOptions,
} from './onnx-export.js';
export { encodeOnnxModel, type OnnxModel, type OnnxGraph, type OnnxNode, type OnnxTensor, type OnnxValueInfo, type OnnxAttribute } from './onnx-proto.js';
export {
  OrtEmbedder,
  loadOnnxRuntime,
  isOnnxRuntimeAvailable,
  ONNXRUNTIME_PACKAGE,
  ONNXRUNTIME_INSTALL,
  type OrtEmbedderOptions,
  type OrtModule,
  type OrtSession,
  type OrtTensor,
} from './ort-embedder.js';
export {
  EMBED_BACKENDS,
  isEmbedBackendChoice,
  resolveEmbedBackend,
  loadEmbedder,
  type EmbedBackend,
  type EmbedBackendChoice,
  type TextEmbedder,
} from './embed-backend.js';
