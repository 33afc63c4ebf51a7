import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, loadTrainingCheckpoint, saveTrainingCheckpoint } from '@fidkd/core';
import { BiEncoder } from '@fidkd/bi-encoder';
import type { StageContext } from '../runner/stage-runner.js';
import { checkFiniteStep } from './diverged.js';
import { RecentLosses } from './recent-losses.js';

export interface RetrieverLoopSettings {
  lr: number;
  weight_decay: number;
  total_steps: number;
  checkpoint_every: number;
  clip: number;
}

/**
 * The retriever training loop shared by pretrain-retriever and train-retriever: resumes from the stage's
 * mid-stage checkpoint when one exists (else builds the model with `create`), runs `step` for every remaining
 * optimizer step, checkpoints every `checkpoint_every` steps, then writes the model (HF layout) and the tokenizer
 * into the stage's output. Stops at the first non-finite loss or gradient norm (TrainingDivergedError, nothing
 * written). Returns the mean loss of the last 20 steps (restored on resume).
 */
export async function runRetrieverLoop(
  ctx: StageContext<unknown>,
  c: RetrieverLoopSettings,
  /** Config section named in divergence messages ('retriever', 'pretrain_retriever'). */
  section: string,
  create: () => BiEncoder,
  step: (model: BiEncoder, optimizer: AdamW, step: number) => Promise<{ loss: number; gradNorm: number; info: Record<string, number> }>,
): Promise<number> {
  const latest = join(ctx.checkpointDir, 'latest');
  const optimizer = new AdamW({ lr: c.lr, weightDecay: c.weight_decay });
  let model: BiEncoder;
  let start = 0;
  const tail = new RecentLosses();
  if (existsSync(latest) || existsSync(`${latest}.previous`)) {
    const ck = loadTrainingCheckpoint(latest);
    model = BiEncoder.fromCheckpoint({ dir: ck.dir, config: ck.config, weightsFile: join(ck.dir, 'model.safetensors'), tensors: ck.weights });
    optimizer.setState(ck.optimizerState, ck.optimizerStep);
    start = ck.step;
    tail.restore(ck.extra);
    ctx.log(`resuming from step ${start}`);
  } else {
    model = create();
  }
  const diverged = { stage: ctx.ref.stage, iteration: ctx.ref.iteration, section, lr: c.lr, clip: c.clip, init: start === 0 ? ctx.inputs.init : undefined, firstStep: start };
  try {
    for (let s = start; s < c.total_steps; s++) {
      const r = await step(model, optimizer, s);
      checkFiniteStep(diverged, s + 1, r.loss, r.gradNorm);
      tail.push(r.loss);
      ctx.step(s + 1, r.info, c.total_steps);
      if (c.checkpoint_every > 0 && (s + 1) % c.checkpoint_every === 0 && s + 1 < c.total_steps) {
        saveTrainingCheckpoint(latest, { weights: model.stateDict(), config: model.hfConfig(), optimizer, step: s + 1, extra: { recent_losses: tail.toJSON() } });
        ctx.checkpointSaved(s + 1, latest);
      }
      // Let progress events and signals through between steps.
      await new Promise((res) => setImmediate(res));
    }
    model.save(ctx.outDir);
    copyFileSync(ctx.inputs.tokenizer!, join(ctx.outDir, 'tokenizer.json'));
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  return tail.mean();
}
