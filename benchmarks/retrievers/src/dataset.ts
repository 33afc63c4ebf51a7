import { mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadQuestions, writeSyntheticWorld, type FidExample, type SyntheticWorldOptions } from '@fidkd/data';

/** A benchmark dataset: questions with answers and the passage collection they are asked over. */
export interface BenchmarkDataset {
  name: string;
  passagesFile: string;
  /** The question file, when the questions come from one (named in errors). */
  questionsFile?: string;
  questions: FidExample[];
}

/** The synthetic world (seeded) as a dataset; files are cached under `dir` (default a temp dir per seed+size). */
export async function syntheticDataset(options: { seed: number; split?: 'train' | 'dev' | 'test'; world?: Omit<SyntheticWorldOptions, 'seed'>; dir?: string }): Promise<BenchmarkDataset> {
  const split = options.split ?? 'dev';
  const tag = JSON.stringify(options.world ?? {}).replace(/[^a-zA-Z0-9]+/g, '_');
  const dir = options.dir ?? join(tmpdir(), `fidkd-world-${options.seed}-${tag}`);
  mkdirSync(dir, { recursive: true });
  const files = existsSync(join(dir, 'world.json'))
    ? { passages: join(dir, 'passages.tsv'), [split]: join(dir, `${split}.json`) } as Record<string, string>
    : ((await writeSyntheticWorld(dir, { ...options.world, seed: options.seed })) as unknown as Record<string, string>);
  return { name: `synthetic(seed=${options.seed}, ${split})`, passagesFile: files.passages!, questionsFile: files[split]!, questions: await loadQuestions(files[split]!) };
}

/** A FiD-format question file (answers needed; ctxs ignored) and a passages TSV. */
export async function fidDataset(questionsFile: string, passagesFile: string): Promise<BenchmarkDataset> {
  if (!existsSync(questionsFile)) throw new Error(`question file ${questionsFile} does not exist`);
  if (!existsSync(passagesFile)) throw new Error(`passages file ${passagesFile} does not exist`);
  return { name: questionsFile, passagesFile, questionsFile, questions: await loadQuestions(questionsFile) };
}
