// @fidkd/core: backend selection, checkpoint I/O, training utilities and progress events shared by every package.
export * from './checkpoint/types.js';
export * from './checkpoint/errors.js';
export * from './progress.js';
export * from './fixture-tensor.js';
export * from './batches.js';
export * from './backend/init-backend.js';
export * from './checkpoint/safetensors.js';
export * from './checkpoint/pytorch.js';
export * from './checkpoint/hf-config.js';
export * from './checkpoint/load.js';
export { DTYPES, dtypeSize, isDType, decodeF16, decodeBF16, f32ToF16Bits, f32ToBF16Bits } from './checkpoint/dtypes.js';
export * from './training/adamw.js';
export * from './training/schedule.js';
export * from './training/clip-grad-norm.js';
export * from './training/gradient-accumulator.js';
export * from './training/state-dict.js';
export * from './training/training-checkpoint.js';
export { registerFastKernels } from './backend/fast-kernels.js';
