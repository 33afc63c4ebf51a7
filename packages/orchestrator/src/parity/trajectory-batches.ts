/**
 * The fixed batches of a training-parity run (`fidkd parity CHECKPOINT --train-steps N`): seeded random token ids,
 * masks, labels or teacher scores for N optimizer steps of `accumulation_steps` micro-batches each, with the
 * optimizer and loss settings, in one JSON file (`FILE.batches.json`) that the PyTorch reference
 * (tests/trajectories/torch_reference.py) replays. Tensors use the fixtures' {dims, shape, dtype, data} layout.
 */
import { readFileSync } from 'node:fs';
import { SeededRandom, fixtureData, fixtureTensor, isFixtureTensor, type FixtureTensor, type ReaderBatch, type TokenBatch } from '@fidkd/core';
import { DataFormatError } from '@fidkd/data';
import { resolveDistillationVariant, type DistillationVariant } from '@fidkd/losses';
import type { RetrieverBatch } from '../stages/retriever-step.js';

export const TRAJECTORY_FORMAT = 'fidkd-trajectory/1';

/** torch.optim.AdamW's settings, FiD's linear schedule and the update's clipping and accumulation. */
export interface TrajectoryOptimizer {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weight_decay: number;
  /** FiD's WarmupLinearScheduler: 0 → 1 over warmup_steps, then 1 → 0 at scheduler_steps. */
  warmup_steps: number;
  scheduler_steps: number;
  /** clip_grad_norm_'s max_norm (0: no clipping). */
  clip: number;
  /** Micro-batches per update; their gradients are averaged. */
  accumulation_steps: number;
}

/** The retriever's loss (see @fidkd/losses and the orchestrator's retrieverStep). */
export interface TrajectoryLoss {
  variant: DistillationVariant;
  gamma: number;
  temperature_gold: number;
  temperature_score: number;
  /** Score every passage of the micro-batch (others' passages as negatives); ignored by MSE. */
  in_batch_negatives: boolean;
}

export type TrajectoryKind = 'reader' | 'retriever';

/** A parsed batches file. */
export interface TrajectoryBatches {
  kind: TrajectoryKind;
  seed: number;
  optimizer: TrajectoryOptimizer;
  /** Retriever only. */
  loss?: TrajectoryLoss;
  /** Per optimizer step, its micro-batches (ReaderBatch for a reader, RetrieverBatch for a retriever). */
  steps: ReaderBatch[][] | RetrieverBatch[][];
}

/** What `fidkd parity --train-steps` lets a user choose; every field has a default. */
export interface TrajectoryOptions {
  trainSteps: number;
  seed?: number;
  lr?: number;
  weightDecay?: number;
  warmupSteps?: number;
  /** Default trainSteps (the learning rate reaches 0 after the last update). */
  schedulerSteps?: number;
  clip?: number;
  accumulationSteps?: number;
  batchSize?: number;
  nContext?: number;
  /** Reader: tokens per passage; retriever: passage tokens. */
  textMaxlength?: number;
  /** Reader: target positions. */
  answerLength?: number;
  /** Retriever: question tokens. */
  questionMaxlength?: number;
  loss?: string;
  gamma?: number;
  temperatureGold?: number;
  temperatureScore?: number;
  inBatchNegatives?: boolean;
}

/** The model facts batch generation needs (vocabulary, special ids, position limit). */
export interface TrajectoryModelFacts {
  kind: TrajectoryKind;
  vocabSize: number;
  padId: number;
  /** Reader: end of each passage and target. */
  eosId?: number;
  /** Retriever: max_position_embeddings. */
  maxPositions?: number;
}

function positiveInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, got ${v}`);
  return v;
}

function nonNegative(v: number, what: string): number {
  if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${what} must be a finite number >= 0, got ${v}`);
  return v;
}

/** Optimizer settings from options, with the defaults (lr 1e-3, weight decay 0.1, 2 warmup steps, clip 1, 2 micro-batches). */
function optimizerOf(o: TrajectoryOptions): TrajectoryOptimizer {
  const steps = positiveInt(o.trainSteps, '--train-steps');
  return {
    lr: nonNegative(o.lr ?? 1e-3, '--lr'),
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weight_decay: nonNegative(o.weightDecay ?? 0.1, '--weight-decay'),
    warmup_steps: nonNegative(o.warmupSteps ?? Math.min(2, steps - 1), '--warmup-steps'),
    scheduler_steps: positiveInt(o.schedulerSteps ?? steps, '--scheduler-steps'),
    clip: nonNegative(o.clip ?? 1, '--clip'),
    accumulation_steps: positiveInt(o.accumulationSteps ?? 2, '--accumulation-steps'),
  };
}

