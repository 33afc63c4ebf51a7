/** Opening a Hugging Face checkpoint directory whichever weight file it holds. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CheckpointError } from './errors.js';
import { readHfConfig } from './hf-config.js';
import { readPytorchCheckpoint } from './pytorch.js';
import { readSafetensors } from './safetensors.js';
import type { LoadedCheckpoint, StateDict } from './types.js';

/** Weight files looked for, in order of preference. */
export const WEIGHT_FILES = [
  'model.safetensors',
  'model.safetensors.index.json',
  'pytorch_model.bin',
  'pytorch_model.bin.index.json',
] as const;

/**
 * Load a checkpoint directory: `config.json` (empty object when absent) and the weights of the first weight file
 * found among `model.safetensors`, `model.safetensors.index.json` (sharded), `pytorch_model.bin`,
 * `pytorch_model.bin.index.json` (sharded). Synchronous.
 * @throws CheckpointError listing the files looked for when none exists, or from the readers on bad files.
 */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new CheckpointError(dir, 'not a checkpoint directory');
  const config = existsSync(join(dir, 'config.json')) ? readHfConfig(dir) : {};
  for (const name of WEIGHT_FILES) {
    const weightsFile = join(dir, name);
    if (!existsSync(weightsFile)) continue;
    const tensors = name.endsWith('.index.json') ? readSharded(weightsFile) : readWeights(weightsFile);
    return { dir, config, weightsFile, tensors };
  }
  throw new CheckpointError(dir, `no weight file found; looked for ${WEIGHT_FILES.join(', ')}`);
}

function readWeights(file: string): StateDict {
  return file.endsWith('.safetensors') ? readSafetensors(file) : readPytorchCheckpoint(file);
}

/** A sharded checkpoint: `{ "weight_map": { tensorName: shardFile } }` next to its shards. */
function readSharded(indexFile: string): StateDict {
  let index: unknown;
  try {
    index = JSON.parse(readFileSync(indexFile, 'utf8'));
  } catch (e) {
    throw new CheckpointError(indexFile, `shard index is not valid JSON: ${(e as Error).message}`);
  }
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null) throw new CheckpointError(indexFile, 'shard index has no weight_map object');
  const shards = new Set<string>();
  for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\')) {
      throw new CheckpointError(indexFile, `weight_map.${name} must be a file name in the same directory`);
    }
    shards.add(shard);
  }
  const out: StateDict = new Map();
  for (const shard of [...shards].sort()) {
    const file = join(dirname(indexFile), shard);
    for (const [name, t] of readWeights(file)) {
      if ((map as Record<string, unknown>)[name] !== shard) continue;
      out.set(name, t);
    }
  }
  for (const name of Object.keys(map as Record<string, unknown>)) {
    if (!out.has(name)) throw new CheckpointError(indexFile, `tensor ${name} is missing from shard ${(map as Record<string, string>)[name]}`);
  }
  return out;
}
