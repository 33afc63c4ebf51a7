import { join } from 'node:path';
import type { AdamW } from '@fidkd/core';
import { BiEncoder } from '@fidkd/bi-encoder';
import type { StageContext } from '../runner/stage-runner.js';
import { runTrainingLoop, type TrainingLoopSettings } from './training-loop.js';

/** The training loop (runTrainingLoop) for a bi-encoder: pretrain-retriever and train-retriever. */
export function runRetrieverLoop(
  ctx: StageContext<unknown>,
  c: TrainingLoopSettings,
  /** Config section named in divergence messages ('retriever', 'pretrain_retriever'). */
  section: string,
  create: () => BiEncoder,
  step: (model: BiEncoder, optimizer: AdamW, step: number) => Promise<{ loss: number; gradNorm: number; info: Record<string, number> }>,
): Promise<number> {
  return runTrainingLoop(ctx, c, section, {
    create,
    restore: (ck) => BiEncoder.fromCheckpoint({ dir: ck.dir, config: ck.config, weightsFile: join(ck.dir, 'model.safetensors'), tensors: ck.weights }),
    stateDict: (m) => m.stateDictAsync(),
    hfConfig: (m) => m.hfConfig(),
    save: (m, dir) => m.saveAsync(dir),
    dispose: (m) => m.dispose(),
  }, step);
}
