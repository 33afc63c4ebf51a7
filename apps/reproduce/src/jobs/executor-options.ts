// --executor / --jobs / --detach of `fidkd demo` and `fidkd reproduce`.
import type { Command } from 'commander';
import { intFlag } from '../config-files.js';
import { UserError } from '../ui/errors.js';
import type { JobRunOptions } from './driver.js';
import { checkSlurmClient } from './slurm.js';
import { resolveSlurmConfig } from './slurm-config.js';

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

/**
 * How a demo / reproduce run executes: undefined for stages in this process (the default), else the job
 * options. Checked before anything is written: a bad flag or slurm setting, or no Slurm client, is exit 2.
 */
export function resolveExecutor(opts: ExecutorFlags, configFile: string | undefined, backend: string, matrix?: string): JobRunOptions | undefined {
  if (opts.executor !== 'local' && opts.executor !== 'slurm') throw new UserError(`--executor ${opts.executor}: expected local or slurm`);
  const jobs = intFlag(opts.jobs, '--jobs', 1);
  const { slurm } = resolveSlurmConfig(configFile, opts.set);
  if (opts.executor === 'local') {
    if (opts.detach) throw new UserError('--detach needs --executor slurm (local worker processes end with the command)');
    if (!jobs || jobs === 1) return undefined;
    return { executor: 'local', jobs, detach: false, slurm, backend, matrix };
  }
  if (opts.jobs !== undefined) throw new UserError('--jobs is for --executor local: on Slurm every job runs as the cluster schedules it (slurm.max_array_tasks caps the tasks of an array)');
  checkSlurmClient();
  return { executor: 'slurm', jobs: 0, detach: Boolean(opts.detach), slurm, backend, matrix };
}
