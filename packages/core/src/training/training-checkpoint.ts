import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, mkdirSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError } from '../checkpoint/errors.js';
import { readSafetensorsWithMetadata, writeSafetensors } from '../checkpoint/safetensors.js';
import type { StateDict } from '../checkpoint/types.js';
import type { AdamW, AdamWConfig } from './adamw.js';

/** What {@link saveTrainingCheckpoint} writes. */
export interface TrainingCheckpointData {
  /** Model weights, already under the names of the target layout (HF names are the caller's business). */
  weights: StateDict;
  /** The model's `config.json` contents. */
  config: object;
  /** The optimizer (its moments, step and hyper-parameters are saved) or a bare moment state dict. */
  optimizer: AdamW | StateDict;
  /** Training step reached (updates done). */
  step: number;
  /** Anything JSON-serialisable to keep with the step (scheduler options, best dev EM, data position …). */
  extra?: unknown;
}

/** Stages of the atomic save, reported to `onStage` (for logging, and for tests that kill the writer). */
export type SaveStage = 'weights-written' | 'temp-complete' | 'old-moved-aside' | 'new-moved-in' | 'done';

/** A checkpoint as loaded by {@link loadTrainingCheckpoint}. */
export interface LoadedTrainingCheckpoint {
  /** Directory actually read (`<dir>.previous` when a crashed save left only that). */
  dir: string;
  config: Record<string, unknown>;
  weights: StateDict;
  /** `exp_avg.<name>` / `exp_avg_sq.<name>` tensors for {@link AdamW.setState}. */
  optimizerState: StateDict;
  /** The optimizer's own step (pass to `setState`). */
  optimizerStep: number;
  /** Hyper-parameters when the optimizer saved was an {@link AdamW}. */
  optimizerConfig?: Required<AdamWConfig>;
  step: number;
  extra?: unknown;
}

/** Files of a training checkpoint directory. */
export const TRAINING_CHECKPOINT_FILES = {
  config: 'config.json',
  weights: 'model.safetensors',
  optimizer: 'optimizer.safetensors',
  trainerState: 'trainer_state.json',
} as const;

const TRAINER_STATE_FORMAT = 'fidkd-trainer-state';

function isAdamW(o: AdamW | StateDict): o is AdamW {
  return typeof (o as AdamW).getState === 'function' && typeof (o as AdamW).setState === 'function';
}

function writeJsonDurable(file: string, value: unknown): void {
  const fd = openSync(file, 'wx');
  try {
    writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some platforms / file systems cannot fsync a directory; the renames are still atomic
  }
}

/** Whether a process with this pid runs on this machine (owners of temp files left by a kill are not). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isComplete(dir: string): boolean {
  return Object.values(TRAINING_CHECKPOINT_FILES).every((f) => existsSync(join(dir, f)));
}

/**
 * Writes a training checkpoint directory: `config.json`, `model.safetensors` (metadata `format: pt`, so
 * `transformers` loads it), `optimizer.safetensors` and `trainer_state.json` (step, optimizer step and
 * hyper-parameters, `extra`).
 *
 * Atomic: everything goes to `<dir>.partial-<pid>` first (each file fsynced). An existing checkpoint is then
 * renamed to `<dir>.previous`, the new one renamed to `<dir>`, and only then is `<dir>.previous` deleted, so
 * at every instant a complete checkpoint exists at `<dir>` or `<dir>.previous`; {@link loadTrainingCheckpoint}
 * falls back to the latter, and the next save restores or removes it. Partial directories of dead processes
 * are removed.
 */
export function saveTrainingCheckpoint(dir: string, data: TrainingCheckpointData, options: { onStage?: (stage: SaveStage) => void } = {}): void {
  writeTrainingCheckpoint(dir, data, isAdamW(data.optimizer) ? data.optimizer.getState() : data.optimizer, options);
}

/**
 * {@link saveTrainingCheckpoint} reading the optimizer's moments asynchronously (every backend, webgpu included;
 * the weights come as a state dict, e.g. from a model's `stateDictAsync()`).
 */
export async function saveTrainingCheckpointAsync(dir: string, data: TrainingCheckpointData, options: { onStage?: (stage: SaveStage) => void } = {}): Promise<void> {
  writeTrainingCheckpoint(dir, data, isAdamW(data.optimizer) ? await data.optimizer.getStateAsync() : data.optimizer, options);
}

