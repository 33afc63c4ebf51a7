/** Hugging Face `config.json` reading. */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from './errors.js';

/**
 * Read and parse `config.json` of a checkpoint directory (or the JSON file itself when `dir` names a file).
 * @throws CheckpointError naming the file when it is missing, not valid JSON, or not a JSON object.
 */
export function readHfConfig(dir: string): Record<string, unknown> {
  let file = join(dir, 'config.json');
  try {
    if (statSync(dir).isFile()) file = dir;
  } catch {
    throw new CheckpointError(dir, 'no such checkpoint directory');
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CheckpointError(file, `cannot read config: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(file, `config is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CheckpointError(file, 'config must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}
