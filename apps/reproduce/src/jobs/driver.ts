// The driver of a run executed as jobs (`--executor slurm`, `--executor local --jobs N`): decides what is left to
// do, submits it as dependent jobs, then waits and shows the stages' progress from the workers' state files — or
// leaves the jobs to run (`--detach`). A failed or cancelled task ends the run (exit 1) naming it.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { RUN_LOCK_FILE, StageRunner, updateLock } from '@fidkd/orchestrator';
import { JobFailedError } from '../ui/errors.js';
import type { Renderer } from '../ui/render.js';
import type { Backend, TaskStatus } from './backend.js';
import { taskKeys, taskLabel, taskLog, writePlanFile, type ExecutorName, type PlanFile, type PlannedJob } from './layout.js';
import { LocalBackend } from './local.js';
import { jobsOf, type RunStages } from './run-stages.js';
import { SlurmBackend } from './slurm.js';
import type { SlurmConfig } from './slurm-config.js';
import { readTaskState, type TaskState } from './task-state.js';

export interface JobRunOptions {
  executor: ExecutorName;
  /** Worker processes at once (local executor). */
  jobs: number;
  /** Submit and return; the last job writes the outputs. */
  detach: boolean;
  slurm: SlurmConfig;
  /** The --backend choice the workers make. */
  backend: string;
  /** reproduce: the matrix file the report compares with. */
  matrix?: string;
}

/** The command line a worker is started with: this node, its flags (a test's loader hooks), this fidkd script. */
export function workerArgv(): string[] {
  return [process.execPath, ...process.execArgv, process.argv[1]!];
}

/** Task `task` of `job` has finished all its stages in this submission (the workers' own word). */
function taskDone(runDir: string, submission: string, job: PlannedJob, task: number): boolean {
  return taskKeys(job, task).every((k) => {
    const s = readTaskState(runDir, k);
    return s?.submission === submission && s.state === 'done';
  });
}

/**
 * Submits what is left of a run (every stage whose manifest does not match its config and inputs, and everything
 * downstream of one) and, unless detached, waits for it. Returns 'nothing' when every stage is done, 'detached'
 * once submitted with `detach`, 'done' when every job succeeded; throws a JobFailedError naming the failed tasks.
 */
export async function runAsJobs(run: RunStages, runDir: string, renderer: Renderer, opts: JobRunOptions): Promise<'nothing' | 'detached' | 'done'> {
  const submission = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${randomBytes(3).toString('hex')}`;
  const defs = new Map(run.stages.map((s) => [s.key, s]));
  const checker = new StageRunner({ runDir, lockStages: false });
  const jobs: PlannedJob[] = jobsOf(run, runDir).map((j) => ({ ...j, submitted: [] }));
  const submittedIds = new Set<string>();
  for (const job of jobs) {
    const upstream = job.after.some((a) => submittedIds.has(a));
    const tasks = job.array ? job.keys.map((_, k) => k) : [0];
    job.submitted = tasks.filter((t) => upstream || taskKeys(job, t).some((k) => checker.pending(defs.get(k)!) !== undefined));
    if (job.submitted.length) submittedIds.add(job.id);
    // a job submitted whole reruns nothing done (its worker skips such stages); array tasks left out are done
    if (!job.submitted.length || job.array) {
      for (const [t, k] of job.keys.entries()) if (!job.submitted.includes(t)) renderer.line(`✓ ${k} (done, skipped)`);
    }
  }
  if (submittedIds.size === 0) return 'nothing';
  if (opts.detach) jobs.push({ id: 'report', kind: 'report', keys: [], array: false, after: [...submittedIds], submitted: [0] });

  const argv = workerArgv();
  const backend: Backend = opts.executor === 'slurm'
    ? new SlurmBackend(runDir, opts.slurm, argv, (job, task) => taskDone(runDir, submission, job, task))
    : new LocalBackend(runDir, opts.jobs, argv, submission);
  const plan: PlanFile = {
    version: 1, command: run.command, executor: opts.executor, backend: opts.backend, submission,
    submitted_at: new Date().toISOString(), detached: opts.detach, jobs, ...(opts.matrix ? { matrix: opts.matrix } : {}),
  };
  // workers read the plan: it is in place before the first job can start
  writePlanFile(runDir, plan);
  const live = jobs.filter((j) => j.submitted.length);
  try {
    for (const job of live) {
      const { id, log } = await backend.submit(job, live.filter((a) => job.after.includes(a.id)));
      job.scheduler_id = id;
      job.log = log;
      const tasks = job.array ? ` (tasks ${job.submitted.join(', ')} of ${job.keys.length})` : '';
      const waits = job.after.filter((a) => submittedIds.has(a));
      renderer.line(`submitted ${job.id}${tasks}${opts.executor === 'slurm' ? ` as Slurm job ${id}` : ''}${waits.length ? `, after ${waits.join(', ')}` : ''}`);
    }
  } catch (err) {
    await backend.cancel(live, false); // a half-submitted plan would run without its later jobs
    throw err;
  }
  writePlanFile(runDir, plan);
  if (opts.executor === 'slurm') {
    updateLock(join(runDir, RUN_LOCK_FILE), { jobs: live.map((j) => j.scheduler_id!), detached: opts.detach });
  }
  if (opts.detach) {
    renderer.line(`detached: ${live.length} Slurm job(s) run on their own; \`fidkd status ${runDir}\` shows them; the last one (report, Slurm job ${live[live.length - 1]!.scheduler_id}) writes the results`);
    return 'detached';
  }
  await wait(runDir, live, backend, renderer, opts, submission);
  return 'done';
}

