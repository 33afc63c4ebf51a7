import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/**
 * Input hashing for stage manifests.
 *
 * A file up to `fullHashLimit` bytes (default 256 MiB) is hashed by its whole content (sha256). A larger file
 * (a 21M-passage TSV, an embedding shard of tens of GB) would cost minutes per check, so it is identified by
 * size + mtime + sha256 of its first and last MiB: this catches replaced, truncated and appended files, not an
 * in-place edit of the middle that keeps size and mtime (documented trade-off). A directory hashes to the
 * sha256 of its sorted `relative-path\0file-hash` lines; entries named like our temp/scratch dirs are ignored.
 */
export interface HashOptions {
  /** Files larger than this are hashed partially (size + mtime + head/tail). Default 256 MiB. */
  fullHashLimit?: number;
}

export const DEFAULT_FULL_HASH_LIMIT = 256 * 1024 * 1024;
const PARTIAL_CHUNK = 1024 * 1024;

// Per-process memo: the same input is often hashed by several stages of one run.
const memo = new Map<string, string>();

function memoKey(path: string, st: Stats, limit: number): string {
  return `${path}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.ino}\0${limit}`;
}

/** sha256 (hex) of a file; `partial:`-prefixed digest for files above the limit (see module comment). */
export function hashFile(path: string, options: HashOptions = {}): string {
  const limit = options.fullHashLimit ?? DEFAULT_FULL_HASH_LIMIT;
  const st = statSync(path);
  const key = memoKey(path, st, limit);
  const hit = memo.get(key);
  if (hit) return hit;
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(PARTIAL_CHUNK * 4, Math.max(1, st.size)));
    if (st.size <= limit) {
      let pos = 0;
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n <= 0) break;
        h.update(buf.subarray(0, n));
        pos += n;
      }
    } else {
      h.update(`size=${st.size};mtime=${Math.floor(st.mtimeMs)};`);
      for (const start of [0, Math.max(0, st.size - PARTIAL_CHUNK)]) {
        const n = readSync(fd, buf, 0, PARTIAL_CHUNK, start);
        h.update(buf.subarray(0, n));
      }
    }
  } finally {
    closeSync(fd);
  }
  const digest = (st.size <= limit ? '' : 'partial:') + h.digest('hex');
  memo.set(key, digest);
  return digest;
}

/**
 * True for names that never count as a directory's content: the runner's temp, old and scratch directories, and
 * a stage's own `stage-manifest.json` (its timings differ between identical runs; its outputs are what matters).
 */
export function isScratchName(name: string): boolean {
  return /\.(tmp|old)-[^/]*$/.test(name) || name.endsWith('.ckpt') || name === 'stage-manifest.json';
}

/** Hash of a file or a directory tree (see module comment). Throws ENOENT for a missing path. */
export function hashPath(path: string, options: HashOptions = {}): string {
  const st = statSync(path);
  if (!st.isDirectory()) return hashFile(path, options);
  const lines: string[] = [];
  const walk = (dir: string, rel: string): void => {
    const names = readdirSync(dir).sort();
    for (const name of names) {
      if (isScratchName(name)) continue;
      const full = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(full).isDirectory()) walk(full, r);
      else lines.push(`${r}\0${hashFile(full, options)}`);
    }
  };
  walk(path, '');
  return 'dir:' + createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** sha256 of a canonical JSON rendering (object keys sorted), used for resolved configs. */
export function hashJson(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** JSON with object keys sorted at every level, so that equal configs hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as Record<string, unknown>).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}
