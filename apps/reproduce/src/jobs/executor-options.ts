// --executor / --jobs / --detach of `fidkd demo` and `fidkd reproduce`.
import type { Command } from 'commander';
import { intFlag, refuseProblems } from '../config-files.js';
import { UserError } from '../ui/errors.js';
import type { JobRunOptions } from './driver.js';
import { checkSlurmClient } from './slurm.js';
import { slurmSettings } from './slurm-config.js';

export interface ExecutorFlags {
  executor: string;
  jobs?: string;
  detach?: boolean;
  set?: string[];
}

export function addExecutorOptions(cmd: Command): Command {
  return cmd
    .option('--executor <name>', 'local: this machine (in this process, or --jobs N worker processes); slurm: each stage a Slurm job, shards as job arrays (resources from the config\'s "slurm" section)', 'local')
    .option('--jobs <n>', 'local executor: run the stages as up to N worker processes (default 1: in this process)')
    .option('--detach', 'slurm executor: submit the jobs and return; `fidkd status RUN_DIR` shows them, the last job writes the results');
}

/** How a demo / reproduce run executes, with every problem of its flags and of the slurm section. */
export interface ExecutorSettings {
  /** undefined for stages in this process (the default), else the job options. */
  exec?: JobRunOptions;
  /** `--executor …` / `--jobs …` / `slurm.…` problems, one a line (none: `exec` is the executor to use). */
  problems: string[];
}

/**
 * How a demo / reproduce run executes, read with every problem at once (the commands report them with the other
 * settings' problems, before anything is written). The Slurm client is checked by the caller.
 */
export function executorSettings(opts: ExecutorFlags, configFile: string | undefined, backend: string, matrix?: string): ExecutorSettings {
  const problems: string[] = [];
  if (opts.executor !== 'local' && opts.executor !== 'slurm') problems.push(`--executor ${opts.executor}: expected local or slurm`);
  let jobs: number | undefined;
  try {
    jobs = intFlag(opts.jobs, '--jobs', 1);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    problems.push(err.message);
  }
  const { slurm, problems: slurmProblems } = slurmSettings(configFile, opts.set);
  problems.push(...slurmProblems);
  if (opts.executor === 'local' && opts.detach) problems.push('--detach needs --executor slurm (local worker processes end with the command)');
  if (opts.executor === 'slurm' && opts.jobs !== undefined) {
    problems.push('--jobs is for --executor local: on Slurm every job runs as the cluster schedules it (slurm.max_array_tasks caps the tasks of an array)');
  }
  if (problems.length) return { problems };
  if (opts.executor === 'local') {
    if (!jobs || jobs === 1) return { problems };
    return { exec: { executor: 'local', jobs, detach: false, slurm, backend, matrix }, problems };
  }
  return { exec: { executor: 'slurm', jobs: 0, detach: Boolean(opts.detach), slurm, backend, matrix }, problems };
}

/**
 * How a demo / reproduce run executes: undefined for stages in this process (the default), else the job
 * options. Checked before anything is written: a bad flag or slurm setting, or no Slurm client, is exit 2.
 */
export function resolveExecutor(opts: ExecutorFlags, configFile: string | undefined, backend: string, matrix?: string): JobRunOptions | undefined {
  const { exec, problems } = executorSettings(opts, configFile, backend, matrix);
  refuseProblems('the executor settings', problems);
  if (exec?.executor === 'slurm') checkSlurmClient();
  return exec;
}
