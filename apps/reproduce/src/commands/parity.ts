import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BACKEND_CHOICES, backendLines, initBackendChoice, isBackendChoice } from '@fidkd/core';
import {
  checkpointModelType,
  compareTrajectories,
  disposeTrajectoryModel,
  formatTrajectoryComparison,
  loadTrajectoryModel,
  makeTrajectoryBatches,
  readTrajectoryBatches,
  runTrajectory,
  trajectoryBatchesToJson,
  trajectoryModelFacts,
  writeJsonAtomic,
  type ComparableTrajectory,
  type TrajectoryOptions,
} from '@fidkd/orchestrator';
import { readJsonFile } from '../config-files.js';
import { action, UserError } from '../ui/errors.js';
import { isLossesInputs, runLossesParity } from './parity-losses.js';

interface ParityOptions {
  inputs?: string;
  out: string;
  backend: string;
  trainSteps?: string;
  batches?: string;
  seed?: string;
  loss?: string;
  temperatureGold?: string;
  temperatureScore?: string;
  gamma?: string;
  inBatchNegatives?: boolean;
  lr?: string;
  weightDecay?: string;
  warmupSteps?: string;
  schedulerSteps?: string;
  clip?: string;
  accumulationSteps?: string;
  batchSize?: string;
  nContext?: string;
  textMaxlength?: string;
  answerLength?: string;
  questionMaxlength?: string;
}

/** Options that shape generated batches (not allowed with --batches, which replays a file). */
const GENERATION: [keyof ParityOptions, keyof TrajectoryOptions][] = [
  ['seed', 'seed'], ['lr', 'lr'], ['weightDecay', 'weightDecay'], ['warmupSteps', 'warmupSteps'], ['schedulerSteps', 'schedulerSteps'],
  ['clip', 'clip'], ['accumulationSteps', 'accumulationSteps'], ['batchSize', 'batchSize'], ['nContext', 'nContext'],
  ['textMaxlength', 'textMaxlength'], ['answerLength', 'answerLength'], ['questionMaxlength', 'questionMaxlength'],
  ['gamma', 'gamma'], ['temperatureGold', 'temperatureGold'], ['temperatureScore', 'temperatureScore'],
];
const RETRIEVER_ONLY: (keyof ParityOptions)[] = ['loss', 'gamma', 'temperatureGold', 'temperatureScore', 'inBatchNegatives', 'questionMaxlength'];
const flag = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function number(value: string, name: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v)) throw new UserError(`${name} must be a number, got ${JSON.stringify(value)}`);
  return v;
}

/**
 * `fidkd parity <checkpoint-dir>`: with `--inputs inputs.json`, runs a reader (T5, model_type 't5') or retriever
 * (BERT, model_type 'bert') checkpoint on a fixture-style inputs.json and writes every field of the fixture's
 * expected.json (without a checkpoint, an inputs.json of the losses fixture (`cases`) gets the distillation
 * losses' outputs; every read is asynchronous: it runs on every backend, webgpu included); with `--train-steps N`, trains it N optimizer steps on fixed seeded batches (written to
 * FILE.batches.json, or replayed from `--batches`) and writes the trajectory (losses, gradient norms, clipping
 * coefficients, final parameters) for tests/trajectories/torch_reference.py to reproduce in PyTorch.
 * `fidkd parity-compare FILE REF` compares two trajectories.
 */
