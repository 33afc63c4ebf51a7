import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PassageIndexError } from './errors.js';
import { MANIFEST_FILE } from './manifest.js';

/**
 * Writes a directory atomically: `fill(tmp)` writes into a fresh sibling temp directory, which then replaces
 * `dir` by rename. An existing index at `dir` is kept until the new one is complete; a non-empty directory that
 * is not an index is never replaced.
 */
export function writeDirAtomic(dir: string, fill: (tmp: string) => void): void {
  const target = resolve(dir);
  if (existsSync(target)) {
    const entries = readdirSync(target);
    if (entries.length > 0 && !entries.includes(MANIFEST_FILE)) {
      throw new PassageIndexError(`${target}: exists and is not a PassageIndex directory (no ${MANIFEST_FILE}); refusing to replace it`);
    }
  }
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const suffix = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const tmp = join(parent, `.${basename(target)}.tmp-${suffix}`);
  mkdirSync(tmp);
  try {
    fill(tmp);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  if (existsSync(target)) {
    const old = join(parent, `.${basename(target)}.old-${suffix}`);
    renameSync(target, old);
    try {
      renameSync(tmp, target);
    } catch (err) {
      renameSync(old, target);
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, target);
  }
}
