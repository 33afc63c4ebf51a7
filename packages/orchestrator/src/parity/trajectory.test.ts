import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AdamW, initBackend, type ReaderBatch } from '@fidkd/core';
import { BiEncoder } from '@fidkd/bi-encoder';
import { FiDReader } from '@fidkd/fid-reader';
import { readerStep } from '../stages/reader-step.js';
import { adamStepBound, compareTrajectories } from './compare-trajectories.js';
import { makeTrajectoryBatches, parseTrajectoryBatches, readTrajectoryBatches, trajectoryBatchesToJson } from './trajectory-batches.js';
import { runTrajectory, trajectoryModelFacts, type TrajectoryRecord } from './trajectory.js';

const t5 = { vocab_size: 20, d_model: 8, d_kv: 4, num_heads: 2, d_ff: 12, num_layers: 1, dropout_rate: 0 };
let dir: string;
beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
  dir = mkdtempSync(join(tmpdir(), 'fidkd-trajectory-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('accumulation: two identical micro-batches make the same update as one (their mean gradient), leaking nothing', async () => {
  const facts = { kind: 'reader' as const, vocabSize: 20, padId: 0, eosId: 1 };
  const batch = makeTrajectoryBatches(facts, { trainSteps: 1, accumulationSteps: 1 }).steps[0]![0] as ReaderBatch;
  const run = async (micro: ReaderBatch[]) => {
    const reader = FiDReader.create(t5, { seed: 3 });
    const opt = new AdamW({ lr: 1e-2, weightDecay: 0.1 });
    const before = tf.memory().numTensors;
    const r = await readerStep(reader, opt, micro, { lr: 1e-2, clip: 0.5, dropout: 0, tensorNorms: true });
    const after = tf.memory().numTensors;
    const params = reader.stateDict();
    opt.dispose();
    reader.dispose();
    return { r, params, grew: after - before };
  };
  const one = await run([batch]);
  const two = await run([batch, batch]);
  expect(two.r.loss).toBeCloseTo(one.r.loss, 6);
  expect(two.r.gradNorm).toBeCloseTo(one.r.gradNorm, 6);
  expect(one.r.clipCoefficient).toBeLessThan(1);
  expect(two.r.clipCoefficient).toBeCloseTo(one.r.clipCoefficient, 6);
  for (const [name, t] of one.params) {
    const other = two.params.get(name)!.data as Float32Array;
    (t.data as Float32Array).forEach((v, i) => expect(Math.abs(v - other[i]!)).toBeLessThan(1e-6));
  }
  expect(one.grew).toBe(2 * one.params.size); // AdamW's two moments per parameter, nothing else
  expect(two.grew).toBe(one.grew);
  expect([...one.r.tensorNorms!.keys()].sort()).toEqual([...one.params.keys()].sort());
});

test('batches: seeded, within the vocabulary and the position limit, and round-tripped through JSON', () => {
  const facts = { kind: 'retriever' as const, vocabSize: 30, padId: 0, maxPositions: 10 };
  const a = makeTrajectoryBatches(facts, { trainSteps: 3, seed: 5, inBatchNegatives: true, loss: 'margin' });
  expect(trajectoryBatchesToJson(makeTrajectoryBatches(facts, { trainSteps: 3, seed: 5, inBatchNegatives: true, loss: 'margin' }))).toEqual(trajectoryBatchesToJson(a));
  expect(trajectoryBatchesToJson(makeTrajectoryBatches(facts, { trainSteps: 3, seed: 6 }))).not.toEqual(trajectoryBatchesToJson(a));
  expect(a.loss).toEqual({ variant: 'margin_all_pairs_sum', gamma: 1, temperature_gold: 1, temperature_score: 1, in_batch_negatives: true });
  expect(a.optimizer).toMatchObject({ accumulation_steps: 2, warmup_steps: 2, scheduler_steps: 3, clip: 1 });
  const mb = a.steps[0]![0] as { questions: { ids: Int32Array; length: number }; passages: { ids: Int32Array; mask: Int32Array; length: number } };
  expect(mb.passages.length).toBe(10); // 16 asked for, cut to max_position_embeddings
  expect(Math.max(...mb.passages.ids)).toBeLessThan(30);
  expect(mb.passages.mask.filter((m, i) => m === 0 && mb.passages.ids[i] !== 0)).toHaveLength(0);
  const file = join(dir, 'b.json');
  writeFileSync(file, JSON.stringify(trajectoryBatchesToJson(a)));
  expect(trajectoryBatchesToJson(readTrajectoryBatches(file))).toEqual(trajectoryBatchesToJson(a));
  expect(() => makeTrajectoryBatches(facts, { trainSteps: 0 })).toThrow(/--train-steps must be a positive integer/);
  expect(() => makeTrajectoryBatches(facts, { trainSteps: 2, loss: 'hinge' })).toThrow(/unknown variant 'hinge'/);
});

