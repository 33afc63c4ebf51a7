// The Slurm executor: one sbatch per job (an array for the shards of a stage), chained with
// --dependency=afterok, watched with squeue and, once a job has left the queue, scontrol.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '@fidkd/orchestrator';
import { UserError } from '../ui/errors.js';
import type { Backend, TaskStatus } from './backend.js';
import { logsDir, scriptFile, slug, type PlannedJob } from './layout.js';
import { resourcesOf, type SlurmConfig } from './slurm-config.js';

const CLIENT_COMMANDS = ['sbatch', 'squeue', 'scontrol', 'scancel'] as const;

/** Refuses `--executor slurm` (exit 2) before anything is written when the Slurm client commands are missing. */
export function checkSlurmClient(): void {
  const missing = CLIENT_COMMANDS.filter((c) => {
    const r = spawnSync(c, ['--version'], { stdio: 'ignore' });
    return (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  });
  if (missing.length) {
    throw new UserError(
      `--executor slurm: ${missing.join(', ')} not found on PATH (the Slurm client commands submit and watch the jobs)`,
      'run fidkd on a machine of the cluster (a login node) with the Slurm client installed (Debian / Ubuntu: apt-get install slurm-client), or use --executor local --jobs N',
    );
  }
}

/** A shell word: single-quoted unless plainly safe. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `0-3,5,7-8` for the indices given. */
export function arraySpec(tasks: readonly number[]): string {
  const sorted = [...tasks].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j;
  }
  return parts.join(',');
}

/** One record of `scontrol -o show job`: its fields, the array tasks it covers. */
export interface JobRecord {
  fields: Record<string, string>;
  tasks?: number[];
}

function parseTaskRange(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.replace(/%\d+$/, '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part);
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    for (let k = a; k <= b; k += step) out.push(k);
  }
  return out;
}

/** Records of a job (all tasks of an array) from `scontrol -o show job ID`; empty once Slurm has forgotten it. */
export function scontrolRecords(id: string): JobRecord[] {
  const r = spawnSync('scontrol', ['-o', 'show', 'job', id], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return [];
  return r.stdout.split('\n').filter((l) => l.trim()).map((line) => {
    const fields: Record<string, string> = {};
    for (const m of line.matchAll(/(\S+?)=(\S*)/g)) if (!(m[1]! in fields)) fields[m[1]!] = m[2]!;
    // 4294967294 (NO_VAL): the record of a whole array that was never split into tasks
    return { fields, tasks: fields.ArrayTaskId !== undefined && fields.ArrayTaskId !== '4294967294' ? parseTaskRange(fields.ArrayTaskId) : undefined };
  });
}

/**
 * The record of task `task`: its own, else (an array cancelled before Slurm split it into tasks) the array's
 * record with no task id of its own.
 */
export function recordOf(records: JobRecord[], array: boolean, task: number): JobRecord | undefined {
  if (!array) return records[0];
  return records.find((r) => r.tasks?.includes(task)) ?? records.find((r) => r.fields.JobId === r.fields.ArrayJobId && !r.tasks?.length);
}

const PENDING = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'SPECIAL_EXIT']);

/** squeue's view of the tasks still in the queue: `123` or `123_4` → state and node. */
export function squeueStates(ids: readonly string[]): Map<string, { state: string; node: string; reason: string }> {
  const out = new Map<string, { state: string; node: string; reason: string }>();
  if (!ids.length) return out;
  const r = spawnSync('squeue', ['-h', '-r', '-o', '%i|%T|%N|%r', '-j', ids.join(',')], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`squeue: ${r.error.message}`);
  if (r.status !== 0) {
    if (/Invalid job id/i.test(r.stderr)) return out;
    throw new Error(`squeue failed (exit ${r.status}): ${r.stderr.trim()}`);
  }
  for (const line of r.stdout.split('\n')) {
    const [id, state, node, reason] = line.trim().split('|');
    if (id && state) out.set(id, { state, node: node ?? '', reason: reason ?? '' });
  }
  return out;
}

/** A finished task as scontrol recorded it: COMPLETED is success; anything else says how it ended. */
export function slurmFinalStatus(rec: JobRecord): TaskStatus {
  const state = (rec.fields.JobState ?? 'UNKNOWN').replace(/\+$/, '');
  if (state === 'COMPLETED') return { state: 'ok' };
  const [code, signal] = (rec.fields.ExitCode ?? '0:0').split(':');
  const how = signal && signal !== '0' ? ` (signal ${signal})` : code && code !== '0' ? ` (exit ${code})` : '';
  const neverStarted = !rec.fields.BatchHost || rec.fields.BatchHost === '(null)';
  return { state: 'failed', detail: `${state}${how}`, notRun: /DependencyNeverSatisfied/.test(rec.fields.Reason ?? ''), neverStarted, node: rec.fields.BatchHost };
}

/** The Slurm executor of one submission. */
export class SlurmBackend implements Backend {
  readonly name = 'slurm' as const;
  private readonly terminal = new Map<string, TaskStatus>();

  constructor(
    private readonly runDir: string,
    private readonly config: SlurmConfig,
    /** The worker's command line (node, its flags, the fidkd script): `worker RUN_DIR --job ID` follows. */
    private readonly workerArgv: string[],
    /** Says whether every stage of a task finished in this submission (the workers' state files). */
    private readonly taskDone: (job: PlannedJob, task: number) => boolean,
  ) {}

