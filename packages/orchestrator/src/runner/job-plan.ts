import { join } from 'node:path';

/** What the job plan needs to know of a stage instance (a StageDefinition has all of it). */
export interface PlanStage {
  stage: string;
  iteration: number | string;
  /** Output directory relative to the run directory. */
  key: string;
  /** Absolute input paths by name. */
  inputs: Record<string, string>;
}

/**
 * One job of a run on a scheduler: stages run by one process each. An array job (the shards of embed or
 * retrieve) runs task k = `keys[k]`, all tasks side by side; any other job runs its `keys` in order in one process.
 */
export interface JobSpec {
  /** The stage key, `<stage>-shards` for the shards of a stage (`iter-0/embed-shards`), or a group name (`prepare`). */
  id: string;
  keys: string[];
  array: boolean;
  /** Ids of the jobs whose outputs this job reads (it may start once they all succeeded). */
  after: string[];
}

export interface PlanJobsOptions {
  /** A job id for stages grouped into one sequential job (e.g. every preparation stage); undefined: the default. */
  group?: (stage: PlanStage) => string | undefined;
}

/** `iter-0/embed-3-of-8` → `iter-0/embed-shards`: the shards of one stage share a job (other keys are their own). */
export function jobIdOf(key: string): string {
  return key.replace(/-\d+-of-\d+$/, '-shards');
}

/**
 * Groups the stages of a plan (in execution order) into jobs: the shards of a stage (keys `<stage>-K-of-N`) into
 * one array job, other stages one job each (or a `group`), and derives the dependencies from the inputs: a job
 * depends on the jobs that write a directory its stages read. Jobs come out in an order that respects them.
 */
export function planJobs(stages: readonly PlanStage[], runDir: string, options: PlanJobsOptions = {}): JobSpec[] {
  const jobs: JobSpec[] = [];
  const byId = new Map<string, JobSpec>();
  const jobOfKey = new Map<string, JobSpec>();
  for (const s of stages) {
    const grouped = options.group?.(s);
    const id = grouped ?? jobIdOf(s.key);
    let job = byId.get(id);
    if (!job) {
      job = { id, keys: [], array: grouped === undefined && id !== s.key, after: [] };
      byId.set(id, job);
      jobs.push(job);
    }
    job.keys.push(s.key);
    jobOfKey.set(s.key, job);
  }
  const dirs = stages.map((s) => ({ dir: join(runDir, s.key), job: jobOfKey.get(s.key)! }));
  for (const s of stages) {
    const job = jobOfKey.get(s.key)!;
    for (const path of Object.values(s.inputs)) {
      const producer = dirs.find((d) => path === d.dir || path.startsWith(`${d.dir}/`));
      if (producer && producer.job !== job && !job.after.includes(producer.job.id)) job.after.push(producer.job.id);
    }
  }
  const position = new Map(jobs.map((j, i) => [j.id, i]));
  for (const j of jobs) {
    for (const a of j.after) {
      if (position.get(a)! > position.get(j.id)!) throw new Error(`job plan: ${j.id} reads the output of ${a}, which comes later in the plan`);
    }
  }
  return jobs;
}