test('a malformed batches file is refused naming the file and the field', () => {
  const good = trajectoryBatchesToJson(makeTrajectoryBatches({ kind: 'reader', vocabSize: 20, padId: 0, eosId: 1 }, { trainSteps: 2 })) as Record<string, unknown>;
  const steps = good.steps as Record<string, unknown>[][];
  const broken = { ...good, steps: [steps[0], [{ ...steps[1]![0], labels: undefined }]] };
  expect(() => parseTrajectoryBatches(broken, 'x.batches.json')).toThrow(/x\.batches\.json: "steps\[1\]\[0\]\.labels" must be a rank-2/);
  expect(() => parseTrajectoryBatches({ ...good, format: 'v0' }, 'x.json')).toThrow(/"format" is "v0"/);
  expect(() => parseTrajectoryBatches({ ...good, optimizer: { ...(good.optimizer as object), lr: 'fast' } }, 'x.json')).toThrow(/"optimizer\.lr" must be a finite number/);
  writeFileSync(join(dir, 'bad.json'), '{"format": ');
  expect(() => readTrajectoryBatches(join(dir, 'bad.json'))).toThrow(/bad\.json: not JSON/);
});

describe('comparison', () => {
  let ref: TrajectoryRecord;
  beforeAll(async () => {
    const model = BiEncoder.create({ bert: { vocabSize: 30, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 20 } }, { seed: 1 });
    const batches = makeTrajectoryBatches(trajectoryModelFacts({ kind: 'retriever', retriever: model }), { trainSteps: 4, seed: 2 });
    ref = await runTrajectory({ kind: 'retriever', retriever: model }, batches);
    model.dispose();
  });
  const clone = (): TrajectoryRecord => JSON.parse(JSON.stringify(ref)) as TrajectoryRecord;

  test('a trajectory agrees with itself; the key biases (exact gradient 0) are recognised as rounding noise', () => {
    const c = compareTrajectories(clone(), ref);
    expect(c.ok).toBe(true);
    expect(c.noiseTensors).toEqual(['encoder.layer.0.attention.self.key.bias']);
    expect(c.firstDifference).toBeNull();
  });

  test('the first differing step and quantity are named', () => {
    const a = clone();
    a.losses[2]! *= 1 + 3e-5;
    a.grad_norms[3]! *= 1 + 3e-5;
    const c = compareTrajectories(a, ref);
    expect(c.ok).toBe(false);
    expect(c.firstDifference).toMatch(/^step 3: loss .* \(relative 3\.00e-5 > 0\.00001\)/);
    const b = clone();
    b.param_grad_norms!['encoder.layer.0.output.dense.weight']![1]! *= 1.01;
    expect(compareTrajectories(b, ref).firstDifference).toMatch(/^step 2: gradient of encoder\.layer\.0\.output\.dense\.weight has norm/);
  });

  test('parameters: an informative element beyond δ·Σlr fails naming tensor and element; noise tensors get AdamW\'s bound', () => {
    const sumLr = ref.lrs.reduce((s, x) => s + x, 0);
    const a = clone();
    a.params['embeddings.LayerNorm.bias']!.data[5]! += 2e-3 * sumLr;
    const c = compareTrajectories(a, ref);
    expect(c.firstDifference).toMatch(/^parameter embeddings\.LayerNorm\.bias\[5\] = .* vs reference/);
    const b = clone();
    b.params['encoder.layer.0.attention.self.key.bias']!.data[0]! += 0.5 * sumLr; // within 2·Σ lr_t·U_t
    expect(compareTrajectories(b, ref).ok).toBe(true);
    b.params['encoder.layer.0.attention.self.key.bias']!.data[0]! += 2 * sumLr;
    expect(compareTrajectories(b, ref).firstDifference).toMatch(/key\.bias\[0\]/);
    const d = clone();
    delete d.params['norm.weight'];
    d.params['pooler.dense.weight'] = { shape: [1], data: [0] };
    expect(compareTrajectories(d, ref).firstDifference).toMatch(/pooler\.dense\.weight has shape \[1\]/);
  });

  test("AdamW's step bound is 1 at the first step and about 1.04 by the tenth", () => {
    expect(adamStepBound(1, 0.9, 0.999)).toBeCloseTo(1, 12);
    expect(adamStepBound(10, 0.9, 0.999)).toBeGreaterThan(1.02);
    expect(adamStepBound(10, 0.9, 0.999)).toBeLessThan(1.06);
  });
});
