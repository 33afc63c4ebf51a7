import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, loadTrainingCheckpoint, saveTrainingCheckpoint } from '@fidkd/core';
import { BiEncoder } from '@fidkd/bi-encoder';
import type { StageContext } from '../runner/stage-runner.js';

export interface RetrieverLoopSettings {
  lr: number;
  weight_decay: number;
  total_steps: number;
  checkpoint_every: number;
}

/**
 * The retriever training loop shared by pretrain-retriever and train-retriever: resumes from the stage's
 * mid-stage checkpoint when one exists (else builds the model with `create`), runs `step` for every remaining
 * optimizer step, checkpoints every `checkpoint_every` steps, then writes the model (HF layout) and the tokenizer
 * into the stage's output. Returns the mean loss of the last 20 steps.
 */
export async function runRetrieverLoop(
  ctx: StageContext<unknown>,
  c: RetrieverLoopSettings,
  create: () => BiEncoder,
  step: (model: BiEncoder, optimizer: AdamW, step: number) => Promise<{ loss: number; info: Record<string, number> }>,
): Promise<number> {
  const latest = join(ctx.checkpointDir, 'latest');
  const optimizer = new AdamW({ lr: c.lr, weightDecay: c.weight_decay });
  let model: BiEncoder;
  let start = 0;
  if (existsSync(latest) || existsSync(`${latest}.previous`)) {
    const ck = loadTrainingCheckpoint(latest);
    model = BiEncoder.fromCheckpoint({ dir: ck.dir, config: ck.config, weightsFile: join(ck.dir, 'model.safetensors'), tensors: ck.weights });
    optimizer.setState(ck.optimizerState, ck.optimizerStep);
    start = ck.step;
    ctx.log(`resuming from step ${start}`);
  } else {
    model = create();
  }
  const tail: number[] = [];
  try {
    for (let s = start; s < c.total_steps; s++) {
      const r = await step(model, optimizer, s);
      tail.push(r.loss);
      if (tail.length > 20) tail.shift();
      ctx.step(s + 1, r.info, c.total_steps);
      if (c.checkpoint_every > 0 && (s + 1) % c.checkpoint_every === 0 && s + 1 < c.total_steps) {
        saveTrainingCheckpoint(latest, { weights: model.stateDict(), config: model.hfConfig(), optimizer, step: s + 1 });
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
  return tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length);
}
