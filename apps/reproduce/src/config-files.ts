import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, mergeConfig, preflightPipelineConfig, type PipelineConfig } from '@fidkd/orchestrator';
import { UserError } from './ui/errors.js';

/** Reads a JSON file, with errors naming the file and what it should be. */
export function readJsonFile(file: string, what: string): unknown {
  if (!existsSync(file)) throw new UserError(`${what} ${file} does not exist`);
  if (statSync(file).isDirectory()) throw new UserError(`${what} ${file} is a directory, expected a JSON file`);
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`${what} ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Keys whose string values are paths: resolved relative to the config file's directory. */
const PATH_KEYS = new Set(['passages', 'train', 'dev', 'test', 'init', 'reader', 'retriever', 'checkpoint', 'tokenizer', 'run_dir']);

/** Resolves relative path values (under PATH_KEYS, and inside `data` / `tokenizer`) against `base`. */
export function resolvePaths(value: unknown, base: string, parentKey = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => resolvePaths(v, base, parentKey));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === 'model') out[k] = v; // model hyperparameters, never paths
      else if (typeof v === 'string' && (PATH_KEYS.has(k) || parentKey === 'data' || parentKey === 'tokenizer') && v && !isAbsolute(v) && !/^[a-z]+:/.test(v)) out[k] = resolve(base, v);
      else out[k] = resolvePaths(v, base, k);
    }
    return out;
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

/** Validates a pipeline config read from `source` (every problem at once, the index factory included), as a UserError. */
export function validateConfigFile(config: PipelineConfig, source: string): void {
  userFacing(() => preflightPipelineConfig(config, source));
}

/** Loads a config file over `defaults` (unknown keys are errors naming the file), paths resolved to its dir. */
export function loadConfigFile<T>(defaults: T, file: string | undefined): T {
  if (!file) return defaults;
  const raw = readJsonFile(file, 'config file');
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`config file ${file} must hold a JSON object`);
  // the `slurm` section says how the stages run, not what they compute: jobs/slurm-config.ts reads it
  const { slurm: _slurm, ...settings } = raw as Record<string, unknown>;
  return userFacing(() => mergeConfig(defaults, resolvePaths(settings, dirname(resolve(file))), file));
}

/**
 * Applies `--set key.path=value` overrides (value parsed as JSON when it parses, else kept as a string);
 * unknown keys are errors.
 */
export function applySets<T>(config: T, sets: string[] | undefined): T {
  let out = config;
  for (const s of sets ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UserError(`--set ${s}: expected key.path=value`);
    const path = s.slice(0, eq).split('.');
    const rawValue = s.slice(eq + 1);
    let value: unknown = rawValue;
    try {
      value = JSON.parse(rawValue);
    } catch {
      value = rawValue;
    }
    const override: Record<string, unknown> = {};
    let cur = override;
    path.forEach((k, i) => {
      if (i === path.length - 1) cur[k] = value;
      else cur = (cur[k] = {}) as Record<string, unknown>;
    });
    const base = out;
    out = userFacing(() => mergeConfig(base, override, `--set ${s}`));
  }
  return out;
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
