/**
 * Training parity: N optimizer steps of a reader or retriever checkpoint on the fixed batches of a batches file,
 * through the training stages' own step functions (readerStep, retrieverStep: micro-batch gradients, their mean,
 * clip_grad_norm_, AdamW) and FiD's linear warmup/decay, without dropout. The record — per step loss, total
 * gradient norm, clipping coefficient and learning rate, every parameter at the end — is what
 * tests/trajectories/torch_reference.py writes from PyTorch for the same batches.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, CheckpointError, linearWarmupDecay, type ReaderBatch, type StateDict } from '@fidkd/core';
import { BiEncoder, storedName } from '@fidkd/bi-encoder';
import { FiDReader } from '@fidkd/fid-reader';
import { readerStep } from '../stages/reader-step.js';
import { retrieverStep, type RetrieverBatch } from '../stages/retriever-step.js';
import type { TrajectoryBatches, TrajectoryModelFacts } from './trajectory-batches.js';

/** One parameter at the end of a trajectory: shape and flat row-major values. */
export interface TrajectoryParameter {
  shape: number[];
  data: number[];
}

/** `fidkd parity --train-steps`'s output (and the PyTorch reference's). */
export interface TrajectoryRecord {
  /** Per optimizer step, the mean loss of its micro-batches. */
  losses: number[];
  /** Per step, the total L2 norm of the mean gradient before clipping. */
  grad_norms: number[];
  /** Per step, clip_grad_norm_'s factor (1: not clipped). */
  clip_coefficients: number[];
  /** Per step, the learning rate of the update (schedule applied). */
  lrs: number[];
  /** Per trained parameter, its gradient norm at each step (before clipping). */
  param_grad_norms?: Record<string, number[]>;
  /** Every parameter after the last step, by HF name (the checkpoint's layout for a retriever). */
  params: Record<string, TrajectoryParameter>;
  _meta?: Record<string, unknown>;
}

/** A loaded checkpoint of either kind. */
export type TrajectoryModel = { kind: 'reader'; reader: FiDReader } | { kind: 'retriever'; retriever: BiEncoder };

/** 't5' or 'bert' from a config.json object: model_type, else (official FiD checkpoints) architectures and keys. */
export function checkpointModelType(config: Record<string, unknown>): string | undefined {
  if (typeof config.model_type === 'string') return config.model_type;
  const arch = Array.isArray(config.architectures) ? config.architectures.join(' ') : '';
  if (/T5/.test(arch) || 'd_kv' in config || 'relative_attention_num_buckets' in config) return 't5';
  if (/Bert|Retriever/.test(arch) || 'indexing_dimension' in config || 'num_hidden_layers' in config) return 'bert';
  return undefined;
}

/** Loads a reader (model_type t5) or retriever (bert) checkpoint directory. */
export function loadTrajectoryModel(dir: string): TrajectoryModel {
  const cfgFile = join(dir, 'config.json');
  if (!existsSync(cfgFile)) throw new CheckpointError(dir, 'no config.json: give a Hugging Face checkpoint directory');
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(cfgFile, `not JSON (${(e as Error).message})`);
  }
  const type = checkpointModelType(config);
  if (type === 't5') return { kind: 'reader', reader: FiDReader.load(dir) };
  if (type === 'bert') return { kind: 'retriever', retriever: BiEncoder.load(dir) };
  throw new CheckpointError(cfgFile, `model_type "${String(type)}" is not supported by parity (expected "t5" for a reader or "bert" for a retriever)`);
}

export function disposeTrajectoryModel(m: TrajectoryModel): void {
  if (m.kind === 'reader') m.reader.dispose();
  else m.retriever.dispose();
}

/** What batch generation needs to know of the model. */
export function trajectoryModelFacts(m: TrajectoryModel): TrajectoryModelFacts {
  if (m.kind === 'reader') {
    const c = m.reader.config;
    return { kind: 'reader', vocabSize: c.vocab_size, padId: c.pad_token_id, eosId: c.eos_token_id };
  }
  const c = m.retriever.config.bert;
  return { kind: 'retriever', vocabSize: c.vocabSize, padId: c.padTokenId, maxPositions: c.maxPositionEmbeddings };
}

function paramsOf(sd: StateDict): Record<string, TrajectoryParameter> {
  const out: Record<string, TrajectoryParameter> = {};
  for (const [name, t] of sd) out[name] = { shape: [...t.shape], data: Array.from(t.data as Float32Array) };
  return out;
}

/**
 * Trains `m` (in place) for `trainSteps` updates (default: every step of the file) and returns the record. Stops
 * with an error naming the step at a non-finite loss or gradient norm.
 */
export async function runTrajectory(m: TrajectoryModel, batches: TrajectoryBatches, trainSteps = batches.steps.length): Promise<TrajectoryRecord> {
  if (batches.kind !== m.kind) throw new Error(`runTrajectory: the batches are for a ${batches.kind}, the checkpoint is a ${m.kind}`);
  if (!Number.isInteger(trainSteps) || trainSteps < 1 || trainSteps > batches.steps.length) {
    throw new RangeError(`--train-steps ${trainSteps}: the batches hold ${batches.steps.length} steps`);
  }
  const o = batches.optimizer;
  const optimizer = new AdamW({ lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weight_decay });
  const schedule = linearWarmupDecay({ warmupSteps: o.warmup_steps, totalSteps: o.scheduler_steps });
  const rec: TrajectoryRecord = { losses: [], grad_norms: [], clip_coefficients: [], lrs: [], param_grad_norms: {}, params: {} };
  const names = m.kind === 'reader' ? null : new Map([...m.retriever.parameters().keys()].map((k) => [k, storedName(k, m.retriever.layout)]));
  try {
    for (let step = 0; step < trainSteps; step++) {
      const lr = o.lr * schedule(step);
      const r = await (m.kind === 'reader'
        ? readerStep(m.reader, optimizer, batches.steps[step] as ReaderBatch[], { lr, clip: o.clip, dropout: 0, tensorNorms: true })
        : retrieverStep(m.retriever, optimizer, batches.steps[step] as RetrieverBatch[], {
            loss: batches.loss!.variant, gamma: batches.loss!.gamma, temperatureGold: batches.loss!.temperature_gold,
            temperatureScore: batches.loss!.temperature_score, inBatchNegatives: batches.loss!.in_batch_negatives, lr, clip: o.clip, tensorNorms: true,
          }));
      if (!Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm)) throw new Error(`step ${step + 1}: non-finite loss ${r.loss} or gradient norm ${r.gradNorm}`);
      rec.losses.push(r.loss);
      rec.grad_norms.push(r.gradNorm);
      rec.clip_coefficients.push(r.clipCoefficient);
      rec.lrs.push(lr);
      for (const [name, norm] of r.tensorNorms!) (rec.param_grad_norms![names?.get(name) ?? name] ??= []).push(norm);
    }
  } finally {
    optimizer.dispose();
  }
  rec.params = paramsOf(await (m.kind === 'reader' ? m.reader.stateDictAsync() : m.retriever.stateDictAsync()));
  return rec;
}
