import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { pidAlive } from '@fidkd/core';
import { tempSibling } from './atomic.js';
import { currentSlurmJob, slurmJobsActive } from './slurm-jobs.js';

/** What a lock file records about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  /** The holder's command line, for the message a second process prints. */
  command: string;
  /** The Slurm job the holder runs in (`123` or `123_4`): its lock is stale once Slurm has ended that job. */
  slurm_job?: string;
  /**
   * Slurm jobs a run submitted: the run is in use while any of them is pending or running, also after its driver
   * exited (`--detach`).
   */
  jobs?: string[];
  /** The jobs were left to run on their own (`--detach`): no driver process waits for them. */
  detached?: boolean;
}

/** The path is locked by another live process. */
export class RunLockedError extends Error {
  constructor(
    readonly lockFile: string,
    readonly holder: LockHolder,
  ) {
    super(holder.jobs?.length
      ? `${lockFile}: in use by Slurm job(s) ${holder.jobs.join(', ')} submitted by process ${holder.pid} on ${holder.host} since ${holder.startedAt} (${holder.command}); wait for them to finish (\`fidkd status\` on the run directory shows them) or scancel them`
      : `${lockFile}: in use by process ${holder.pid} on ${holder.host} since ${holder.startedAt} (${holder.command})${holder.slurm_job ? ` in Slurm job ${holder.slurm_job}` : ''}; wait for it to finish or stop it`);
    this.name = 'RunLockedError';
  }
}

/** Name of the lock file of a run directory. */
export const RUN_LOCK_FILE = '.fidkd-run.lock';

function readHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' ? h : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the holder of a lock may still be working. On this host: its process is alive, or a job it submitted is
 * still pending or running. On another host (a cluster node), where its pid means nothing here: while Slurm runs
 * the job it was taken in, or any job of a detached submission; any other lock from another host counts as live.
 * When Slurm cannot be asked, a lock counts as live.
 */
export function holderAlive(h: LockHolder): boolean {
  const jobsActive = (ids: string[]): boolean => slurmJobsActive(ids) !== false;
  if (h.host === hostname()) return pidAlive(h.pid) || (h.jobs?.length ? jobsActive(h.jobs) : false);
  if (h.slurm_job) return jobsActive([h.slurm_job]);
  if (h.detached && h.jobs?.length) return jobsActive(h.jobs);
  return true;
}

/** The live holder of a lock file other than this process, if any. */
export function lockHolder(file: string): LockHolder | undefined {
  const h = readHolder(file);
  if (!h || h.pid === process.pid && h.host === hostname()) return undefined;
  return holderAlive(h) ? h : undefined;
}

/**
 * Records more about this process's hold of a lock (the jobs a run submitted): the file is replaced atomically;
 * a lock this process does not hold is left alone (returns false).
 */
export function updateLock(file: string, patch: Pick<LockHolder, 'jobs' | 'detached'>): boolean {
  const h = readHolder(file);
  if (!h || h.pid !== process.pid || h.host !== hostname()) return false;
  const tmp = tempSibling(file);
  writeFileSync(tmp, JSON.stringify({ ...h, ...patch }) + '\n');
  renameSync(tmp, file);
  return true;
}

/**
 * Takes an exclusive lock: `file` is created atomically (hard link of a complete temp file, so it never exists
 * half-written) holding this process's pid. A lock held by a live process throws a RunLockedError naming it; a
 * stale one (its process is dead, e.g. SIGKILLed) is taken over. Returns the release function, which is also run
 * at process exit.
 */
export function acquireLock(file: string): () => void {
  const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: process.argv.slice(1).join(' ') };
  const slurmJob = currentSlurmJob();
  if (slurmJob) me.slurm_job = slurmJob;
  const tmp = tempSibling(file);
  writeFileSync(tmp, JSON.stringify(me) + '\n');
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 5) throw err;
      }
      const holder = readHolder(file);
      if (holder && holder.pid === me.pid && holder.host === me.host) return () => undefined; // already ours
      if (holder && holderAlive(holder)) throw new RunLockedError(file, holder);
      // stale (dead holder, a node's Slurm job that has ended, or unreadable): move it aside, so that two processes taking it over cannot both win
      const aside = tempSibling(`${file}.stale`);
      try {
        renameSync(file, aside);
        rmSync(aside, { force: true });
      } catch {
        /* another process moved it first: retry */
      }
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const h = readHolder(file);
    // a detached submission's lock stays: its jobs hold the run until they end
    if (h && h.pid === me.pid && h.host === me.host && !h.detached) rmSync(file, { force: true });
  };
  process.on('exit', release);
  return release;
}
