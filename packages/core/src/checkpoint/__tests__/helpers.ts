/**
 * Helpers shared by the checkpoint I/O tests: where the oracle fixtures are, a scratch directory per test file,
 * and the assertions on errors and tensors they all make.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from '@jest/globals';
import { CheckpointError, type StateDict } from '../../index.js';

/** The oracle fixtures directory (repository's fixtures/oracle/, with a trailing separator). */
export const ORACLE = fileURLToPath(new URL('../../../../../fixtures/oracle/', import.meta.url));

/** A test file's scratch directory and a writer into it. */
export interface ScratchDir {
  dir: string;
  /** Writes `bytes` to `dir/name` and returns that path. */
  write(name: string, bytes: Uint8Array): string;
}

/** Creates a temporary directory removed after the calling test file's tests (call at the file's top level). */
export function scratchDir(prefix: string): ScratchDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    write(name, bytes) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      return file;
    },
  };
}

/** Expects `fn` to throw a CheckpointError whose message names `file` and matches `pattern`. */
export function expectCheckpointError(fn: () => unknown, file: string, pattern: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CheckpointError);
  expect((err as Error).message).toContain(file);
  expect((err as Error).message).toMatch(pattern);
}

/** The bytes of a typed array, as a Buffer view (no copy). */
export function bytesOf(data: ArrayBufferView): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Expects two state dicts to hold the same tensor names and, per tensor, the same dtype, shape and bytes. */
export function expectSameTensors(a: StateDict, b: StateDict): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [name, t] of a) {
    const u = b.get(name)!;
    expect({ name, dtype: u.dtype, shape: u.shape }).toEqual({ name, dtype: t.dtype, shape: t.shape });
    expect(Buffer.compare(bytesOf(t.data), bytesOf(u.data))).toBe(0);
  }
}
