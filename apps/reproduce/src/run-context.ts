import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BACKEND_CHOICES, backendLines, backendRecord, initBackendChoice, isBackendChoice, type BackendRecord } from '@fidkd/core';
import {
  acquireLock, cleanDeadLeftovers, createStages, lockHolder, MANIFEST_FILE, MissingInputError, RUN_LOCK_FILE, RunLockedError, runPipeline,
  StageRunner, stageDirKey, writeJsonAtomic, type PipelineConfig,
} from '@fidkd/orchestrator';
import { EMBED_BACKENDS, isEmbedBackendChoice } from '@fidkd/bi-encoder';
import { Renderer } from './ui/render.js';
import { UserError } from './ui/errors.js';

export const BACKEND_HELP = `tfjs backend: ${BACKEND_CHOICES.join(', ')}`;

export const EMBED_BACKEND_HELP = `engine of the passage embedding: ${EMBED_BACKENDS.join(', ')} (ort: onnxruntime-node; auto, the default: ort when installed, else tfjs); sets embed.backend`;

/** `--embed-backend X` as the `--set` entry it stands for (`key` is embed.backend, or pipeline.embed.backend in the demo). */
export function embedBackendSet(value: string | undefined, key: string): string[] {
  if (value === undefined) return [];
  if (!isEmbedBackendChoice(value)) throw new UserError(`--embed-backend ${value}: expected one of ${EMBED_BACKENDS.join(', ')}`);
  return [`${key}=${value}`];
}

/** The backend a command runs on: its short name (`cpu+openblas`, `webgpu+gpu`) and what results.json records. */
export interface SelectedBackend {
  taken: string;
  record: BackendRecord;
}

/** Picks the tfjs backend (core's initBackend) and says which one was taken (and the WebGPU adapter, if any). */
export async function selectBackend(name: string, renderer: Renderer): Promise<SelectedBackend> {
  if (!isBackendChoice(name)) throw new UserError(`--backend ${name}: expected one of ${BACKEND_CHOICES.join(', ')}`);
  // notices of the backend selection go through the renderer (above the progress bars)
  const report = await initBackendChoice(name, { log: (l) => renderer.line(l) });
  for (const line of backendLines(report)) renderer.line(line);
  return { taken: report.accelerated ? `${report.backend}+${report.accelerated}` : report.backend, record: backendRecord(report) };
}

/**
 * Takes the lock of a whole-run command (demo, reproduce) on its run directory: a second one refuses at once,
 * naming the process that holds it; a lock left by a killed process is taken over. Then removes what killed
 * processes left behind (temp files, hidden index copies). Returns the release function.
 */
export function lockRun(runDir: string, renderer: Renderer, flag = '--out'): () => void {
  checkRunDirectory(runDir, flag);
  mkdirSync(runDir, { recursive: true });
  const release = acquireLock(join(runDir, RUN_LOCK_FILE));
  const removed = cleanDeadLeftovers(runDir);
  if (removed.length) renderer.line(`removed ${removed.length} leftover(s) of an interrupted run: ${removed.map((p) => relative(runDir, p)).join(', ')}`);
  return release;
}

/** A run directory (`flag` names where it came from) must be a directory, or not exist yet. */
export function checkRunDirectory(runDir: string, flag: string): void {
  let st;
  try {
    st = statSync(runDir);
  } catch {
    return; // created when the run starts
  }
  if (!st.isDirectory()) throw new UserError(`${flag} ${runDir} exists and is not a directory`, `give ${flag} a directory (a new one, or a run to resume)`);
}

/** A stage command refuses a run directory that a whole-run command is working in. */
export function checkRunUnlocked(runDir: string): void {
  const file = join(runDir, RUN_LOCK_FILE);
  const holder = lockHolder(file);
  if (holder) throw new RunLockedError(file, holder);
}

/** A StageRunner drawing through the renderer. */
export function createRunner(runDir: string, renderer: Renderer): StageRunner {
  return new StageRunner({ runDir, listeners: [renderer.listener] });
}

/**
 * Writes the run's pipeline-config.json (what the per-stage commands reload) and runs every stage of `config`; a
 * missing input becomes what to run first.
 */
export async function runAllStages(runner: StageRunner, runDir: string, config: PipelineConfig): Promise<Awaited<ReturnType<typeof runPipeline>>> {
  writeJsonAtomic(join(runDir, 'pipeline-config.json'), config);
  try {
    return await runPipeline(runner, config, createStages());
  } catch (err) {
    throw explainMissing(err, config);
  }
}

/** Rewrites a MissingInputError into what to run first. */
export function explainMissing(err: unknown, config: PipelineConfig | undefined): unknown {
  if (!(err instanceof MissingInputError)) return err;
  const it = err.iteration;
  let hint = `check the path in your config`;
  if (/\/(iter-\d+|baseline-has_answer)\//.test(err.path)) {
    const m = /\/(iter-(\d+)|baseline-has_answer)\/([a-z-]+?)(?:-(\d+)-of-(\d+))?(?:\/|$)/.exec(err.path);
    if (m) {
      const stage = m[3]!;
      const where = m[2] !== undefined ? `--iteration ${m[2]}` : '--baseline';
      const shard = m[4] !== undefined ? ` --shard-id ${m[4]} --num-shards ${m[5]}` : '';
      hint = `run \`fidkd ${stage} ${where}${shard}\` (same --run-dir and --config) first`;
    }
  } else if (config && Object.values(config.data).includes(err.path)) {
    hint = 'the data files of the config must exist: see the @fidkd/reproduce README ("Data and checkpoints", "Your own data")';
  }
  void it;
  return new UserError(err.message, hint);
}

/** Whether a stage of a run has finished (its manifest exists). */
export function stageDone(runDir: string, iteration: number | 'baseline', stage: Parameters<typeof stageDirKey>[1]): boolean {
  return existsSync(join(runDir, stageDirKey(iteration, stage), MANIFEST_FILE));
}
