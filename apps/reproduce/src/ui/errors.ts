/**
 * User-facing errors. A `UserError` (and the libraries' input errors: bad config, missing file, malformed
 * checkpoint or data) is printed as one message saying what to fix, without a stack trace; anything else is a
 * bug and keeps its stack under `--debug` / FIDKD_DEBUG=1.
 */
export class UserError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'UserError';
  }
}

/**
 * A run that stopped because one of its jobs failed or was cancelled (on Slurm or as a local process): exit 1,
 * the message naming the stage, the shard, the job and its log. Not a bug of fidkd, so no stack trace.
 */
export class JobFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobFailedError';
  }
}

const INPUT_ERROR_NAMES = new Set([
  'UserError', 'ConfigError', 'MissingInputError', 'CheckpointError', 'DataFormatError', 'BackendUnavailableError',
  'TrecRunError', 'PassageIndexError', 'TokenizerError', 'CommanderError', 'TrainingDivergedError', 'RunLockedError', 'OutOfDateInputError',
]);

/** True for errors caused by the user's input rather than by a bug. */
export function isUserError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (INPUT_ERROR_NAMES.has(err.name) || INPUT_ERROR_NAMES.has(err.constructor.name)) return true;
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR' || code === 'EISDIR';
}

/** Prints an error for the terminal and returns the exit code. */
export function reportError(err: unknown, debug = process.env.FIDKD_DEBUG === '1'): number {
  const e = err instanceof Error ? err : new Error(String(err));
  const hint = e instanceof UserError && e.hint ? `\n  hint: ${e.hint}` : '';
  if (e instanceof JobFailedError) {
    process.stderr.write(`fidkd: error: ${e.message}\n`);
    return 1;
  }
  if (isUserError(e) && !debug) {
    process.stderr.write(`fidkd: error: ${e.message}${hint}\n`);
  } else {
    process.stderr.write(`fidkd: error: ${e.message}${hint}\n`);
    process.stderr.write(debug ? `${e.stack ?? ''}\n` : '  (an internal error: rerun with --debug or FIDKD_DEBUG=1 for the stack trace and report it)\n');
  }
  return isUserError(e) ? 2 : 1;
}

/** Wraps a command action: errors become messages and an exit code, never an unhandled stack trace. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.exitCode = reportError(err, process.env.FIDKD_DEBUG === '1' || process.argv.includes('--debug'));
    }
  };
}
