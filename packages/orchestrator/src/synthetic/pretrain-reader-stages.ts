import { join } from 'node:path';
import { generateSyntheticWorld } from '@fidkd/data';
import * as tok from '@fidkd/tokenization';
import type { StageDefinition } from '../runner/stage-runner.js';
import { pretrainReaderStage, type PretrainReaderConfig } from '../stages/pretrain-reader.js';
import { tokenizerCorpus } from './prepare.js';

/** Settings of `fidkd pretrain-reader`: the worlds, the fixed vocabulary trained on them, the reader pretraining. */
export interface ReaderPretrainingConfig {
  tokenizer: { vocab_size: number };
  reader: Omit<PretrainReaderConfig, 'world'> & { world: PretrainReaderConfig['world'] };
}

export const PRETRAIN_READER_KEYS = { tokenizer: 'pretrain-reader/tokenizer', reader: 'pretrain-reader/reader' } as const;

/**
 * The reader pretraining as resumable stages: a WordPiece vocabulary trained on the pretraining worlds (their
 * passages and question texts, so that every world of the generator, of any seed, tokenizes into whole words), then
 * the self-supervised cloze pretraining (pretrain-reader), from fresh weights or from `init` (a reader pretrained
 * before, for a further phase with other settings; it keeps that reader's own tokenizer, whose vocabulary its
 * embeddings were made for). The reader directory holds the checkpoint and the tokenizer a demo loads.
 */
export function readerPretrainingStages(c: ReaderPretrainingConfig, runDir: string, init?: string): { stages: StageDefinition<unknown>[]; reader: string } {
  const tokDir = join(runDir, PRETRAIN_READER_KEYS.tokenizer);
  const tokenizerFile = init ? join(init, 'tokenizer.json') : join(tokDir, 'tokenizer.json');
  const tokenizer: StageDefinition<{ vocab_size: number; worlds: number[]; world: PretrainReaderConfig['world'] }> = {
    stage: 'tokenizer', iteration: 'prepare', key: PRETRAIN_READER_KEYS.tokenizer,
    config: { vocab_size: c.tokenizer.vocab_size, worlds: [...c.reader.worlds, c.reader.eval_world], world: c.reader.world }, inputs: {},
    async run(ctx) {
      const texts: string[] = [];
      for (const seed of ctx.config.worlds) {
        const w = generateSyntheticWorld({ ...ctx.config.world, seed });
        texts.push(...tokenizerCorpus(w.passages, [...w.train, ...w.dev, ...w.test]));
      }
      const t = tok.trainWordPiece(texts, { vocabSize: ctx.config.vocab_size });
      t.save(join(ctx.outDir, 'tokenizer.json'));
      return { texts: texts.length, vocab_size: t.vocabSize };
    },
  };
  const reader: StageDefinition<PretrainReaderConfig> = {
    stage: 'pretrain-reader', iteration: 'prepare', key: PRETRAIN_READER_KEYS.reader, config: c.reader,
    inputs: { tokenizer: tokenizerFile, ...(init ? { init } : {}) }, run: pretrainReaderStage,
  };
  const stages = init ? [reader] : [tokenizer, reader];
  return { stages: stages as StageDefinition<unknown>[], reader: join(runDir, PRETRAIN_READER_KEYS.reader) };
}