/** Ids of a row of `length` positions with `used` real tokens: random content, `last` at the end if given, pad after. */
function tokenRow(rng: SeededRandom, length: number, used: number, m: TrajectoryModelFacts, last?: number): { ids: number[]; mask: number[] } {
  const special = new Set([m.padId, m.eosId ?? -1]);
  const content = Array.from({ length: m.vocabSize }, (_, i) => i).filter((i) => !special.has(i));
  const ids: number[] = [];
  for (let t = 0; t < length; t++) {
    if (t >= used) ids.push(m.padId);
    else if (t === used - 1 && last !== undefined) ids.push(last);
    else ids.push(rng.pick(content));
  }
  return { ids, mask: ids.map((_, t) => (t < used ? 1 : 0)) };
}

/** Between half the width and all of it, at least `min`. */
const usedLength = (rng: SeededRandom, width: number, min = 1): number => rng.range(Math.min(width, Math.max(min, Math.ceil(width / 2))), width);

function readerMicroBatch(rng: SeededRandom, m: TrajectoryModelFacts, b: number, n: number, l: number, t: number): ReaderBatch {
  const ids: number[] = [];
  const mask: number[] = [];
  for (let i = 0; i < b * n; i++) {
    const row = tokenRow(rng, l, usedLength(rng, l, 2), m, m.eosId);
    ids.push(...row.ids);
    mask.push(...row.mask);
  }
  const labels: number[] = [];
  for (let i = 0; i < b; i++) {
    const row = tokenRow(rng, t, usedLength(rng, t, 2), m, m.eosId);
    labels.push(...row.ids.map((id, k) => (row.mask[k] ? id : -100)));
  }
  return { inputIds: Int32Array.from(ids), attentionMask: Int32Array.from(mask), batchSize: b, nContext: n, textMaxlength: l, labels: Int32Array.from(labels), answerLength: t };
}

function tokenBatch(rng: SeededRandom, m: TrajectoryModelFacts, count: number, length: number): TokenBatch {
  const ids: number[] = [];
  const mask: number[] = [];
  for (let i = 0; i < count; i++) {
    const row = tokenRow(rng, length, usedLength(rng, length, 2), m);
    ids.push(...row.ids);
    mask.push(...row.mask);
  }
  return { ids: Int32Array.from(ids), mask: Int32Array.from(mask), count, length };
}

function retrieverMicroBatch(rng: SeededRandom, m: TrajectoryModelFacts, b: number, n: number, lq: number, lp: number): RetrieverBatch {
  const questions = tokenBatch(rng, m, b, lq);
  const passages = tokenBatch(rng, m, b * n, lp);
  // teacher scores on the scale of a reader's (a few units apart), exact in float32
  const gold = Float32Array.from({ length: b * n }, () => Math.fround(2 * rng.normal()));
  return { questions, passages, gold };
}

