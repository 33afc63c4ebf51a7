// The README's example, as written there (paths aside): it must keep running and do what it says.
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW, linearWarmupDecay, type ReaderBatch } from '@fidkd/core';
import { FiDReader } from './index.js';

test('README example: a tiny reader memorises one answer, generates it, scores passages, saves', async () => {
  await tf.setBackend('cpu');
  const reader = FiDReader.create({ vocab_size: 64, d_model: 32, d_kv: 8, num_heads: 4, d_ff: 64, num_layers: 2, dropout_rate: 0 }, { seed: 0 });
  const batch: ReaderBatch = {
    inputIds: Int32Array.from([5, 9, 12, 30, 1, 0, 5, 9, 40, 41, 42, 1]),
    attentionMask: Int32Array.from([1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]),
    batchSize: 1,
    nContext: 2,
    textMaxlength: 6,
    labels: Int32Array.from([7, 1]),
    answerLength: 2,
  };
  const optimizer = new AdamW({ lr: 1e-3, weightDecay: 0.01 });
  const schedule = linearWarmupDecay({ warmupSteps: 10, totalSteps: 100 });
  const before = reader.loss(batch);
  for (let step = 0; step < 100; step++) reader.trainStep(batch, { optimizer, lr: 1e-3 * schedule(step), maxGradNorm: 1 });
  expect(reader.loss(batch)).toBeLessThan(before / 5);
  const gen = reader.generate(batch, { maxNewTokens: 5 });
  expect(Array.from(gen.ids)).toEqual([0, 7, 1]);
  expect(reader.passageScores(batch)).toHaveLength(2);
  const dir = mkdtempSync(join(tmpdir(), 'fid-reader-readme-'));
  try {
    reader.save(dir);
    const again = FiDReader.load(dir);
    expect(Array.from(again.generate(batch, { maxNewTokens: 5 }).ids)).toEqual([0, 7, 1]);
    again.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  optimizer.dispose();
  reader.dispose();
});
