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

/**
 * File-system errors that are the machine's or the user's (a path, a permission, a full disk), not a bug, with
 * what to do about them.
 */
const ENVIRONMENT_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'a file or directory is missing',
  EACCES: 'check the permissions of the path',
  EPERM: 'check the permissions of the path',
  ENOTDIR: 'a path that should be a directory is a file',
  EISDIR: 'a path that should be a file is a directory',
  EEXIST: 'a path that should be a directory is a file, or exists already',
  ENOSPC: 'the disk is full: free space (or point the run at another disk), then rerun the same command: it resumes',
  EDQUOT: 'the disk quota is exhausted: free space, then rerun the same command: it resumes',
  EROFS: 'the file system is read-only: give a run directory on a writable disk',
  EMFILE: 'too many open files: raise the limit (ulimit -n)',
};

/** True for errors caused by the user's input or the machine rather than by a bug. */
export function isUserError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (INPUT_ERROR_NAMES.has(err.name) || INPUT_ERROR_NAMES.has(err.constructor.name)) return true;
  const code = (err as NodeJS.ErrnoException).code;
  return code !== undefined && Object.hasOwn(ENVIRONMENT_ERRORS, code);
}

/** Prints an error for the terminal and returns the exit code. */
export function reportError(err: unknown, debug = process.env.FIDKD_DEBUG === '1'): number {
  const e = err instanceof Error ? err : new Error(String(err));
  // the code of a file-system error, also when a library wrapped it into its own message ("cannot write: ENOSPC: …")
  const code = (e as NodeJS.ErrnoException).code ?? /\b(E[A-Z]{3,})\b:/.exec(e.message)?.[1];
  const hint = e instanceof UserError && e.hint ? `\n  hint: ${e.hint}` : code && Object.hasOwn(ENVIRONMENT_ERRORS, code) ? `\n  hint: ${ENVIRONMENT_ERRORS[code]}` : '';
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
