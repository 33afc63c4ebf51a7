import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, loadTrainingCheckpoint, saveTrainingCheckpointAsync, type StateDict } from '@fidkd/core';
import type { StageContext } from '../runner/stage-runner.js';
import { checkFiniteStep } from './diverged.js';
import { RecentLosses } from './recent-losses.js';

export interface TrainingLoopSettings {
  lr: number;
  weight_decay: number;
  total_steps: number;
  checkpoint_every: number;
  clip: number;
}

/** What the loop needs of a model kind (FiD reader, bi-encoder): build, restore, save. */
export interface TrainableKind<M> {
  create(): M;
  /** The model of a mid-stage checkpoint (loadTrainingCheckpoint's result). */
  restore(ck: ReturnType<typeof loadTrainingCheckpoint>): M;
  /** The weights (read asynchronously: every backend, webgpu included). */
  stateDict(model: M): Promise<StateDict>;
  hfConfig(model: M): object;
  save(model: M, dir: string): Promise<void>;
  dispose(model: M): void;
}

/**
 * The training loop of every training stage (train-reader, pretrain-reader, train-retriever, pretrain-retriever):
 * resumes from the stage's mid-stage checkpoint when one exists (else builds the model), runs `step` for every
 * remaining optimizer step, checkpoints every `checkpoint_every` steps (with the window of recent losses), then
 * writes the model (HF layout) and the tokenizer into the stage's output. Stops at the first non-finite loss or
 * gradient norm (TrainingDivergedError, nothing written). Returns the mean loss of the last 20 steps.
 */
export async function runTrainingLoop<M>(
  ctx: StageContext<unknown>,
  c: TrainingLoopSettings,
  /** Config section named in divergence messages ('reader', 'retriever', 'pretrain_retriever'). */
  section: string,
  kind: TrainableKind<M>,
  step: (model: M, optimizer: AdamW, step: number) => Promise<{ loss: number; gradNorm?: number; info: Record<string, number> }>,
): Promise<number> {
  const latest = join(ctx.checkpointDir, 'latest');
  const optimizer = new AdamW({ lr: c.lr, weightDecay: c.weight_decay });
  let model: M;
  let start = 0;
  const tail = new RecentLosses();
  if (existsSync(latest) || existsSync(`${latest}.previous`)) {
    const ck = loadTrainingCheckpoint(latest);
    model = kind.restore(ck);
    optimizer.setState(ck.optimizerState, ck.optimizerStep);
    start = ck.step;
    tail.restore(ck.extra);
    ctx.log(`resuming from step ${start}`);
  } else {
    model = kind.create();
  }
  const diverged = { stage: ctx.ref.stage, iteration: ctx.ref.iteration, section, lr: c.lr, clip: c.clip, init: start === 0 ? ctx.inputs.init : undefined, firstStep: start };
  try {
    for (let s = start; s < c.total_steps; s++) {
      const r = await step(model, optimizer, s);
      checkFiniteStep(diverged, s + 1, r.loss, r.gradNorm);
      tail.push(r.loss);
      ctx.step(s + 1, r.info, c.total_steps);
      if (c.checkpoint_every > 0 && (s + 1) % c.checkpoint_every === 0 && s + 1 < c.total_steps) {
        await saveTrainingCheckpointAsync(latest, { weights: await kind.stateDict(model), config: kind.hfConfig(model), optimizer, step: s + 1, extra: { recent_losses: tail.toJSON() } });
        ctx.checkpointSaved(s + 1, latest);
      }
      await new Promise((res) => setImmediate(res)); // let signals and progress rendering through
    }
    await kind.save(model, ctx.outDir);
    copyFileSync(ctx.inputs.tokenizer!, join(ctx.outDir, 'tokenizer.json'));
  } finally {
    optimizer.dispose();
    kind.dispose(model);
  }
  return tail.mean();
}
