import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { preflightProblems, type PipelineConfig } from '@fidkd/orchestrator';
import { layerSettings, notSlurm, readConfigObject, settingsError, withoutSlurm } from '../config-files.js';
import { UserError } from '../ui/errors.js';
import { REPRODUCE_DEFAULTS } from './defaults.js';
import { resolveConfigArgument, SHIPPED_CONFIGS } from './shipped.js';

/** A loaded pipeline config and the file it came from. */
export interface LoadedPipelineConfig {
  config: PipelineConfig;
  /** The config file read (a shipped one when `--config` named it, e.g. `nq-base`). */
  file: string;
}

/** Options of {@link loadPipelineConfig}. */
export interface LoadOptions {
  /** Also check that the data files, tokenizers and initial checkpoints exist. */
  files?: boolean;
  /** More problems of the command (its executor flags, the config's slurm section), reported with the config's. */
  problems?: string[];
}

/**
 * Loads a pipeline config (`--config`: a file, or a shipped config by name) with `--set` overrides and checks
 * it before anything runs: every unknown key, bad value and — with `files` — missing data file, tokenizer or
 * initial checkpoint, all in one error.
 */
export function loadPipelineConfig(arg: string, sets?: string[], options: LoadOptions = {}): LoadedPipelineConfig {
  const where = resolveConfigArgument(arg);
  if (!existsSync(where.file)) {
    throw new UserError(`config file ${arg} does not exist`, `give a config file, or the name of a shipped one (${SHIPPED_CONFIGS.join(', ')})`);
  }
  // the slurm section and --set slurm.… say how the stages run (jobs/slurm-config.ts), not what they compute
  const layered = layerSettings(REPRODUCE_DEFAULTS, where.file, notSlurm(sets), withoutSlurm(readConfigObject(where.file, where.pathsBase)));
  // the default evaluates the test split when there is one; asking for "test" without data.test is refused
  if (!layered.explicit.includes('evaluate.splits') && !layered.config.data?.test && layered.config.evaluate && typeof layered.config.evaluate === 'object') {
    layered.config = { ...layered.config, evaluate: { ...layered.config.evaluate, splits: ['dev'] } };
  }
  const problems = [...layered.problems, ...preflightProblems(layered.config), ...(options.problems ?? [])];
  const missing = options.files ? missingFiles(layered.config) : [];
  if (problems.length || missing.length) {
    const error = settingsError(where.file, [...problems, ...missing]);
    const hints = [
      ...(missing.length ? ['the @fidkd/reproduce README ("Data and checkpoints", "Your own data") says how to obtain or make them; or point the config at your copies'] : []),
      ...(where.shipped && missing.length ? [`relative paths of a shipped config resolve against the current directory (${process.cwd()})`] : []),
    ];
    throw hints.length ? new UserError(error.message, hints.join('; ')) : error;
  }
  return { config: layered.config, file: where.file };
}

/** The data, tokenizers and initial checkpoints of a config that do not exist, each with the key that names it. */
export function missingFiles(c: PipelineConfig): string[] {
  const missing: string[] = [];
  const need = (path: string | undefined, what: string): void => {
    if (path && !existsSync(path)) missing.push(`missing ${what}: ${path}`);
  };
  need(c.data.passages, 'passages TSV (data.passages; DPR psgs_w100.tsv)');
  need(c.data.train, 'training questions with D⁰ ctxs (data.train)');
  need(c.data.dev, 'dev questions with D⁰ ctxs (data.dev)');
  need(c.data.test, 'test questions with D⁰ ctxs (data.test)');
  need(c.tokenizer.reader, 'reader tokenizer.json (tokenizer.reader)');
  need(c.tokenizer.retriever, 'retriever tokenizer.json (tokenizer.retriever)');
  for (const section of ['reader', 'retriever'] as const) {
    const init = c[section].init;
    if (!init) continue;
    need(init, `${section} checkpoint directory (${section}.init)`);
    if (existsSync(init) && !existsSync(join(init, 'config.json'))) missing.push(`${section}.init ${init} has no config.json (expected an HF checkpoint directory)`);
  }
  return missing;
}