  async submit(job: PlannedJob, after: PlannedJob[]): Promise<{ id: string; log: string }> {
    const r = resourcesOf(this.config, job.kind);
    const log = join(logsDir(this.runDir), job.array ? `${slug(job.id)}.%A_%a.log` : `${slug(job.id)}.%j.log`);
    mkdirSync(dirname(log), { recursive: true });
    const directives = [`--job-name=fidkd:${job.id}`, `--output=${log}`, `--chdir=${process.cwd()}`];
    if (r.partition) directives.push(`--partition=${r.partition}`);
    if (r.gres) directives.push(`--gres=${r.gres}`);
    if (r.cpus) directives.push(`--cpus-per-task=${r.cpus}`);
    if (r.mem) directives.push(`--mem=${r.mem}`);
    if (r.time) directives.push(`--time=${r.time}`);
    directives.push(...(r.extra ?? []));
    const threads = r.cpus ? [`export OMP_NUM_THREADS="\${OMP_NUM_THREADS:-${r.cpus}}"`, `export OPENBLAS_NUM_THREADS="\${OPENBLAS_NUM_THREADS:-${r.cpus}}"`] : [];
    const script = [
      '#!/bin/bash',
      `# fidkd: ${job.id} (${job.array ? `array: task k runs ${job.keys[0]!.replace(/-\d+-of-/, '-<k>-of-')}` : job.keys.join(', ') || 'the report'}); written by the driver`,
      ...directives.map((d) => `#SBATCH ${d}`),
      'set -e',
      ...this.config.setup,
      ...(r.setup ?? []),
      ...threads,
      `exec ${[...this.workerArgv, 'worker', this.runDir, '--job', job.id].map(shellQuote).join(' ')}`,
      '',
    ].join('\n');
    const file = scriptFile(this.runDir, job.id);
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, script);
    chmodSync(file, 0o755);
    const args = ['--parsable', '--kill-on-invalid-dep=yes'];
    if (job.array) args.push(`--array=${arraySpec(job.submitted)}${this.config.max_array_tasks ? `%${this.config.max_array_tasks}` : ''}`);
    const deps = after.map((a) => a.scheduler_id!).filter(Boolean);
    if (deps.length) args.push(`--dependency=afterok:${deps.join(':')}`);
    const s = spawnSync('sbatch', [...args, file], { encoding: 'utf8', timeout: 120_000 });
    if (s.error || s.status !== 0) {
      throw new UserError(`sbatch refused job ${job.id} (${file}): ${(s.error?.message ?? s.stderr).trim()}`, 'check the slurm section of the config (partition, gres, mem, time, extra)');
    }
    const id = s.stdout.trim().split(';')[0]!;
    if (!/^\d+$/.test(id)) throw new Error(`sbatch printed "${s.stdout.trim()}" for ${job.id}, expected a job id`);
    return { id, log: log.replace('%A', id).replace('%j', id) };
  }

  taskId(job: PlannedJob, task: number): string {
    return job.array ? `${job.scheduler_id}_${task}` : job.scheduler_id!;
  }

  taskName(job: PlannedJob, task: number): string {
    return `Slurm job ${this.taskId(job, task)}`;
  }

  async poll(jobs: PlannedJob[]): Promise<Map<string, TaskStatus>> {
    const live = jobs.filter((j) => j.scheduler_id && j.submitted.some((t) => !this.terminal.has(this.taskId(j, t))));
    const queue = squeueStates(live.map((j) => j.scheduler_id!));
    const out = new Map<string, TaskStatus>();
    for (const job of jobs) {
      let records: JobRecord[] | undefined;
      for (const task of job.submitted) {
        const tid = this.taskId(job, task);
        const done = this.terminal.get(tid);
        if (done) {
          out.set(tid, done);
          continue;
        }
        const q = queue.get(tid);
        if (q) {
          out.set(tid, PENDING.has(q.state) ? { state: 'pending', detail: q.reason } : { state: 'running', node: q.node, detail: q.state });
          continue;
        }
        records ??= scontrolRecords(job.scheduler_id!);
        const rec = recordOf(records, job.array, task);
        let status: TaskStatus;
        if (rec) status = slurmFinalStatus(rec);
        else if (this.taskDone(job, task)) status = { state: 'ok' };
        else status = { state: 'failed', detail: 'ended without finishing its stage (Slurm no longer has a record of the job)' };
        // a task that ran may still be COMPLETING under its record: trust success only with the stage's own word
        if (status.state === 'ok' && !this.taskDone(job, task)) status = { state: 'failed', detail: 'COMPLETED without finishing its stage' };
        this.terminal.set(tid, status);
        out.set(tid, status);
      }
    }
    return out;
  }

  async cancel(jobs: PlannedJob[], pendingOnly: boolean): Promise<void> {
    const ids = jobs.filter((j) => j.scheduler_id).map((j) => j.scheduler_id!);
    if (!ids.length) return;
    spawnSync('scancel', [...(pendingOnly ? ['--state=PENDING'] : []), ...ids], { stdio: 'ignore', timeout: 60_000 });
  }
}
