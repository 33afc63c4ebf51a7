import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { ProgressListener } from '@fidkd/core';
import { cleanStale, replaceDir, tempSibling, writeJsonAtomic } from './atomic.js';
import { acquireLock } from './lock.js';
import type { EventListener, Metrics, OrchestratorEvent, StageRef } from './events.js';
import { hashFile, hashPath, type HashOptions } from './hash.js';
import { changedInputs, MANIFEST_FILE, MANIFEST_VERSION, manifestMismatch, readManifest, stageKey, type StageManifest } from './manifest.js';
import { MetricsLog } from './metrics-log.js';

/** What a stage implementation sees while it runs. */
export interface StageContext<C> {
  ref: StageRef;
  config: C;
  /** Absolute input paths by name (as declared). */
  inputs: Record<string, string>;
  /** Temp directory to write every output into; renamed to the stage directory when `run` returns. */
  outDir: string;
  /** The run directory (for reading other stages' outputs through `inputs`, never for writing). */
  runDir: string;
  /**
   * Persistent scratch directory for mid-stage checkpoints (survives a kill, cleared when the config or inputs
   * change and after the stage completes). Training stages save `saveTrainingCheckpoint` dirs here.
   */
  checkpointDir: string;
  /** Reports a training/eval step: goes to listeners and metrics.jsonl. */
  step(step: number, metrics: Metrics, total?: number): void;
  /** Forwards a library ProgressEvent (tagged with this stage). */
  onProgress: ProgressListener;
  /** Tells listeners a mid-stage checkpoint was written. */
  checkpointSaved(step: number, dir: string): void;
  log(message: string, level?: 'info' | 'warn'): void;
}

/** A stage instance to run: identity, typed config, declared inputs and the work. */
export interface StageDefinition<C> {
  stage: string;
  iteration: number | string;
  /** Output directory relative to the run directory. */
  key: string;
  config: C;
  /** Input files or directories by name (absolute paths). Their content hashes enter the skip key. */
  inputs: Record<string, string>;
  /** Implementation version string; part of the skip key (bump it when outputs change meaning). */
  implementation?: string;
  /** Does the work, writing outputs under `ctx.outDir`; returns the stage's metrics. */
  run(ctx: StageContext<C>): Promise<Metrics | void>;
}

/** Result of `StageRunner.run`. */
export interface StageOutcome {
  dir: string;
  manifest: StageManifest;
  skipped: boolean;
}

export interface StageRunnerOptions {
  runDir: string;
  /** Called for every event, in order. */
  listeners?: EventListener[];
  hash?: HashOptions;
  /** `metrics.jsonl` location; default `<runDir>/metrics.jsonl`. */
  metricsFile?: string;
  /**
   * Lock each stage while it runs (`<stage dir>.lock`, see acquireLock): a second process reaching the same
   * stage of the same run directory refuses with a RunLockedError instead of racing it. Default true.
   */
  lockStages?: boolean;
}

/**
 * Runs stages with skip-if-done, atomic outputs and manifests.
 *
 * Protocol for one stage (directory D = runDir/key):
 * 1. hash the inputs; key = hash(stage, iteration, config, input hashes, implementation);
 * 2. if D/stage-manifest.json exists with this key and all outputs present with recorded sizes → `stage-skip`;
 * 3. otherwise remove leftovers (D.tmp-*, D.old-*), keep D.ckpt if its key matches (mid-stage resume), run the
 *    stage into a fresh D.tmp-…, hash its outputs, rename it over D, append the metrics line, and write
 *    D/stage-manifest.json last. A kill at any point leaves either no manifest (the stage reruns, resuming from D.ckpt
 *    when the implementation checkpoints) or a complete stage.
 */
export class StageRunner {
  readonly runDir: string;
  readonly metrics: MetricsLog;
  private readonly listeners: EventListener[];
  private readonly hashOptions: HashOptions;
  private readonly lockStages: boolean;

  constructor(options: StageRunnerOptions) {
    this.runDir = options.runDir;
    mkdirSync(this.runDir, { recursive: true });
    this.listeners = [...(options.listeners ?? [])];
    this.hashOptions = options.hash ?? {};
    this.lockStages = options.lockStages ?? true;
    this.metrics = new MetricsLog(options.metricsFile ?? join(this.runDir, 'metrics.jsonl'));
  }