export function registerParity(program: Command): void {
  program
    .command('parity')
    .description('run a checkpoint (or the losses) on a fixture-style inputs.json (--inputs) or train it N steps on fixed batches (--train-steps), for comparison with PyTorch')
    .argument('[checkpoint-dir]', 'HF checkpoint directory (config.json + model.safetensors or pytorch_model.bin); none for the losses fixture')
    .requiredOption('--out <file>', 'where to write the outputs (JSON, atomically)')
    .option('--inputs <file>', 'inputs.json (fixture layout): write every expected.json field')
    .option('--train-steps <n>', 'train N optimizer steps and write the trajectory (FILE.batches.json holds the batches)')
    .option('--batches <file>', 'with --train-steps: replay these batches (a FILE.batches.json) instead of generating them')
    .option('--seed <n>', 'seed of the generated batches (default 0)')
    .option('--loss <name>', 'retriever loss: kl, mse, margin or a variant of @fidkd/losses (default kl)')
    .option('--temperature-gold <t>', 'retriever KL: softmax(G / t) as target (default 1)')
    .option('--temperature-score <t>', 'retriever KL: log_softmax(S / t) (default 1)')
    .option('--gamma <g>', 'retriever margin γ (default 1)')
    .option('--in-batch-negatives', 'retriever: also score the micro-batch\'s other passages (ignored by mse)')
    .option('--lr <x>', 'peak learning rate (default 1e-3)')
    .option('--weight-decay <x>', 'AdamW weight decay (default 0.1)')
    .option('--warmup-steps <n>', 'linear warmup steps (default min(2, N - 1))')
    .option('--scheduler-steps <n>', 'step at which the linear decay reaches 0 (default N)')
    .option('--clip <x>', 'clip_grad_norm_ max norm, 0 = off (default 1)')
    .option('--accumulation-steps <n>', 'micro-batches per step, gradients averaged (default 2)')
    .option('--batch-size <n>', 'questions per micro-batch (default 2)')
    .option('--n-context <n>', 'passages per question (default 3 for a reader, 4 for a retriever)')
    .option('--text-maxlength <n>', 'tokens per passage (default 12 for a reader, 16 for a retriever)')
    .option('--answer-length <n>', 'reader: target positions (default 6)')
    .option('--question-maxlength <n>', 'retriever: question tokens (default 8)')
    .option('--backend <name>', `tfjs backend: ${BACKEND_CHOICES.join(', ')}`, 'cpu')
    .action(action(async (dir: string | undefined, opts: ParityOptions) => {
      if ((opts.inputs === undefined) === (opts.trainSteps === undefined)) throw new UserError('parity: give either --inputs FILE or --train-steps N');
      if (!isBackendChoice(opts.backend)) throw new UserError(`--backend ${opts.backend}: expected one of ${BACKEND_CHOICES.join(', ')}`);
      if (dir === undefined) {
        // the losses fixture needs no checkpoint
        const inputs = opts.inputs === undefined ? undefined : readJsonFile(opts.inputs, 'inputs file') as Record<string, unknown>;
        if (!inputs || !isLossesInputs(inputs)) {
          throw new UserError(`${opts.inputs ?? 'parity --train-steps'}: give the checkpoint directory${opts.inputs ? ' it belongs to (it is not the losses fixture\'s inputs: no "cases")' : ' to train'}`);
        }
        await initParityBackend(opts.backend);
        const outputs = await runLossesParity(inputs, opts.inputs!);
        writeJsonAtomic(opts.out, outputs);
        process.stderr.write(`wrote ${Object.keys(outputs as object).length} fields to ${opts.out}\n`);
        return;
      }
      const cfgFile = join(dir, 'config.json');
      if (!existsSync(cfgFile)) throw new UserError(`${dir} has no config.json: give a Hugging Face checkpoint directory`);
      const config = readJsonFile(cfgFile, 'checkpoint config') as Record<string, unknown>;
      const modelType = checkpointModelType(config);
      if (modelType !== 't5' && modelType !== 'bert') {
        throw new UserError(`${cfgFile}: model_type "${String(modelType)}" is not supported by parity (expected "t5" for a reader or "bert" for a retriever)`);
      }
      if (opts.inputs !== undefined) {
        const stray = [...GENERATION.map(([k]) => k), 'batches', 'loss', 'inBatchNegatives'].filter((k) => opts[k as keyof ParityOptions] !== undefined);
        if (stray.length) throw new UserError(`parity: ${stray.map(flag).join(', ')} go with --train-steps, not --inputs`);
        await initParityBackend(opts.backend);
        return forwardParity(dir, modelType, opts);
      }
      await trainingParity(dir, modelType, opts);
    }));

  program
    .command('parity-compare')
    .description('compare a `fidkd parity --train-steps` trajectory with a reference one (PyTorch): exit 3 when outside the tolerances')
    .argument('<trajectory>', 'the trajectory to check (fidkd parity --out FILE)')
    .argument('<reference>', 'the reference trajectory (tests/trajectories/torch_reference.py --out REF)')
    .option('--batches <file>', 'the batches file both ran (for AdamW\'s β₁, β₂; default torch\'s 0.9, 0.999)')
    .action(action(async (file: string, ref: string, opts: { batches?: string }) => {
      const actual = readTrajectory(file);
      const reference = readTrajectory(ref);
      const optimizer = opts.batches ? readTrajectoryBatches(opts.batches).optimizer : undefined;
      const c = compareTrajectories(actual, reference, optimizer);
      process.stdout.write(`${formatTrajectoryComparison(c)}\n`);
      if (!c.ok) process.exitCode = 3;
    }));
}

/** Starts the backend, its notices and the one taken (with the WebGPU adapter, if any) on stderr. */
async function initParityBackend(backend: string): Promise<void> {
  if (!isBackendChoice(backend)) throw new UserError(`--backend ${backend}: expected one of ${BACKEND_CHOICES.join(', ')}`);
  const report = await initBackendChoice(backend, { log: (l) => process.stderr.write(`${l}\n`) });
  for (const line of backendLines(report)) process.stderr.write(`${line}\n`);
}

