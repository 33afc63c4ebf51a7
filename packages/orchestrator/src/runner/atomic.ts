import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pidAlive } from '@fidkd/core';

let counter = 0;
/** A sibling temp name unique to this process: `<path>.tmp-<pid>-<n>`. */
export function tempSibling(path: string): string {
  counter += 1;
  return `${path}.tmp-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** Writes a file atomically: temp file in the same directory, fsync, rename over the target. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  const fd = openSync(tmp, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** `writeFileAtomic` of pretty JSON with a trailing newline. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Replaces directory `target` by directory `source` as atomically as POSIX allows: an existing target is first
 * renamed aside (`.old-…`) and removed after the swap, so at every instant either the old or the new complete
 * directory is at `target` (never a half-written one).
 */
export function replaceDir(source: string, target: string): void {
  let old: string | undefined;
  if (existsSync(target)) {
    old = `${target}.old-${process.pid}-${Date.now().toString(36)}`;
    renameSync(target, old);
  }
  renameSync(source, target);
  if (old) rmSync(old, { recursive: true, force: true });
}

/**
 * Removes the leftovers of interrupted writes of `target`: `<target>.tmp-*` and `<target>.old-*` siblings.
 * Returns the removed paths. Only the given target's siblings are touched, so other processes working on other
 * stages of the same run directory (e.g. embedding shards on other machines) are left alone.
 */
export function cleanStale(target: string): string[] {
  const dir = dirname(target);
  if (!existsSync(dir)) return [];
  const base = basename(target);
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    // `.<base>.tmp-…`: the hidden copies libraries write beside an output (e.g. a PassageIndex saved into it)
    if (name.startsWith(`${base}.tmp-`) || name.startsWith(`${base}.old-`) || name.startsWith(`.${base}.tmp-`) || name.startsWith(`.${base}.old-`)) {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed.push(join(dir, name));
    }
  }
  return removed;
}

/** The pid in a temp / aside name written by this repository's atomic writers, or undefined for other names. */
export function leftoverPid(name: string): number | undefined {
  const m = /\.(?:tmp|old|partial)-(\d+)(?:-|$)/.exec(name) ?? /\.(\d+)\.[0-9a-z]+\.tmp$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Removes, anywhere under `root`, the temp files and directories (and hidden copies, e.g. of a FAISS index) that
 * a killed process left: names of the atomic writers carrying a pid that is no longer alive. Call it holding the
 * run's lock, on one machine. Returns the removed paths.
 */
export function cleanDeadLeftovers(root: string): string[] {
  const removed: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const pid = leftoverPid(entry.name);
      if (pid !== undefined && !pidAlive(pid)) {
        rmSync(full, { recursive: true, force: true });
        removed.push(full);
      } else if (entry.isDirectory()) walk(full);
    }
  };
  if (existsSync(root)) walk(root);
  return removed;
}
