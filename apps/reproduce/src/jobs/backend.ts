import type { ExecutorName, PlannedJob } from './layout.js';

/** Where a submitted task stands, as its executor sees it. */
export interface TaskStatus {
  state: 'pending' | 'running' | 'ok' | 'failed';
  /** The scheduler's word: a pending reason, the final state ('CANCELLED', 'FAILED (exit 2)', 'TIMEOUT' …). */
  detail?: string;
  /** The node (Slurm) it runs or ran on. */
  node?: string;
  /** Failed because a job it waited for failed: it never ran (Slurm's DependencyNeverSatisfied). */
  notRun?: boolean;
  /** Ended without ever starting (cancelled while pending). */
  neverStarted?: boolean;
}

/** An executor of job plans: Slurm, or processes on this machine. */
export interface Backend {
  readonly name: ExecutorName;
  /** Submits the `submitted` tasks of a job, to start once the `after` jobs succeeded; its id and log pattern (`%a`: task). */
  submit(job: PlannedJob, after: PlannedJob[]): Promise<{ id: string; log: string }>;
  /** The status of every submitted task, by {@link taskId}. */
  poll(jobs: PlannedJob[]): Promise<Map<string, TaskStatus>>;
  /** Cancels what has not started (`pendingOnly`) or everything still queued or running. */
  cancel(jobs: PlannedJob[], pendingOnly: boolean): Promise<void>;
  taskId(job: PlannedJob, task: number): string;
  /** 'Slurm job 123_1', 'process 4567'. */
  taskName(job: PlannedJob, task: number): string;
}
