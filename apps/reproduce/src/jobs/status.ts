// `fidkd status RUN_DIR`: every stage of a run, done or not (its manifest against its config and inputs, as a
// rerun would judge), and for the last submission what Slurm or the local processes say: queued, running (with
// the stage's progress), failed or cancelled (with the job id and its log).
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { pidAlive } from '@fidkd/core';
import { lockHolder, RUN_LOCK_FILE, StageRunner } from '@fidkd/orchestrator';
import { action } from '../ui/errors.js';
import type { TaskStatus } from './backend.js';
import { readPlanFile, taskKeys, taskLog, type PlannedJob } from './layout.js';
import { loadRunStages } from './run-stages.js';
import { recordOf, scontrolRecords, slurmFinalStatus, squeueStates, type JobRecord } from './slurm.js';
import { readTaskState, type TaskState } from './task-state.js';

export type StageStatus = 'done' | 'running' | 'queued' | 'failed' | 'cancelled' | 'not started';

export interface StatusRow {
  key: string;
  status: StageStatus;
  detail: string;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('what a run directory\'s stages are doing: done, queued, running (with progress), failed (with the job and its log)')
    .argument('<run-dir>', 'run directory of fidkd demo / fidkd reproduce')
    .action(action(async (dir: string) => {
      const runDir = resolve(dir);
      const { header, rows } = runStatus(runDir);
      const width = Math.max(...rows.map((r) => r.key.length), 5);
      const out = [...header, '', `${'stage'.padEnd(width)}  ${'state'.padEnd(11)}  detail`];
      for (const r of rows) out.push(`${r.key.padEnd(width)}  ${r.status.padEnd(11)}  ${r.detail}`.trimEnd());
      const counts = new Map<StageStatus, number>();
      for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      const order: StageStatus[] = ['done', 'running', 'queued', 'failed', 'cancelled', 'not started'];
      out.push('', order.filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`).join(', '));
      process.stdout.write(out.join('\n') + '\n');
    }));
}

const ago = (iso: string): string => {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  return s < 120 ? `${s.toFixed(0)} s ago` : `${(s / 60).toFixed(0)} min ago`;
};

function progressText(s: TaskState | undefined): string {
  const p = s?.progress;
  if (!p) return '';
  return `: ${p.done}${p.total !== undefined ? `/${p.total}` : ''} ${p.unit} (${ago(s!.updated_at)})`;
}

/** The rows `fidkd status` prints, and a header on the run and its last submission. */
export function runStatus(runDir: string): { header: string[]; rows: StatusRow[] } {
  const run = loadRunStages(runDir);
  const plan = readPlanFile(runDir);
  const checker = new StageRunner({ runDir, lockStages: false });
  const holder = lockHolder(join(runDir, RUN_LOCK_FILE));
  const header = [`run ${runDir} (fidkd ${run.command})`];
  if (plan) header.push(`last submission ${plan.submission}: executor ${plan.executor}, ${plan.submitted_at}${plan.detached ? ', detached' : ''}`);
  header.push(holder
    ? `in use: ${holder.jobs?.length ? `Slurm job(s) ${holder.jobs.join(', ')}` : `process ${holder.pid}`} on ${holder.host} since ${holder.startedAt}`
    : 'not in use (no command or job holds the run)');

  const taskOf = new Map<string, { job: PlannedJob; task: number }>();
  for (const job of plan?.jobs ?? []) for (const task of job.submitted) for (const key of taskKeys(job, task)) taskOf.set(key, { job, task });
  const slurmId = (job: PlannedJob, task: number): string => (job.array ? `${job.scheduler_id}_${task}` : job.scheduler_id!);
  const queue = plan?.executor === 'slurm' ? squeueStates(plan.jobs.filter((j) => j.scheduler_id).map((j) => j.scheduler_id!)) : new Map();
  const records = new Map<string, JobRecord[]>();

  const rows: StatusRow[] = [];
  for (const def of run.stages) {
    const why = checker.pending(def);
    const manifest = checker.manifestOf(def.key);
    if (why === undefined) {
      rows.push({ key: def.key, status: 'done', detail: `${manifest!.timings.seconds.toFixed(1)} s, ended ${manifest!.timings.endedAt}` });
      continue;
    }
    const t = taskOf.get(def.key);
    if (!plan || !t || !t.job.scheduler_id) {
      rows.push({ key: def.key, status: 'not started', detail: why });
      continue;
    }
    const state = readTaskState(runDir, def.key);
    const mine = state?.submission === plan.submission ? state : undefined;
    const log = taskLog(t.job, t.task);
    let st: TaskStatus;
    let name: string;
    if (plan.executor === 'slurm') {
      const id = slurmId(t.job, t.task);
      name = `Slurm job ${id}`;
      const q = queue.get(id);
      if (q) st = q.state === 'PENDING' ? { state: 'pending', detail: q.reason } : { state: 'running', node: q.node };
      else {
        if (!records.has(t.job.scheduler_id)) records.set(t.job.scheduler_id, scontrolRecords(t.job.scheduler_id));
        const rec = recordOf(records.get(t.job.scheduler_id)!, t.job.array, t.task);
        st = rec ? slurmFinalStatus(rec) : { state: 'failed', detail: mine?.state === 'failed' || mine?.state === 'cancelled' ? mine.state.toUpperCase() : 'ended (Slurm no longer has a record of it)' };
      }
    } else {
      name = mine ? `process ${mine.pid}` : 'a local process';
      const alive = mine && mine.host === hostname() && pidAlive(mine.pid);
      if (mine?.state === 'running' && alive) st = { state: 'running', node: mine.host };
      else if (mine && mine.state !== 'done') st = { state: 'failed', detail: mine.state === 'running' ? 'ended without finishing its stage' : mine.state.toUpperCase() };
      else st = holder ? { state: 'pending', detail: 'waiting for its turn' } : { state: 'failed', detail: 'not run (the driver ended)', notRun: true };
    }
    rows.push(rowOf(def.key, st, name, mine, log, why));
  }
  return { header, rows };
}

function rowOf(key: string, st: TaskStatus, name: string, state: TaskState | undefined, log: string | undefined, why: string): StatusRow {
  switch (st.state) {
    case 'pending':
      return { key, status: 'queued', detail: `${name}${st.detail ? ` (${st.detail})` : ''}` };
    case 'running':
      return { key, status: 'running', detail: `${name}${st.node ? ` on ${st.node}` : ''}${state?.state === 'running' ? progressText(state) : ''}` };
    case 'failed':
      if (st.notRun || st.neverStarted) return { key, status: 'cancelled', detail: `${name} ${st.detail ?? ''}, not run; ${why}`.replace(/ +/g, ' ') };
      return { key, status: 'failed', detail: `${name} ${st.detail ?? 'failed'}${state?.error ? `: ${state.error}` : ''}; log: ${log}` };
    default:
      return { key, status: 'not started', detail: why };
  }
}