  on(listener: EventListener): void {
    this.listeners.push(listener);
  }

  emit(event: OrchestratorEvent): void {
    for (const l of this.listeners) l(event);
  }

  /** Directory of a stage key. */
  dirOf(key: string): string {
    return join(this.runDir, key);
  }

  /** The manifest of a finished stage, or undefined. */
  manifestOf(key: string): StageManifest | undefined {
    return readManifest(this.dirOf(key));
  }

  /** Computes the skip key of a definition (hashing its inputs); throws naming a missing input. */
  keyOf<C>(def: StageDefinition<C>): { key: string; inputHashes: Record<string, string> } {
    const inputHashes: Record<string, string> = {};
    for (const [name, path] of Object.entries(def.inputs)) {
      if (!existsSync(path)) {
        throw new MissingInputError(def.stage, def.iteration, name, path);
      }
      inputHashes[name] = hashPath(path, this.hashOptions);
    }
    return { key: stageKey(def.stage, def.iteration, def.config, inputHashes, def.implementation), inputHashes };
  }

  /**
   * Why `run(def)` would do the work rather than skip it ('it has not run', 'input(s) "reader" changed since it
   * ran', …), or undefined when the stage is done and current. With `inputsOnly`, only whether it ran on its
   * inputs' current content matters: a stage done with another config (a stage command's `--set`), or whose
   * outputs were edited since (their readers hash them anyway), counts as current. Reads and hashes, writes nothing.
   */
  pending<C>(def: StageDefinition<C>, inputsOnly = false): string | undefined {
    let current: { key: string; inputHashes: Record<string, string> };
    try {
      current = this.keyOf(def);
    } catch (err) {
      if (err instanceof MissingInputError) return `its input "${err.input}" is missing`;
      throw err;
    }
    const dir = this.dirOf(def.key);
    const m = readManifestSafe(dir);
    if (!m) return 'it has not run';
    return inputsOnly ? changedInputs(m, current.inputHashes) : manifestMismatch(dir, m, current.key, current.inputHashes);
  }

  /** Runs (or skips) one stage under its lock; see the class comment for the protocol. */
  async run<C>(def: StageDefinition<C>): Promise<StageOutcome> {
    const dir = this.dirOf(def.key);
    mkdirSync(dirname(dir), { recursive: true });
    const release = this.lockStages ? acquireLock(`${dir}.lock`) : () => undefined;
    try {
      return await this.runLocked(def);
    } finally {
      release();
    }
  }