interface Failure {
  job: PlannedJob;
  task: number;
  status: TaskStatus;
  state?: TaskState;
}

/** Polls until every submitted task has ended; progress from the workers' state files. */
async function wait(runDir: string, jobs: PlannedJob[], backend: Backend, renderer: Renderer, opts: JobRunOptions, submission: string): Promise<void> {
  const seen = new Map<string, string>();
  const reported = new Set<string>();
  const failures: Failure[] = [];
  let stopping = false;
  const interrupt = (signal: NodeJS.Signals): void => {
    renderer.line(`${signal}: cancelling the submitted jobs`);
    void backend.cancel(jobs, false).then(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const pollMs = opts.executor === 'slurm' ? opts.slurm.poll_seconds * 1000 : 300;
  try {
    for (;;) {
      const statuses = await backend.poll(jobs);
      let open = 0;
      for (const job of jobs) {
        for (const task of job.submitted) {
          const tid = backend.taskId(job, task);
          const st = statuses.get(tid)!;
          for (const key of taskKeys(job, task)) showProgress(runDir, submission, key, job, task, st, backend, renderer, seen);
          if (st.state === 'pending' || st.state === 'running') {
            open++;
            continue;
          }
          if (reported.has(tid)) continue;
          reported.add(tid);
          // not failures of their own: tasks behind a failed one, and those the stop below cancelled
          if (st.state === 'ok' || st.notRun || (stopping && st.neverStarted)) continue;
          const state = taskKeys(job, task).map((k) => readTaskState(runDir, k)).find((s) => s?.submission === submission && s.state !== 'done');
          failures.push({ job, task, status: st, state });
          renderer.line(`✗ ${taskLabel(job, task)} (${backend.taskName(job, task)}): ${st.detail ?? 'failed'}${state?.error ? `: ${state.error}` : ''}; log: ${taskLog(job, task)}`);
          if (!stopping) {
            stopping = true;
            await backend.cancel(jobs, true);
            renderer.line('the run stops: jobs not started are cancelled; tasks already running finish their stage');
          }
        }
      }
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    renderer.stop();
  }
  if (failures.length) {
    const lines = failures.map((f) => `${taskLabel(f.job, f.task)} (${backend.taskName(f.job, f.task)}) ${f.status.detail ?? 'failed'}${f.state?.error ? `: ${f.state.error}` : ''}\n    log: ${taskLog(f.job, f.task)}`);
    throw new JobFailedError(`${failures.length} job task(s) did not finish:\n  ${lines.join('\n  ')}\n  rerun the same command to run what is missing (finished stages and shards are kept)`);
  }
}

/** Shows a stage's start, progress and end as the worker's state file tells them. */
function showProgress(
  runDir: string, submission: string, key: string, job: PlannedJob, task: number, st: TaskStatus, backend: Backend, renderer: Renderer, seen: Map<string, string>,
): void {
  const s = readTaskState(runDir, key);
  if (!s || s.submission !== submission) return;
  const last = seen.get(key);
  if (last === s.updated_at) return;
  const ref = { stage: key.split('/').pop()!.replace(/-\d+-of-\d+$/, ''), iteration: key.split('/')[0]!, key };
  if (last === undefined) renderer.line(`▶ ${key} (${backend.taskName(job, task)}${st.node ? ` on ${st.node}` : ''})`);
  seen.set(key, s.updated_at);
  if (s.state === 'running' && s.progress) {
    const p = s.progress;
    if (p.unit === 'steps') renderer.onEvent({ type: 'step', ...ref, step: p.done, total: p.total, metrics: (p.info ?? {}) as Record<string, number> });
    else renderer.onEvent({ type: 'progress', ...ref, event: { type: 'progress', task: p.unit, done: p.done, total: p.total, unit: p.unit, info: p.info } });
  } else if (s.state === 'done') {
    if (s.skipped) renderer.onEvent({ type: 'stage-skip', ...ref, reason: 'done', metrics: s.metrics ?? {} });
    else renderer.onEvent({ type: 'stage-end', ...ref, seconds: s.seconds ?? 0, metrics: s.metrics ?? {}, outputs: [] });
  }
}
