// What the bundled library sources import from @fidkd/core, without the rest of it (checkpoint files, native
// backends): scripts/build-web.mjs resolves '@fidkd/core' to this file.
export * from '../../../../packages/core/src/backend/fused-kernels.js';
export * from '../../../../packages/core/src/progress.js';
export * from '../../../../packages/core/src/checkpoint/errors.js';
export type { ReaderBatch, TokenBatch } from '../../../../packages/core/src/batches.js';
export * from '../../../../packages/core/src/backend/sync-reads.js';
