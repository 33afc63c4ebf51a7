import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Metrics } from './events.js';
import { hashJson } from './hash.js';

/** Name of the manifest file inside a stage's output directory. Written last: its presence means "done". */
export const MANIFEST_FILE = 'stage-manifest.json';
export const MANIFEST_VERSION = 1;

/** One output file of a stage with its size and content hash (relative to the stage directory). */
export interface ManifestOutput {
  path: string;
  bytes: number;
  hash: string;
}

/**
 * What a finished stage leaves behind. `key` is the hash of (stage, iteration, config, input hashes): a rerun
 * whose key equals the manifest's, and whose outputs are all present with the recorded sizes, is skipped.
 */
export interface StageManifest {
  version: number;
  stage: string;
  iteration: number | string;
  key: string;
  config: unknown;
  inputs: Record<string, { path: string; hash: string }>;
  outputs: ManifestOutput[];
  metrics: Metrics;
  timings: { startedAt: string; endedAt: string; seconds: number };
  /** Versions of the implementation (e.g. package versions), part of the key. */
  implementation?: string;
}

/** The skip key of a stage instance: hash of everything that determines its outputs. */
export function stageKey(
  stage: string,
  iteration: number | string,
  config: unknown,
  inputHashes: Record<string, string>,
  implementation?: string,
): string {
  return hashJson({ stage, iteration, config, inputs: inputHashes, implementation: implementation ?? null });
}

/** Reads a stage directory's manifest; undefined when absent; throws with the file name when unreadable. */
export function readManifest(stageDir: string): StageManifest | undefined {
  const file = join(stageDir, MANIFEST_FILE);
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message}); delete the directory to rerun the stage`);
  }
  const m = parsed as StageManifest;
  if (typeof m !== 'object' || m === null || typeof m.key !== 'string' || !Array.isArray(m.outputs)) {
    throw new Error(`${file}: not a stage manifest (expected "key" and "outputs")`);
  }
  return m;
}

/**
 * Why a manifest does not allow skipping, or undefined when the stage is done with this key. With the current
 * input hashes, names the inputs whose content changed since the stage ran (an upstream stage was redone).
 */
export function manifestMismatch(stageDir: string, manifest: StageManifest, key: string, inputHashes?: Record<string, string>): string | undefined {
  if (manifest.version !== MANIFEST_VERSION) return `manifest version ${manifest.version} != ${MANIFEST_VERSION}`;
  if (manifest.key !== key) return changedInputs(manifest, inputHashes ?? {}) ?? 'config changed';
  for (const o of manifest.outputs) {
    const p = join(stageDir, o.path);
    if (!existsSync(p)) return `output ${o.path} is missing`;
    if (statSync(p).size !== o.bytes) return `output ${o.path} has ${statSync(p).size} bytes, manifest says ${o.bytes}`;
  }
  return undefined;
}

/** Which inputs differ from the hashes a manifest recorded ('input(s) "reader" changed since it ran'), if any. */
export function changedInputs(manifest: StageManifest, inputHashes: Record<string, string>): string | undefined {
  const changed = Object.entries(inputHashes).filter(([n, h]) => manifest.inputs?.[n]?.hash !== h).map(([n]) => n);
  return changed.length ? `input(s) ${changed.map((n) => JSON.stringify(n)).join(', ')} changed since it ran` : undefined;
}
