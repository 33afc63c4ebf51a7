import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { pidAlive } from '@fidkd/core';
import { tempSibling } from './atomic.js';

/** What a lock file records about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  /** The holder's command line, for the message a second process prints. */
  command: string;
}

/** The path is locked by another live process. */
export class RunLockedError extends Error {
  constructor(
    readonly lockFile: string,
    readonly holder: LockHolder,
  ) {
    super(`${lockFile}: in use by process ${holder.pid} on ${holder.host} since ${holder.startedAt} (${holder.command}); wait for it to finish or stop it`);
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

/** The live holder of a lock file other than this process, if any (a lock on another host counts as live). */
export function lockHolder(file: string): LockHolder | undefined {
  const h = readHolder(file);
  if (!h || h.pid === process.pid && h.host === hostname()) return undefined;
  return h.host !== hostname() || pidAlive(h.pid) ? h : undefined;
}

/**
 * Takes an exclusive lock: `file` is created atomically (hard link of a complete temp file, so it never exists
 * half-written) holding this process's pid. A lock held by a live process throws a RunLockedError naming it; a
 * stale one (its process is dead, e.g. SIGKILLed) is taken over. Returns the release function, which is also run
 * at process exit.
 */
export function acquireLock(file: string): () => void {
  const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: process.argv.slice(1).join(' ') };
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
      if (holder && (holder.host !== me.host || pidAlive(holder.pid))) throw new RunLockedError(file, holder);
      // stale (dead holder, or unreadable): move it aside, so that two processes taking it over cannot both win
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
    if (h && h.pid === me.pid && h.host === me.host) rmSync(file, { force: true });
  };
  process.on('exit', release);
  return release;
}
