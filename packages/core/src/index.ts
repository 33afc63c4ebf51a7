// @fidkd/core: backend selection, checkpoint I/O, training utilities and progress events shared by every package.
export * from './checkpoint/types.js';
export * from './checkpoint/errors.js';
export * from './progress.js';
export * from './fixture-tensor.js';
export * from './batches.js';
