import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { locateJsonError } from '@fidkd/data';
import { ConfigError, mergeConfigLayer, preflightProblems, type PipelineConfig } from '@fidkd/orchestrator';
import { UserError } from './ui/errors.js';

/** Reads a JSON file, with errors naming the file, the line and column, and what it should be. */
export function readJsonFile(file: string, what: string): unknown {
  if (!existsSync(file)) throw new UserError(`${what} ${file} does not exist`);
  if (statSync(file).isDirectory()) throw new UserError(`${what} ${file} is a directory, expected a JSON file`);
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  try {
    return JSON.parse(text);
  } catch (err) {
    const at = locateJsonError(text);
    throw new UserError(at ? `${what} ${file}, line ${at.line}, column ${at.column}: invalid JSON: ${at.message}` : `${what} ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Keys whose string values are paths: resolved relative to the config file's directory. */
const PATH_KEYS = new Set(['passages', 'train', 'dev', 'test', 'init', 'reader', 'retriever', 'checkpoint', 'tokenizer', 'run_dir']);

/**
 * Resolves relative path values (under PATH_KEYS, and inside `data` / `tokenizer`) against `base`. Objects are
 * rebuilt with their own keys only, so that a `"__proto__"` key stays a key (and is refused as such).
 */
export function resolvePaths(value: unknown, base: string, parentKey = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => resolvePaths(v, base, parentKey));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => {
      if (k === 'model') return [k, v]; // model hyperparameters, never paths
      if (typeof v === 'string' && (PATH_KEYS.has(k) || parentKey === 'data' || parentKey === 'tokenizer') && v && !isAbsolute(v) && !/^[a-z]+:/.test(v)) return [k, resolve(base, v)];
      return [k, resolvePaths(v, base, k)];
    }));
  }
  return value;
}

/** Runs `fn`, reporting the orchestrator's ConfigError as a UserError (a message, no stack trace). */
export function userFacing<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConfigError) throw new UserError(err.message);
    throw err;
  }
}

/** Every problem of a command's settings, in one error: `what` (the config file, or the command) says whose. */
export function settingsError(what: string, problems: string[]): UserError {
  return new UserError(`${what}: ${problems.length === 1 ? 'a problem' : `${problems.length} problems`} (nothing was run):\n  - ${problems.join('\n  - ')}`);
}

/** Throws {@link settingsError} when there are problems. */
export function refuseProblems(what: string, problems: string[]): void {
  if (problems.length) throw settingsError(what, problems);
}

/** Validates a pipeline config read from `source` (every problem at once, the index factory included), as a UserError. */
export function validateConfigFile(config: PipelineConfig, source: string): void {
  refuseProblems(source, preflightProblems(config));
}

/** Settings layered over defaults, with every problem of every layer and the keys the layers set. */
export interface LayeredSettings<T> {
  config: T;
  problems: string[];
  /** Dotted keys a layer set explicitly (a default is not one), for "this setting would be ignored" checks. */
  explicit: string[];
}

/** The object of a config file (relative paths resolved against `pathsBase`, by default the file's directory). */
export function readConfigObject(file: string, pathsBase = dirname(resolve(file))): Record<string, unknown> {
  const raw = readJsonFile(file, 'config file');
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`config file ${file} must hold a JSON object`);
  return resolvePaths(raw, pathsBase) as Record<string, unknown>;
}

/**
 * A demo / reproduce config without its `slurm` section: that says how the stages run as jobs
 * (jobs/slurm-config.ts reads it), not what they compute, so the pipeline settings never see it.
 */
export function withoutSlurm(o: Record<string, unknown>): Record<string, unknown> {
  const { slurm: _slurm, ...settings } = o;
  return settings;
}

/** The `--set` flags of the pipeline settings: `--set slurm.…` belongs to the slurm section (see {@link withoutSlurm}). */
export function notSlurm(sets: string[] | undefined): string[] | undefined {
  return sets?.filter((s) => !s.startsWith('slurm.'));
}

/** The override object of one `--set key.path=value` (value parsed as JSON when it parses, else kept as a string). */
export function setOverride(s: string): Record<string, unknown> {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new UserError(`--set ${s}: expected key.path=value`);
  const path = s.slice(0, eq).split('.');
  if (path.some((k) => k === '')) throw new UserError(`--set ${s}: "${s.slice(0, eq)}" is not a key path (keys joined by ".")`);
  const rawValue = s.slice(eq + 1);
  let value: unknown = rawValue;
  try {
    value = JSON.parse(rawValue);
  } catch {
    value = rawValue;
  }
  // built from the leaf up with Object.fromEntries, so `__proto__` becomes a key (refused), not a prototype
  return path.reduceRight<unknown>((inner, k) => Object.fromEntries([[k, inner]]), value) as Record<string, unknown>;
}

/**
 * Layers settings: `defaults` ← the object of the `--config` file ← each `--set`, collecting every unknown key,
 * reserved name and misplaced section of every layer instead of stopping at the first.
 */
export function layerSettings<T>(defaults: T, file: string | undefined, sets: string[] | undefined, fileObject?: Record<string, unknown>): LayeredSettings<T> {
  let config = defaults;
  const problems: string[] = [];
  const explicit: string[] = [];
  const layers: Array<[string, unknown]> = [];
  if (file) layers.push([file, fileObject ?? readConfigObject(file)]);
  for (const s of sets ?? []) layers.push([`--set ${s}`, setOverride(s)]);
  for (const [source, override] of layers) {
    const layer = mergeConfigLayer(config, override, source);
    config = layer.config;
    problems.push(...layer.problems);
    explicit.push(...layer.paths);
  }
  return { config, problems, explicit };
}

/** Loads a config file over `defaults` (every unknown key an error naming the file), paths resolved to its dir. */
export function loadConfigFile<T>(defaults: T, file: string | undefined): T {
  const layered = layerSettings(defaults, file, undefined);
  refuseProblems(file ?? 'settings', layered.problems);
  return layered.config;
}

/** Applies `--set key.path=value` overrides; every unknown key is an error. */
export function applySets<T>(config: T, sets: string[] | undefined): T {
  const layered = layerSettings(config, undefined, sets);
  refuseProblems('--set', layered.problems);
  return layered.config;
}

/** Parses an integer flag, with an error naming the flag. */
export function intFlag(value: string | undefined, flag: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UserError(`${flag} must be an integer ≥ ${min} (got "${value}")`);
  return n;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