  private async runLocked<C>(def: StageDefinition<C>): Promise<StageOutcome> {
    const ref: StageRef = { stage: def.stage, iteration: def.iteration, key: def.key };
    const dir = this.dirOf(def.key);
    const { key, inputHashes } = this.keyOf(def);
    const checkpointDir = `${dir}.ckpt`;

    const existing = readManifestSafe(dir);
    if (existing) {
      const why = manifestMismatch(dir, existing, key, inputHashes);
      if (why === undefined) {
        // a kill between the manifest and the removal of the mid-stage checkpoint leaves it behind: the stage is done
        const stale = [...cleanStale(dir), ...(existsSync(checkpointDir) ? [checkpointDir] : [])];
        rmSync(checkpointDir, { recursive: true, force: true });
        if (stale.length) this.emit({ type: 'stage-clean', ...ref, removed: stale });
        this.emit({ type: 'stage-skip', ...ref, reason: 'done (manifest matches config and inputs)', metrics: existing.metrics });
        return { dir, manifest: existing, skipped: true };
      }
      this.emit({ type: 'log', level: 'info', stage: def.stage, iteration: def.iteration, message: `rerunning ${def.key}: ${why}` });
    }

    const removed = cleanStale(dir);
    if (removed.length) this.emit({ type: 'stage-clean', ...ref, removed });

    const ckptKeyFile = join(checkpointDir, 'stage-key.json');
    if (existsSync(checkpointDir)) {
      let ok = false;
      try {
        ok = (JSON.parse(readFileSync(ckptKeyFile, 'utf8')) as { key?: string }).key === key;
      } catch {
        ok = false;
      }
      if (!ok) rmSync(checkpointDir, { recursive: true, force: true });
    }
    if (!existsSync(checkpointDir)) {
      mkdirSync(checkpointDir, { recursive: true });
      writeJsonAtomic(ckptKeyFile, { key });
    }

    const tmp = tempSibling(dir);
    mkdirSync(tmp, { recursive: true });
    const startedAt = new Date();
    const t0 = performance.now();
    this.emit({ type: 'stage-start', ...ref, inputs: def.inputs });
    const ctx: StageContext<C> = {
      ref,
      config: def.config,
      inputs: def.inputs,
      outDir: tmp,
      runDir: this.runDir,
      checkpointDir,
      step: (step, metrics, total) => {
        this.emit({ type: 'step', ...ref, step, total, metrics });
        this.metrics.append({ kind: 'step', stage: def.stage, iteration: def.iteration, step, metrics });
      },
      onProgress: (event) => this.emit({ type: 'progress', ...ref, event }),
      checkpointSaved: (step, d) => this.emit({ type: 'checkpoint', ...ref, step, dir: d }),
      log: (message, level = 'info') => this.emit({ type: 'log', level, message, stage: def.stage, iteration: def.iteration }),
    };
    let metrics: Metrics;
    try {
      metrics = (await def.run(ctx)) ?? {};
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    if (existsSync(join(tmp, MANIFEST_FILE))) {
      throw new Error(`stage ${def.key} wrote its own ${MANIFEST_FILE}; that name is reserved for the runner`);
    }
    const outputs = listFiles(tmp).map((p) => ({
      path: p,
      bytes: statSync(join(tmp, p)).size,
      hash: hashFile(join(tmp, p), this.hashOptions),
    }));
    replaceDir(tmp, dir);
    const seconds = (performance.now() - t0) / 1000;
    this.metrics.append({ kind: 'stage', stage: def.stage, iteration: def.iteration, metrics, seconds });
    const manifest: StageManifest = {
      version: MANIFEST_VERSION,
      stage: def.stage,
      iteration: def.iteration,
      key,
      config: def.config,
      inputs: Object.fromEntries(
        Object.entries(def.inputs).map(([n, p]) => [n, { path: relOrAbs(this.runDir, p), hash: inputHashes[n]! }]),
      ),
      outputs,
      metrics,
      timings: { startedAt: startedAt.toISOString(), endedAt: new Date().toISOString(), seconds },
      implementation: def.implementation,
    };
    writeJsonAtomic(join(dir, MANIFEST_FILE), manifest);
    rmSync(checkpointDir, { recursive: true, force: true });
    this.emit({ type: 'stage-end', ...ref, seconds, metrics, outputs: outputs.map((o) => o.path) });
    return { dir, manifest, skipped: false };
  }
}

/** An input of a stage does not exist: usually an earlier stage has not run. */
export class MissingInputError extends Error {
  constructor(
    readonly stage: string,
    readonly iteration: number | string,
    readonly input: string,
    readonly path: string,
  ) {
    super(`stage ${stage} (iteration ${iteration}): input "${input}" not found at ${path}`);
    this.name = 'MissingInputError';
  }
}

function readManifestSafe(dir: string): StageManifest | undefined {
  try {
    return readManifest(dir);
  } catch {
    return undefined; // an unreadable manifest means "not done": the stage reruns and rewrites it
  }
}

function relOrAbs(root: string, p: string): string {
  const r = relative(root, p);
  return r.startsWith('..') ? p : r;
}

/** Every file under `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(full).isDirectory()) walk(full, r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out;
}

/** Checks every finished stage of a run: outputs present with recorded sizes and hashes. Returns problems. */
export function verifyRun(runDir: string, options: HashOptions = {}): string[] {
  const problems: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (!statSync(full).isDirectory()) continue;
      if (existsSync(join(full, MANIFEST_FILE))) {
        const m = readManifest(full)!;
        for (const o of m.outputs) {
          const p = join(full, o.path);
          if (!existsSync(p)) problems.push(`${relative(runDir, p)}: missing`);
          else if (hashFile(p, options) !== o.hash) problems.push(`${relative(runDir, p)}: content differs from manifest`);
        }
      } else walk(full);
    }
  };
  walk(runDir);
  return problems;
}
