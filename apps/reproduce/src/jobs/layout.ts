// Where a run executed as jobs keeps its bookkeeping: <run dir>/jobs/ holds the plan of the last submission, one
// state file and one metrics.jsonl per stage (written by the worker running it), the job scripts and the logs.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic, type JobSpec } from '@fidkd/orchestrator';
import { UserError } from '../ui/errors.js';

/** The whole-run command a plan belongs to (its stages are rebuilt from the configs that command saved). */
export type RunCommand = 'demo' | 'reproduce';
export type ExecutorName = 'local' | 'slurm';

/** Resource kinds of jobs: the stage names, the demo's preparation, the merge of a sharded retrieval, the report. */
export type JobKind = string;

/** A job of the plan file, with what the last submission did with it. */
export interface PlannedJob extends JobSpec {
  kind: JobKind;
  /** Task indices submitted (array jobs: shards; others: [0]); empty when every stage of the job was done. */
  submitted: number[];
  /** The scheduler's id of the submission (Slurm job id; 'local' for the local executor). */
  scheduler_id?: string;
  /** Log file of task k: `log.replace('%a', k)`. */
  log?: string;
}

/** <run dir>/jobs/plan.json. */
export interface PlanFile {
  version: 1;
  command: RunCommand;
  executor: ExecutorName;
  backend: string;
  /** Unique id of this submission; workers stamp it on their state files. */
  submission: string;
  submitted_at: string;
  detached: boolean;
  /** reproduce: the reproduction matrix to compare with (read by the report job). */
  matrix?: string;
  jobs: PlannedJob[];
}

export const jobsDir = (runDir: string): string => join(runDir, 'jobs');
export const planFile = (runDir: string): string => join(jobsDir(runDir), 'plan.json');
/** File-name form of a stage key or job id: `iter-0/embed-1-of-2` → `iter-0.embed-1-of-2`. */
export const slug = (key: string): string => key.replace(/\//g, '.');
export const stateFile = (runDir: string, key: string): string => join(jobsDir(runDir), 'state', `${slug(key)}.json`);
export const metricsFile = (runDir: string, key: string): string => join(jobsDir(runDir), 'metrics', `${slug(key)}.jsonl`);
export const logsDir = (runDir: string): string => join(jobsDir(runDir), 'logs');
export const scriptFile = (runDir: string, jobId: string): string => join(jobsDir(runDir), 'scripts', `${slug(jobId)}.sh`);

/** The log file of task `task` of a submitted job. */
export function taskLog(job: PlannedJob, task: number): string | undefined {
  return job.log?.replace('%a', String(task));
}

/** The stage keys task `task` of a job runs. */
export function taskKeys(job: JobSpec, task: number): string[] {
  return job.array ? [job.keys[task]!] : job.keys;
}

/** Human name of a task: `iter-0/embed shard 1 of 2`, or the job id. */
export function taskLabel(job: JobSpec, task: number): string {
  return job.array ? job.keys[task]!.replace(/-(\d+)-of-(\d+)$/, ' shard $1 of $2') : job.id;
}

export function writePlanFile(runDir: string, plan: PlanFile): void {
  writeJsonAtomic(planFile(runDir), plan);
}

export function readPlanFile(runDir: string): PlanFile | undefined {
  const file = planFile(runDir);
  if (!existsSync(file)) return undefined;
  try {
    const p = JSON.parse(readFileSync(file, 'utf8')) as PlanFile;
    if (p.version !== 1 || !Array.isArray(p.jobs)) throw new Error('unknown layout');
    return p;
  } catch (err) {
    throw new UserError(`${file} is not a job plan written by fidkd (${(err as Error).message})`);
  }
}
