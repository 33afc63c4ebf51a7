import { join } from 'node:path';
import type { AdamW } from '@fidkd/core';
import { FiDReader, parseT5Config, toHfConfig } from '@fidkd/fid-reader';
import type { StageContext } from '../runner/stage-runner.js';
import { runTrainingLoop, type TrainingLoopSettings } from './training-loop.js';

/** The training loop (runTrainingLoop) for a FiD reader: train-reader and pretrain-reader. */
export function runReaderLoop(
  ctx: StageContext<unknown>,
  c: TrainingLoopSettings,
  section: string,
  create: () => FiDReader,
  step: (reader: FiDReader, optimizer: AdamW, step: number) => Promise<{ loss: number; gradNorm?: number; info: Record<string, number> }>,
): Promise<number> {
  return runTrainingLoop(ctx, c, section, {
    create,
    restore: (ck) => FiDReader.fromStateDict(parseT5Config(ck.config, join(ck.dir, 'config.json')), ck.weights, ck.dir),
    stateDict: (r) => r.stateDictAsync(),
    hfConfig: (r) => toHfConfig(r.config),
    save: (r, dir) => r.saveAsync(dir),
    dispose: (r) => r.dispose(),
  }, step);
}
