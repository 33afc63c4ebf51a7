import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bm25Index, generateSyntheticWorld, resolveSyntheticWorldOptions, SYNTHETIC_WORLD_VERSION, writePassagesTsv, type SyntheticWorldOptions } from '@fidkd/data';
import { hasAnswer } from '@fidkd/eval';
import * as tok from '@fidkd/tokenization';
import type { StageDefinition } from '../runner/stage-runner.js';
import { pretrainRetrieverStage, type PretrainRetrieverConfig } from '../stages/pretrain-retriever.js';
import { readQuestions, writeQuestions, streamPassages, type FidExample, type Passage } from '../stages/io.js';

/** Settings of the synthetic world's preparation (world size, tokenizer, BM25 D⁰). */
export interface SyntheticPrepareConfig {
  seed: number;
  world: Omit<SyntheticWorldOptions, 'seed'>;
  /**
   * WordPiece vocabulary trained on the world's passages and questions, or `file`: a tokenizer.json to use as it
   * is (the fixed vocabulary of a pretrained reader).
   */
  tokenizer: { vocab_size: number; file?: string };
  /** BM25 (Lucene-like defaults) and the number of passages kept per question in D⁰. */
  bm25: { k1: number; b: number; n_passages: number };
  /** Unsupervised title → passage pretraining of the retriever (the stand-in for a pretrained BERT); absent: none. */
  pretrain_retriever?: Omit<PretrainRetrieverConfig, 'seed'>;
}

/** Files the preparation produces (absolute paths inside the run directory). */
export interface SyntheticData {
  passages: string;
  train: string;
  dev: string;
  test: string;
  tokenizer: string;
  /** The pretrained retriever checkpoint, when `pretrain_retriever` is configured. */
  retriever?: string;
}

export const PREPARE_KEYS = { world: 'prepare/world', tokenizer: 'prepare/tokenizer', bm25: 'prepare/bm25', pretrain: 'prepare/pretrain-retriever' } as const;

/**
 * The corpus a world's tokenizer is trained on: what the models will read, passages and questions in the reader's
 * format (`question: … title: … context: …`), so that the format words and ':' are whole tokens, not [UNK] pieces.
 */
export function tokenizerCorpus(passages: readonly Passage[], questions: readonly FidExample[]): string[] {
  const texts = passages.map((p) => tok.formatReaderInput('', p.title, p.text));
  for (const q of questions) texts.push(tok.formatReaderInput(q.question, '', ''), ...q.answers);
  return texts;
}

/**
 * The preparation stages: world → tokenizer → BM25 D⁰ (with has_answer) [→ retriever pretraining], resumable like
 * the others.
 */
export function syntheticPrepareStages(c: SyntheticPrepareConfig, runDir: string): { stages: StageDefinition<unknown>[]; data: SyntheticData } {
  const worldDir = join(runDir, PREPARE_KEYS.world);
  const tokDir = join(runDir, PREPARE_KEYS.tokenizer);
  const bm25Dir = join(runDir, PREPARE_KEYS.bm25);
  // keyed on the resolved options and the generator's version: a run directory made by an older generator (or
  // with other defaults) is regenerated, not reused
  const { seed: _seed, ...resolved } = resolveSyntheticWorldOptions({ ...c.world, seed: c.seed });
  const world: StageDefinition<{ seed: number; world: SyntheticPrepareConfig['world']; generator: number }> = {
    stage: 'world', iteration: 'prepare', key: PREPARE_KEYS.world, config: { seed: c.seed, world: resolved, generator: SYNTHETIC_WORLD_VERSION }, inputs: {},
    async run(ctx) {
      const w = generateSyntheticWorld({ ...ctx.config.world, seed: ctx.config.seed });
      await writePassagesTsv(join(ctx.outDir, 'passages.tsv'), w.passages);
      for (const split of ['train', 'dev', 'test'] as const) await writeQuestions(join(ctx.outDir, `${split}.json`), w[split]);
      return { passages: w.passages.length, train: w.train.length, dev: w.dev.length, test: w.test.length };
    },
  };
  const tokenizer: StageDefinition<SyntheticPrepareConfig['tokenizer']> = {
    stage: 'tokenizer', iteration: 'prepare', key: PREPARE_KEYS.tokenizer, config: c.tokenizer,
    inputs: { passages: join(worldDir, 'passages.tsv'), train: join(worldDir, 'train.json') },
    async run(ctx): Promise<Record<string, number>> {
      if (ctx.config.file) {
        const t = tok.loadTokenizer(ctx.config.file);
        copyFileSync(ctx.config.file, join(ctx.outDir, 'tokenizer.json'));
        return { vocab_size: t.vocabSize };
      }
      const passages: Passage[] = [];
      for await (const p of streamPassages(ctx.inputs.passages!)) passages.push(p);
      const texts = tokenizerCorpus(passages, await readQuestions(ctx.inputs.train!));
      const t = tok.trainWordPiece(texts, { vocabSize: ctx.config.vocab_size });
      t.save(join(ctx.outDir, 'tokenizer.json'));
      return { texts: texts.length, vocab_size: t.vocabSize };
    },
  };
  const bm25: StageDefinition<SyntheticPrepareConfig['bm25']> = {
    stage: 'bm25', iteration: 'prepare', key: PREPARE_KEYS.bm25, config: c.bm25,
    inputs: { passages: join(worldDir, 'passages.tsv'), train: join(worldDir, 'train.json'), dev: join(worldDir, 'dev.json'), test: join(worldDir, 'test.json') },
    async run(ctx) {
      const passages: Passage[] = [];
      for await (const p of streamPassages(ctx.inputs.passages!)) passages.push(p);
      const byId = new Map(passages.map((p) => [p.id, p]));
      const index = await Bm25Index.build(passages, { k1: ctx.config.k1, b: ctx.config.b, onProgress: ctx.onProgress });
      const metrics: Record<string, number> = {};
      for (const split of ['train', 'dev', 'test'] as const) {
        const qs = await readQuestions(ctx.inputs[split]!);
        const out: FidExample[] = qs.map((q) => ({
          ...q,
          ctxs: index.search(q.question, ctx.config.n_passages).map((h) => {
            const p = byId.get(h.id)!;
            return { id: p.id, title: p.title, text: p.text, score: h.score, has_answer: hasAnswer(q.answers, p.text) };
          }),
        }));
        await writeQuestions(join(ctx.outDir, `${split}.json`), out);
        metrics[`${split}.questions`] = out.length;
      }
      return metrics;
    },
  };
  const stages = [world as StageDefinition<unknown>, tokenizer as StageDefinition<unknown>, bm25 as StageDefinition<unknown>];
  if (c.pretrain_retriever) {
    const pre: StageDefinition<PretrainRetrieverConfig> = {
      stage: 'pretrain-retriever', iteration: 'prepare', key: PREPARE_KEYS.pretrain,
      config: { ...c.pretrain_retriever, seed: c.seed }, inputs: { passages: join(worldDir, 'passages.tsv'), tokenizer: join(tokDir, 'tokenizer.json') },
      run: pretrainRetrieverStage,
    };
    stages.push(pre as StageDefinition<unknown>);
  }
  return {
    stages,
    data: {
      passages: join(worldDir, 'passages.tsv'),
      train: join(bm25Dir, 'train.json'),
      dev: join(bm25Dir, 'dev.json'),
      test: join(bm25Dir, 'test.json'),
      tokenizer: join(tokDir, 'tokenizer.json'),
      retriever: c.pretrain_retriever ? join(runDir, PREPARE_KEYS.pretrain) : undefined,
    },
  };
}
