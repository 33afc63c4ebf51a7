import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The configs shipped in the package (`configs/`): the FiD repository's NQ and TriviaQA settings and the
 * reproduction matrix `reproduce` compares with. Their relative paths (`data/NQ/train.json`,
 * `checkpoints/t5-base`) are the user's, so they resolve against the current directory, not the package's.
 */
export const SHIPPED_CONFIGS_DIR = fileURLToPath(new URL('../../configs', import.meta.url));

/** The default `--matrix`. */
export const DEFAULT_MATRIX = join(SHIPPED_CONFIGS_DIR, 'reproduction-matrix.json');

/** Names of the shipped pipeline configs (`nq-base`, `tqa-base`). */
export const SHIPPED_CONFIGS = ['nq-base', 'tqa-base'] as const;

/** A `--config` argument resolved: the file, and where its relative paths resolve. */
export interface ConfigArgument {
  file: string;
  /** A shipped config: its relative paths resolve against the current directory. */
  shipped: boolean;
  pathsBase: string;
}

const isShipped = (file: string): boolean => existsSync(file) && dirname(realpathSync(file)) === realpathSync(SHIPPED_CONFIGS_DIR);

/**
 * Resolves `--config`: a file as given when it exists, else a shipped config named without a directory
 * (`nq-base` or `nq-base.json`). A path that is neither is returned as given (the caller reports it missing).
 */
export function resolveConfigArgument(arg: string, cwd = process.cwd()): ConfigArgument {
  const byName = basename(arg) === arg ? join(SHIPPED_CONFIGS_DIR, arg.endsWith('.json') ? arg : `${arg}.json`) : undefined;
  const file = existsSync(arg) || !byName || !existsSync(byName) || basename(byName) === 'reproduction-matrix.json' ? arg : byName;
  const shipped = isShipped(file);
  return { file, shipped, pathsBase: shipped ? cwd : dirname(resolve(cwd, file)) };
}