async function forwardParity(dir: string, modelType: 't5' | 'bert', opts: ParityOptions): Promise<void> {
  const inputs = readJsonFile(opts.inputs!, 'inputs file') as Record<string, unknown>;
  let outputs: unknown;
  if (modelType === 't5') {
    const { runReaderParityAsync } = await import('@fidkd/fid-reader');
    outputs = await runReaderParityAsync(dir, inputs);
  } else {
    const { runRetrieverParityAsync } = await import('@fidkd/bi-encoder');
    outputs = await runRetrieverParityAsync(dir, inputs);
  }
  writeJsonAtomic(opts.out, outputs);
  process.stderr.write(`wrote ${Object.keys(outputs as object).length} fields to ${opts.out}\n`);
}

async function trainingParity(dir: string, modelType: 't5' | 'bert', opts: ParityOptions): Promise<void> {
  const kind = modelType === 't5' ? 'reader' : 'retriever';
  const steps = number(opts.trainSteps!, '--train-steps');
  if (!Number.isInteger(steps) || steps < 1) throw new UserError(`--train-steps must be a positive integer, got ${opts.trainSteps}`);
  if (kind === 'reader') {
    const stray = RETRIEVER_ONLY.filter((k) => opts[k] !== undefined);
    if (stray.length) throw new UserError(`${dir} is a reader (T5): ${stray.map(flag).join(', ')} ${stray.length > 1 ? 'are' : 'is'} for a retriever only`);
  }
  if (opts.batches !== undefined) {
    const stray = [...GENERATION.map(([k]) => k), 'loss', 'inBatchNegatives'].filter((k) => opts[k as keyof ParityOptions] !== undefined);
    if (stray.length) throw new UserError(`parity: --batches replays ${opts.batches} with its own settings; drop ${stray.map(flag).join(', ')}`);
  }
  await initParityBackend(opts.backend);
  const model = loadTrajectoryModel(dir);
  try {
    let batches;
    if (opts.batches !== undefined) {
      batches = readTrajectoryBatches(opts.batches);
      if (batches.kind !== kind) throw new UserError(`${opts.batches} holds batches for a ${batches.kind}, but ${dir} is a ${kind}`);
      if (steps > batches.steps.length) throw new UserError(`--train-steps ${steps}: ${opts.batches} holds ${batches.steps.length} steps`);
    } else {
      const o: TrajectoryOptions = { trainSteps: steps };
      for (const [cli, key] of GENERATION) {
        const v = opts[cli];
        if (typeof v === 'string') (o as unknown as Record<string, number>)[key] = number(v, flag(cli));
      }
      if (opts.loss !== undefined) o.loss = opts.loss;
      if (opts.inBatchNegatives) o.inBatchNegatives = true;
      try {
        batches = makeTrajectoryBatches(trajectoryModelFacts(model), o);
      } catch (e) {
        throw new UserError((e as Error).message);
      }
      writeJsonAtomic(`${opts.out}.batches.json`, trajectoryBatchesToJson(batches));
    }
    const record = await runTrajectory(model, batches, steps);
    record._meta = { produced_by: '@fidkd/orchestrator runTrajectory (tfjs float32)', checkpoint: dir, kind, backend: opts.backend, train_steps: steps };
    writeJsonAtomic(opts.out, record);
    process.stderr.write(`wrote ${steps} steps and ${Object.keys(record.params).length} parameters to ${opts.out}${opts.batches ? '' : ` (batches: ${opts.out}.batches.json)`}\n`);
  } finally {
    disposeTrajectoryModel(model);
  }
}

/** A trajectory of either side, in the issue's format at least: losses, grad_norms, params (lrs etc. optional). */
function readTrajectory(file: string): ComparableTrajectory {
  const r = readJsonFile(file, 'trajectory') as Record<string, unknown>;
  const numbers = (x: unknown): boolean => Array.isArray(x) && x.every((v) => typeof v === 'number');
  for (const key of ['losses', 'grad_norms', 'lrs', 'clip_coefficients']) {
    const required = key === 'losses' || key === 'grad_norms';
    if ((required || r[key] !== undefined) && !numbers(r[key])) throw new UserError(`${file}: "${key}" must be a list of numbers`);
  }
  const params = r.params;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new UserError(`${file}: "params" must be an object {name: {shape, data}}`);
  for (const [name, p] of Object.entries(params as Record<string, { shape?: unknown; data?: unknown }>)) {
    const shape = p?.shape;
    const ok = Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0) && numbers(p.data)
      && (p.data as number[]).length === (shape as number[]).reduce((a, d) => a * d, 1);
    if (!ok) throw new UserError(`${file}: params["${name}"] must be {"shape": [...], "data": [...]} with as many numbers as the shape holds`);
  }
  return r as unknown as ComparableTrajectory;
}