function writeTrainingCheckpoint(dir: string, data: TrainingCheckpointData, optimizerState: StateDict, options: { onStage?: (stage: SaveStage) => void }): void {
  const target = resolve(dir);
  const parent = dirname(target);
  const base = basename(target);
  const previous = `${target}.previous`;
  const partial = `${target}.partial-${process.pid}`;
  if (!Number.isInteger(data.step) || data.step < 0) throw new CheckpointError(target, `step must be a non-negative integer, got ${data.step}`);
  mkdirSync(parent, { recursive: true });
  for (const entry of readdirSync(parent)) {
    const m = entry.startsWith(`${base}.partial-`) ? /^(\d+)$/.exec(entry.slice(base.length + 9)) : null;
    if (m && (Number(m[1]) === process.pid || !pidAlive(Number(m[1])))) rmSync(join(parent, entry), { recursive: true, force: true });
  }
  const stage = options.onStage ?? (() => undefined);
  const optimizerStep = isAdamW(data.optimizer) ? data.optimizer.step : data.step;
  try {
    mkdirSync(partial);
    writeJsonDurable(join(partial, TRAINING_CHECKPOINT_FILES.config), data.config);
    writeSafetensors(join(partial, TRAINING_CHECKPOINT_FILES.weights), data.weights, { format: 'pt' });
    stage('weights-written');
    writeSafetensors(join(partial, TRAINING_CHECKPOINT_FILES.optimizer), optimizerState, { step: String(optimizerStep) });
    writeJsonDurable(join(partial, TRAINING_CHECKPOINT_FILES.trainerState), {
      format: TRAINER_STATE_FORMAT,
      version: 1,
      step: data.step,
      optimizer: {
        type: isAdamW(data.optimizer) ? 'AdamW' : 'state-dict',
        step: optimizerStep,
        ...(isAdamW(data.optimizer) ? { config: data.optimizer.config } : {}),
      },
      ...(data.extra !== undefined ? { extra: data.extra } : {}),
    });
    fsyncDir(partial);
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(target, `cannot write checkpoint: ${(e as Error).message}`);
  }
  stage('temp-complete');
  // a crash in an earlier save may have left only <dir>.previous: put it back before moving it aside again
  if (existsSync(previous)) {
    if (existsSync(target) && isComplete(target)) rmSync(previous, { recursive: true, force: true });
    else {
      rmSync(target, { recursive: true, force: true });
      renameSync(previous, target);
    }
  }
  if (existsSync(target)) {
    renameSync(target, previous);
    stage('old-moved-aside');
  }
  renameSync(partial, target);
  fsyncDir(parent);
  stage('new-moved-in');
  rmSync(previous, { recursive: true, force: true });
  stage('done');
}

/**
 * Reads a checkpoint written by {@link saveTrainingCheckpoint}. When `<dir>` is missing or incomplete because a
 * save was killed between its two renames, the intact `<dir>.previous` is read instead (and named in `dir`).
 * @throws CheckpointError naming the file when something is missing or malformed.
 */
export function loadTrainingCheckpoint(dir: string): LoadedTrainingCheckpoint {
  let root = resolve(dir);
  if (!isComplete(root) && isComplete(`${root}.previous`)) root = `${root}.previous`;
  if (!existsSync(root)) throw new CheckpointError(root, 'no such checkpoint directory');
  const stateFile = join(root, TRAINING_CHECKPOINT_FILES.trainerState);
  const configFile = join(root, TRAINING_CHECKPOINT_FILES.config);
  const readJson = (file: string): unknown => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new CheckpointError(file, `cannot read: ${(e as Error).message}`);
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new CheckpointError(file, `invalid JSON: ${(e as Error).message}`);
    }
  };
  const state = readJson(stateFile) as {
    format?: unknown;
    step?: unknown;
    optimizer?: { step?: unknown; config?: Required<AdamWConfig> };
    extra?: unknown;
  };
  if (state === null || typeof state !== 'object' || state.format !== TRAINER_STATE_FORMAT) {
    throw new CheckpointError(stateFile, `not a trainer state (expected "format": "${TRAINER_STATE_FORMAT}")`);
  }
  if (!Number.isInteger(state.step) || (state.step as number) < 0) throw new CheckpointError(stateFile, `"step" must be a non-negative integer`);
  const optimizerStep = state.optimizer?.step;
  if (!Number.isInteger(optimizerStep) || (optimizerStep as number) < 0) {
    throw new CheckpointError(stateFile, `"optimizer.step" must be a non-negative integer`);
  }
  const config = readJson(configFile);
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new CheckpointError(configFile, 'expected a JSON object');
  const weights = readSafetensorsWithMetadata(join(root, TRAINING_CHECKPOINT_FILES.weights)).tensors;
  const optimizerState = readSafetensorsWithMetadata(join(root, TRAINING_CHECKPOINT_FILES.optimizer)).tensors;
  return {
    dir: root,
    config: config as Record<string, unknown>,
    weights,
    optimizerState,
    optimizerStep: optimizerStep as number,
    ...(state.optimizer?.config ? { optimizerConfig: state.optimizer.config } : {}),
    step: state.step as number,
    ...('extra' in state ? { extra: state.extra } : {}),
  };
}
