// The state file a worker keeps for each stage it runs (<run dir>/jobs/state/<key>.json): what the driver and
// `fidkd status` read to show progress and to tell a finished stage from a failed one, on any node.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { BackendRecord } from '@fidkd/core';
import { currentSlurmJob, writeJsonAtomic, type Metrics, type OrchestratorEvent } from '@fidkd/orchestrator';
import { stateFile } from './layout.js';

export interface TaskState {
  submission: string;
  key: string;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  host: string;
  pid: number;
  slurm_job?: string;
  started_at: string;
  updated_at: string;
  ended_at?: string;
  seconds?: number;
  skipped?: boolean;
  /** The tfjs backend the worker ran the stage on (results.json records it, as a one-process run does). */
  backend?: BackendRecord;
  metrics?: Metrics;
  /** The last progress of the stage: training steps, or a library's progress (passages embedded, questions …). */
  progress?: { done: number; total?: number; unit: string; info?: Record<string, number | string> };
  error?: string;
}

export function readTaskState(runDir: string, key: string): TaskState | undefined {
  const file = stateFile(runDir, key);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as TaskState;
  } catch {
    return undefined; // written atomically: unreadable only if edited by hand
  }
}

/**
 * Keeps the state file of the stage a worker runs: 'running' at its start, progress at most once a second,
 * 'done' / 'failed' / 'cancelled' at its end.
 */
export class TaskStateWriter {
  private current?: TaskState;
  private lastWrite = 0;
  /** The backend this worker took (set once it is selected), written into each state it starts. */
  backend?: BackendRecord;

  constructor(private readonly runDir: string, private readonly submission: string) {}

  start(key: string): void {
    const now = new Date().toISOString();
    this.current = { submission: this.submission, key, state: 'running', host: hostname(), pid: process.pid, started_at: now, updated_at: now };
    if (this.backend) this.current.backend = this.backend;
    const job = currentSlurmJob();
    if (job) this.current.slurm_job = job;
    this.write();
  }

  readonly listener = (e: OrchestratorEvent): void => {
    const s = this.current;
    if (!s || !('key' in e) || e.key !== s.key) return;
    if (e.type === 'step') this.progress({ done: e.step, total: e.total, unit: 'steps', info: e.metrics });
    else if (e.type === 'progress' && e.event.type === 'progress') this.progress({ done: e.event.done, total: e.event.total, unit: e.event.unit ?? e.event.task, ...(e.event.info ? { info: e.event.info } : {}) });
    else if (e.type === 'stage-end') this.end('done', { seconds: e.seconds, metrics: e.metrics });
    else if (e.type === 'stage-skip') this.end('done', { skipped: true, metrics: e.metrics });
  };

  /** The stage stopped on an error or a signal. */
  fail(state: 'failed' | 'cancelled', error: string): void {
    if (this.current?.state === 'running') this.end(state, { error });
  }

  private progress(p: NonNullable<TaskState['progress']>): void {
    if (!this.current) return;
    this.current.progress = p;
    if (Date.now() - this.lastWrite >= 1000 || (p.total !== undefined && p.done >= p.total)) this.write();
  }

  private end(state: TaskState['state'], extra: Partial<TaskState>): void {
    if (!this.current) return;
    Object.assign(this.current, { state, ended_at: new Date().toISOString() }, extra);
    this.write();
  }

  private write(): void {
    this.current!.updated_at = new Date().toISOString();
    this.lastWrite = Date.now();
    writeJsonAtomic(stateFile(this.runDir, this.current!.key), this.current);
  }
}