/** Seeded fixed batches and settings for `trainSteps` updates of a model with these facts. */
export function makeTrajectoryBatches(m: TrajectoryModelFacts, o: TrajectoryOptions): TrajectoryBatches {
  const optimizer = optimizerOf(o);
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`--seed must be an integer, got ${seed}`);
  const rng = new SeededRandom(seed);
  const b = positiveInt(o.batchSize ?? 2, '--batch-size');
  const micro = optimizer.accumulation_steps;
  if (m.kind === 'reader') {
    const n = positiveInt(o.nContext ?? 3, '--n-context');
    const l = positiveInt(o.textMaxlength ?? 12, '--text-maxlength');
    const t = positiveInt(o.answerLength ?? 6, '--answer-length');
    const steps = Array.from({ length: o.trainSteps }, () => Array.from({ length: micro }, () => readerMicroBatch(rng, m, b, n, l, t)));
    return { kind: 'reader', seed, optimizer, steps };
  }
  const n = positiveInt(o.nContext ?? 4, '--n-context');
  const limit = m.maxPositions ?? Infinity;
  const lq = Math.min(positiveInt(o.questionMaxlength ?? 8, '--question-maxlength'), limit);
  const lp = Math.min(positiveInt(o.textMaxlength ?? 16, '--text-maxlength'), limit);
  const loss: TrajectoryLoss = {
    variant: resolveDistillationVariant(o.loss ?? 'kl'),
    gamma: nonNegative(o.gamma ?? 1, '--gamma'),
    temperature_gold: o.temperatureGold ?? 1,
    temperature_score: o.temperatureScore ?? 1,
    in_batch_negatives: o.inBatchNegatives ?? false,
  };
  for (const [k, v] of [['--temperature-gold', loss.temperature_gold], ['--temperature-score', loss.temperature_score]] as const) {
    if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${k} must be a number > 0, got ${v}`);
  }
  const steps = Array.from({ length: o.trainSteps }, () => Array.from({ length: micro }, () => retrieverMicroBatch(rng, m, b, n, lq, lp)));
  return { kind: 'retriever', seed, optimizer, loss, steps };
}

const int64 = (data: ArrayLike<number>, shape: number[], dims: string[]): FixtureTensor => fixtureTensor(data, shape, dims, 'int64');

/** The JSON object of a batches file. */
export function trajectoryBatchesToJson(t: TrajectoryBatches): Record<string, unknown> {
  const steps = t.kind === 'reader'
    ? (t.steps as ReaderBatch[][]).map((micro) => micro.map((r) => ({
        input_ids: int64(r.inputIds, [r.batchSize, r.nContext, r.textMaxlength], ['batch', 'passage', 'token']),
        attention_mask: int64(r.attentionMask, [r.batchSize, r.nContext, r.textMaxlength], ['batch', 'passage', 'token']),
        labels: int64(r.labels!, [r.batchSize, r.answerLength!], ['batch', 'target_pos']),
      })))
    : (t.steps as RetrieverBatch[][]).map((micro) => micro.map((r) => {
        const b = r.questions.count;
        const n = r.passages.count / b;
        return {
          question_ids: int64(r.questions.ids, [b, r.questions.length], ['question', 'token']),
          question_mask: int64(r.questions.mask, [b, r.questions.length], ['question', 'token']),
          passage_ids: int64(r.passages.ids, [b, n, r.passages.length], ['question', 'passage', 'token']),
          passage_mask: int64(r.passages.mask, [b, n, r.passages.length], ['question', 'passage', 'token']),
          gold_scores: fixtureTensor(r.gold!, [b, n], ['question', 'passage'], 'float32'),
        };
      }));
  return {
    format: TRAJECTORY_FORMAT,
    kind: t.kind,
    seed: t.seed,
    train_steps: t.steps.length,
    optimizer: t.optimizer,
    ...(t.loss ? { loss: t.loss } : {}),
    steps,
  };
}

/** Reads and checks a batches file (from `fidkd parity --train-steps`, or committed with a fixture). */
export function readTrajectoryBatches(file: string): TrajectoryBatches {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw e;
    throw new DataFormatError(file, undefined, `not JSON (${(e as Error).message})`);
  }
  return parseTrajectoryBatches(raw, file);
}

/** Checks a parsed batches object; every problem names the field (`steps[3][1].labels`). */
export function parseTrajectoryBatches(raw: unknown, file = 'batches'): TrajectoryBatches {
  const fail = (msg: string): never => {
    throw new DataFormatError(file, undefined, msg);
  };
  if (typeof raw !== 'object' || raw === null) return fail('not a JSON object');
  const j = raw as Record<string, unknown>;
  if (j.format !== TRAJECTORY_FORMAT) fail(`"format" is ${JSON.stringify(j.format)}, expected "${TRAJECTORY_FORMAT}"`);
  const kind = j.kind;
  if (kind !== 'reader' && kind !== 'retriever') return fail(`"kind" must be "reader" or "retriever", got ${JSON.stringify(kind)}`);
  const o = j.optimizer as Record<string, unknown> | undefined;
  if (typeof o !== 'object' || o === null) return fail('"optimizer" is missing');
  const num = (obj: Record<string, unknown>, key: string, where: string): number => {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(`"${where}.${key}" must be a finite number, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const optimizer: TrajectoryOptimizer = {
    lr: num(o, 'lr', 'optimizer'), beta1: num(o, 'beta1', 'optimizer'), beta2: num(o, 'beta2', 'optimizer'), eps: num(o, 'eps', 'optimizer'),
    weight_decay: num(o, 'weight_decay', 'optimizer'), warmup_steps: num(o, 'warmup_steps', 'optimizer'),
    scheduler_steps: num(o, 'scheduler_steps', 'optimizer'), clip: num(o, 'clip', 'optimizer'), accumulation_steps: num(o, 'accumulation_steps', 'optimizer'),
  };
  let loss: TrajectoryLoss | undefined;
  if (kind === 'retriever') {
    const l = j.loss as Record<string, unknown> | undefined;
    if (typeof l !== 'object' || l === null) return fail('"loss" is missing (a retriever trajectory needs it)');
    let variant: DistillationVariant;
    try {
      variant = resolveDistillationVariant(String(l.variant));
    } catch (e) {
      return fail(`"loss.variant": ${(e as Error).message}`);
    }
    loss = {
      variant, gamma: num(l, 'gamma', 'loss'), temperature_gold: num(l, 'temperature_gold', 'loss'),
      temperature_score: num(l, 'temperature_score', 'loss'), in_batch_negatives: l.in_batch_negatives === true,
    };
  }
  if (!Array.isArray(j.steps) || j.steps.length === 0) return fail('"steps" must be a non-empty list of micro-batch lists');
  const tensor = (mb: Record<string, unknown>, key: string, where: string, rank: number): { t: FixtureTensor; data: number[] } => {
    const t = mb[key];
    if (!isFixtureTensor(t) || t.shape.length !== rank) return fail(`"${where}.${key}" must be a rank-${rank} {dims, shape, dtype, data} tensor`);
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== size) fail(`"${where}.${key}" has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    const data = fixtureData(t, key);
    if (data.some((v) => !Number.isFinite(v))) fail(`"${where}.${key}" holds a non-finite value`);
    return { t, data };
  };
  const steps = (j.steps as unknown[]).map((step, i) => {
    if (!Array.isArray(step) || step.length === 0) return fail(`"steps[${i}]" must be a non-empty list of micro-batches`);
    return step.map((mbRaw, k) => {
      const where = `steps[${i}][${k}]`;
      if (typeof mbRaw !== 'object' || mbRaw === null) return fail(`"${where}" is not an object`);
      const mb = mbRaw as Record<string, unknown>;
      if (kind === 'reader') {
        const ids = tensor(mb, 'input_ids', where, 3);
        const [b, n, l] = ids.t.shape as [number, number, number];
        const mask = tensor(mb, 'attention_mask', where, 3);
        if (mask.t.shape.join() !== ids.t.shape.join()) fail(`"${where}.attention_mask" has shape [${mask.t.shape}], input_ids [${ids.t.shape}]`);
        const labels = tensor(mb, 'labels', where, 2);
        if (labels.t.shape[0] !== b) fail(`"${where}.labels" has ${labels.t.shape[0]} rows for ${b} questions`);
        return { inputIds: Int32Array.from(ids.data), attentionMask: Int32Array.from(mask.data), batchSize: b, nContext: n, textMaxlength: l, labels: Int32Array.from(labels.data), answerLength: labels.t.shape[1]! } satisfies ReaderBatch;
      }
      const qi = tensor(mb, 'question_ids', where, 2);
      const [b, lq] = qi.t.shape as [number, number];
      const qm = tensor(mb, 'question_mask', where, 2);
      const pi = tensor(mb, 'passage_ids', where, 3);
      const [pb, n, lp] = pi.t.shape as [number, number, number];
      const pm = tensor(mb, 'passage_mask', where, 3);
      const gold = tensor(mb, 'gold_scores', where, 2);
      if (pb !== b || qm.t.shape.join() !== qi.t.shape.join() || pm.t.shape.join() !== pi.t.shape.join() || gold.t.shape.join() !== [b, n].join()) {
        fail(`"${where}": shapes disagree (question_ids [${qi.t.shape}], passage_ids [${pi.t.shape}], gold_scores [${gold.t.shape}])`);
      }
      return {
        questions: { ids: Int32Array.from(qi.data), mask: Int32Array.from(qm.data), count: b, length: lq },
        passages: { ids: Int32Array.from(pi.data), mask: Int32Array.from(pm.data), count: b * n, length: lp },
        gold: Float32Array.from(gold.data),
      } satisfies RetrieverBatch;
    });
  });
  const seed = typeof j.seed === 'number' ? j.seed : 0;
  return kind === 'reader'
    ? { kind, seed, optimizer, steps: steps as ReaderBatch[][] }
    : { kind, seed, optimizer, loss, steps: steps as RetrieverBatch[][] };
}
