// The local executor: the same job plan as on Slurm, run as up to N worker processes on this machine (a 64-core
// box is a cluster of one). A job starts once the jobs it reads have succeeded, like --dependency=afterok.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Backend, TaskStatus } from './backend.js';
import { logsDir, slug, type PlannedJob } from './layout.js';

interface LocalTask {
  job: PlannedJob;
  task: number;
  status: TaskStatus;
  child?: ChildProcess;
}

export class LocalBackend implements Backend {
  readonly name = 'local' as const;
  private readonly tasks = new Map<string, LocalTask>();
  private readonly after = new Map<string, string[]>();

  constructor(
    private readonly runDir: string,
    /** Most worker processes at once. */
    private readonly parallel: number,
    private readonly workerArgv: string[],
    /** Distinguishes this submission's log files. */
    private readonly submission: string,
  ) {}

  async submit(job: PlannedJob, after: PlannedJob[]): Promise<{ id: string; log: string }> {
    this.after.set(job.id, after.map((a) => a.id));
    for (const task of job.submitted) this.tasks.set(this.taskId(job, task), { job, task, status: { state: 'pending', detail: 'waiting for its turn' } });
    mkdirSync(logsDir(this.runDir), { recursive: true });
    return { id: 'local', log: join(logsDir(this.runDir), `${slug(job.id)}${job.array ? '-%a' : ''}.${this.submission}.log`) };
  }

  taskId(job: PlannedJob, task: number): string {
    return `${job.id}#${task}`;
  }

  taskName(job: PlannedJob, task: number): string {
    const pid = this.tasks.get(this.taskId(job, task))?.child?.pid;
    return pid ? `process ${pid}` : 'a local process';
  }

  async poll(jobs: PlannedJob[]): Promise<Map<string, TaskStatus>> {
    const jobState = (id: string): 'ok' | 'failed' | 'open' => {
      const ts = [...this.tasks.values()].filter((t) => t.job.id === id);
      if (ts.some((t) => t.status.state === 'failed')) return 'failed';
      return ts.every((t) => t.status.state === 'ok') ? 'ok' : 'open';
    };
    let running = [...this.tasks.values()].filter((t) => t.status.state === 'running').length;
    for (const t of this.tasks.values()) {
      if (t.status.state !== 'pending') continue;
      const deps = this.after.get(t.job.id) ?? [];
      const failed = deps.find((d) => jobState(d) === 'failed');
      if (failed) t.status = { state: 'failed', detail: `not run: ${failed} failed`, notRun: true };
      else if (running < this.parallel && deps.every((d) => jobState(d) === 'ok')) {
        this.start(t);
        running++;
      }
    }
    const out = new Map<string, TaskStatus>();
    for (const job of jobs) for (const task of job.submitted) out.set(this.taskId(job, task), this.tasks.get(this.taskId(job, task))!.status);
    return out;
  }

  private start(t: LocalTask): void {
    const log = t.job.log!.replace('%a', String(t.task));
    const fd = openSync(log, 'a');
    const threads = String(Math.max(1, Math.floor(cpus().length / this.parallel)));
    const env = { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? threads, OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? threads };
    const child = spawn(this.workerArgv[0]!, [...this.workerArgv.slice(1), 'worker', this.runDir, '--job', t.job.id, '--task', String(t.task)], { stdio: ['ignore', fd, fd], env });
    closeSync(fd);
    t.child = child;
    t.status = { state: 'running', node: 'this machine' };
    child.on('exit', (code, signal) => {
      t.status = code === 0 ? { state: 'ok' } : { state: 'failed', detail: signal ? `killed by ${signal}` : `exit ${code}` };
    });
    child.on('error', (err) => {
      t.status = { state: 'failed', detail: err.message };
    });
  }

  async cancel(_jobs: PlannedJob[], pendingOnly: boolean): Promise<void> {
    for (const t of this.tasks.values()) {
      if (t.status.state === 'pending') t.status = { state: 'failed', detail: 'CANCELLED', neverStarted: true };
      else if (!pendingOnly && t.status.state === 'running') t.child?.kill('SIGTERM');
    }
  }
}
