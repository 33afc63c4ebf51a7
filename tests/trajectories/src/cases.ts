// The training-parity cases of cases.json: fidkd's trajectory on the committed batches, compared with the
// committed PyTorch reference (fixtures/<case>/reference.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import {
  compareTrajectories,
  disposeTrajectoryModel,
  formatTrajectoryComparison,
  loadTrajectoryModel,
  readTrajectoryBatches,
  runTrajectory,
  type TrajectoryComparison,
  type TrajectoryRecord,
} from '@fidkd/orchestrator';

export const HERE = fileURLToPath(new URL('..', import.meta.url));
export const ROOT = join(HERE, '..', '..');

export interface TrajectoryCase {
  name: string;
  checkpoint: string;
  seed: number;
  args: string[];
}

export const SPEC = JSON.parse(readFileSync(join(HERE, 'cases.json'), 'utf8')) as { train_steps: number; cases: TrajectoryCase[]; checkpoints: Record<string, string[]> };

/** Runs one case on the active backend and compares it with its reference; checks that no tensor is left behind. */
export async function runCase(c: TrajectoryCase): Promise<{ comparison: TrajectoryComparison; report: string; record: TrajectoryRecord; leaked: number }> {
  const dir = join(HERE, 'fixtures', c.name);
  const batches = readTrajectoryBatches(join(dir, 'batches.json'));
  const reference = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as TrajectoryRecord;
  const before = tf.memory().numTensors;
  const model = loadTrajectoryModel(join(ROOT, c.checkpoint));
  let record: TrajectoryRecord;
  try {
    record = await runTrajectory(model, batches, SPEC.train_steps);
  } finally {
    disposeTrajectoryModel(model);
  }
  const comparison = compareTrajectories(record, reference, batches.optimizer);
  return { comparison, report: `${c.name} on ${tf.getBackend()}:\n${formatTrajectoryComparison(comparison)}`, record, leaked: tf.memory().numTensors - before };
}
