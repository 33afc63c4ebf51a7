import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, loadTrainingCheckpoint, saveTrainingCheckpoint } from '@fidkd/core';
import { FiDReader, parseT5Config, toHfConfig } from '@fidkd/fid-reader';
import type { StageContext } from '../runner/stage-runner.js';
import { checkFiniteStep } from './diverged.js';
import { RecentLosses } from './recent-losses.js';

export interface ReaderLoopSettings {
  lr: number;
  weight_decay: number;
  total_steps: number;
  checkpoint_every: number;
  clip: number;
}

/**
 * The reader training loop shared by train-reader and pretrain-reader: resumes from the stage's mid-stage
 * checkpoint when one exists (else builds the reader with `create`), runs `step` for every remaining optimizer
 * step, checkpoints every `checkpoint_every` steps, then writes the reader (HF layout) and the tokenizer into the
 * stage's output. Stops at the first non-finite loss or gradient norm (TrainingDivergedError, nothing written).
 * Returns the mean loss of the last 20 steps (restored on resume).
 */
export async function runReaderLoop(
  ctx: StageContext<unknown>,
  c: ReaderLoopSettings,
  /** Config section named in divergence messages ('reader', 'reader' of pretrain-reader). */
  section: string,
  create: () => FiDReader,
  step: (reader: FiDReader, optimizer: AdamW, step: number) => Promise<{ loss: number; gradNorm?: number; info: Record<string, number> }>,
): Promise<number> {
  const latest = join(ctx.checkpointDir, 'latest');
  const optimizer = new AdamW({ lr: c.lr, weightDecay: c.weight_decay });
  let reader: FiDReader;
  let start = 0;
  const tail = new RecentLosses();
  if (existsSync(latest) || existsSync(`${latest}.previous`)) {
    const ck = loadTrainingCheckpoint(latest);
    reader = FiDReader.fromStateDict(parseT5Config(ck.config, join(ck.dir, 'config.json')), ck.weights, ck.dir);
    optimizer.setState(ck.optimizerState, ck.optimizerStep);
    start = ck.step;
    tail.restore(ck.extra);
    ctx.log(`resuming from step ${start}`);
  } else {
    reader = create();
  }
  const diverged = { stage: ctx.ref.stage, iteration: ctx.ref.iteration, section, lr: c.lr, clip: c.clip, init: start === 0 ? ctx.inputs.init : undefined, firstStep: start };
  try {
    for (let s = start; s < c.total_steps; s++) {
      const r = await step(reader, optimizer, s);
      checkFiniteStep(diverged, s + 1, r.loss, r.gradNorm);
      tail.push(r.loss);
      ctx.step(s + 1, r.info, c.total_steps);
      if (c.checkpoint_every > 0 && (s + 1) % c.checkpoint_every === 0 && s + 1 < c.total_steps) {
        saveTrainingCheckpoint(latest, { weights: reader.stateDict(), config: toHfConfig(reader.config), optimizer, step: s + 1, extra: { recent_losses: tail.toJSON() } });
        ctx.checkpointSaved(s + 1, latest);
      }
      await new Promise((res) => setImmediate(res)); // let signals and progress rendering through
    }
    reader.save(ctx.outDir);
    copyFileSync(ctx.inputs.tokenizer!, join(ctx.outDir, 'tokenizer.json'));
  } finally {
    reader.dispose();
    optimizer.dispose();
  }
  return tail.mean();
}
