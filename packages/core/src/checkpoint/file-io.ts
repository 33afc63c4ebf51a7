/**
 * Whole-file reads into a fresh, 8-byte-aligned buffer (so typed-array views into it are possible) and atomic
 * writes (temp file in the same directory, fsync, rename) shared by the checkpoint readers and writers.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from './errors.js';

const CHUNK = 1 << 30; // readSync/writeSync move at most ~2 GiB per call

/**
 * Read a whole file into a new Uint8Array whose buffer starts at byte 0 of its own ArrayBuffer. (Node's
 * `readFileSync` may hand out a slice of a shared pool for small files, which breaks alignment reasoning.)
 */
export function readWholeFile(file: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new CheckpointError(file, `cannot open: ${(e as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new CheckpointError(file, 'not a regular file');
    const size = stat.size;
    let out: Uint8Array;
    try {
      out = new Uint8Array(size);
    } catch {
      throw new CheckpointError(file, `file of ${size} bytes is too large to read into memory`);
    }
    let pos = 0;
    while (pos < size) {
      let n: number;
      try {
        n = readSync(fd, out, pos, Math.min(CHUNK, size - pos), pos);
      } catch (e) {
        throw new CheckpointError(file, `cannot read: ${(e as Error).message}`);
      }
      if (n <= 0) throw new CheckpointError(file, `file shrank while reading (got ${pos} of ${size} bytes)`);
      pos += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/**
 * Write `chunks` to `file` atomically: they go to a temp file next to it, which is fsynced and renamed over the
 * target, so a crash leaves either the old file or the complete new one, never a torn file.
 */
export function writeFileAtomic(file: string, chunks: readonly Uint8Array[]): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx');
    for (const chunk of chunks) {
      let pos = 0;
      while (pos < chunk.byteLength) {
        pos += writeSync(fd, chunk, pos, Math.min(CHUNK, chunk.byteLength - pos));
      }
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(file, `cannot write: ${(e as Error).message}`);
  }
}
