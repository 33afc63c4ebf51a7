import { spawnSync } from 'node:child_process';

/**
 * The Slurm job this process runs in, as squeue names it: `<array job>_<task>` for an array task, else the job id;
 * undefined outside Slurm.
 */
export function currentSlurmJob(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.SLURM_ARRAY_JOB_ID && env.SLURM_ARRAY_TASK_ID) return `${env.SLURM_ARRAY_JOB_ID}_${env.SLURM_ARRAY_TASK_ID}`;
  return env.SLURM_JOB_ID || undefined;
}

/**
 * Whether any of these Slurm jobs (ids as squeue takes them: `123`, `123_4`) is still pending or running: true or
 * false as squeue says, undefined when it cannot say (no squeue on this machine, the controller does not answer).
 * A job Slurm has finished or forgotten is not active.
 */
export function slurmJobsActive(ids: readonly string[]): boolean | undefined {
  if (ids.length === 0) return false;
  // env: the caller's environment as it is now (a test may have changed PATH)
  const r = spawnSync('squeue', ['-h', '-r', '-o', '%i|%T', '-j', ids.join(',')], { encoding: 'utf8', timeout: 60_000, env: process.env });
  if (r.error || r.status === null) return undefined;
  if (r.status !== 0) return /Invalid job id/i.test(r.stderr) ? false : undefined;
  return r.stdout.split('\n').some((l) => l.trim() !== '');
}
