import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { Bm25Index } from './bm25.js';
import type { Bm25Options } from './bm25.js';
import { buildInitialContexts } from './initial-contexts.js';
import { writePassagesTsv } from './passages-tsv.js';
import { writeQuestions } from './questions.js';
import { generateSyntheticWorld } from './synthetic-world.js';
import type { SyntheticWorldOptions } from './synthetic-world.js';

/** Options of {@link writeSyntheticWorld}: the world's knobs plus what to attach. */
export interface WriteSyntheticWorldOptions extends SyntheticWorldOptions {
  /**
   * BM25 passages to attach to every question as `ctxs` (D⁰). Default 0: question files without ctxs, to be
   * filled by a separate retrieval step (`buildInitialContexts`).
   */
  contexts?: number;
  /** BM25 parameters used when `contexts` > 0. */
  bm25?: Pick<Bm25Options, 'k1' | 'b'>;
}

/** Paths written by {@link writeSyntheticWorld}. */
export interface SyntheticWorldFiles {
  passages: string;
  train: string;
  dev: string;
  test: string;
  /** world.json: resolved options and counts. */
  manifest: string;
}

/**
 * Generates the synthetic world and writes `passages.tsv` (psgs_w100 format), `train.json`, `dev.json`,
 * `test.json` (FiD format) and `world.json` into `dir`, each atomically. Byte-identical for the same options.
 */
export async function writeSyntheticWorld(dir: string, options: WriteSyntheticWorldOptions = {}): Promise<SyntheticWorldFiles> {
  const { contexts = 0, bm25, ...worldOptions } = options;
  const world = generateSyntheticWorld(worldOptions);
  const files: SyntheticWorldFiles = {
    passages: join(dir, 'passages.tsv'),
    train: join(dir, 'train.json'),
    dev: join(dir, 'dev.json'),
    test: join(dir, 'test.json'),
    manifest: join(dir, 'world.json'),
  };
  let { train, dev, test } = world;
  if (contexts > 0) {
    const index = await Bm25Index.build(world.passages, bm25);
    const byId = new Map(world.passages.map((p) => [p.id, p]));
    train = buildInitialContexts(train, index, byId, { k: contexts });
    dev = buildInitialContexts(dev, index, byId, { k: contexts });
    test = buildInitialContexts(test, index, byId, { k: contexts });
  }
  await writePassagesTsv(files.passages, world.passages);
  await writeQuestions(files.train, train);
  await writeQuestions(files.dev, dev);
  await writeQuestions(files.test, test);
  const manifest = {
    generator: '@fidkd/data synthetic world',
    options: world.options,
    contexts,
    counts: { passages: world.passages.length, train: train.length, dev: dev.length, test: test.length },
  };
  await writeFileAtomic(files.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  return files;
}
