import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFromHf, DEFAULT_BERT_CONFIG, resolveConfig } from '@fidkd/bi-encoder';
import { PassageIndex } from '@fidkd/faiss-index';
import { createT5Config, parseT5Config } from '@fidkd/fid-reader';
import { loadTokenizer } from '@fidkd/tokenization';
import { ConfigError, pipelineConfigProblems, type PipelineConfig, type ValidateOptions } from './config.js';
import { didYouMeanSuffix } from './did-you-mean.js';

/**
 * The embedding dimension the index of a run will have, when the config says it: the projection's
 * indexing_dimension, else the fresh model's hidden size, else the initial checkpoint's config.json.
 */
function plannedDimension(c: PipelineConfig): number | undefined {
  if (c.retriever.indexing_dimension) return c.retriever.indexing_dimension;
  const bert = (c.retriever.model as { bert?: { hiddenSize?: unknown } } | undefined)?.bert;
  if (typeof bert?.hiddenSize === 'number') return bert.hiddenSize;
  return checkpointDimension(initConfig(c));
}

/** The embedding size of a retriever checkpoint's config.json: its projection's, else BERT's hidden size. */
function checkpointDimension(j: Record<string, unknown> | undefined): number | undefined {
  const d = j?.projection && typeof j.indexing_dimension === 'number' ? j.indexing_dimension : j?.hidden_size;
  return typeof d === 'number' ? d : undefined;
}

/** The reader's initial checkpoint's config.json, when there is one to read. */
function readerInitConfig(c: PipelineConfig): { num_layers?: number; num_decoder_layers?: number } | undefined {
  return readConfigJson(c.reader.init) as { num_layers?: number; num_decoder_layers?: number } | undefined;
}

/** The retriever's initial checkpoint's config.json, when there is one to read. */
function initConfig(c: PipelineConfig): Record<string, unknown> | undefined {
  return readConfigJson(c.retriever.init);
}

function readConfigJson(dir: string | undefined): Record<string, unknown> | undefined {
  const file = dir ? join(dir, 'config.json') : undefined;
  if (!file || !existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined; // the checkpoint's own loader reports a broken config.json
  }
}

/**
 * Each initial checkpoint's config.json read as its model will read it (a broken file, a missing or mistyped
 * key), so that it is refused before any stage rather than when the stage loads it. Its weights are checked by
 * the loader (their shapes against this config).
 */
function initCheckpointProblems(c: PipelineConfig, pre: string): string[] {
  const problems: string[] = [];
  for (const section of ['reader', 'retriever'] as const) {
    const dir = c[section].init;
    const file = typeof dir === 'string' && dir ? join(dir, 'config.json') : undefined;
    if (!file || !existsSync(file)) continue; // a missing checkpoint is named with the other missing files
    try {
      const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: expected a JSON object`);
      const json = raw as Record<string, unknown>;
      if (section === 'reader') parseT5Config(json, file);
      // a projection is known from the weights when config.json does not say: a dimension other than BERT's implies one
      else configFromHf(json, file, typeof json.indexing_dimension === 'number' && json.indexing_dimension !== json.hidden_size);
    } catch (err) {
      const message = err instanceof SyntaxError ? `invalid JSON: ${err.message}` : (err as Error).message;
      problems.push(`${pre}${section}.init: ${message.startsWith(file) ? message : `${file}: ${message}`}`);
    }
  }
  return problems;
}

/** Keys of `model` that the model's config does not know (typos such as `d_modle`), as `prefix.key`. */
function unknownKeys(model: Record<string, unknown>, known: readonly string[], prefix: string): string[] {
  return Object.keys(model).filter((k) => !known.includes(k)).map((k) => `${prefix}.${k}: not a key of this config${didYouMeanSuffix(k, known) || ` (known: ${known.join(', ')})`}`);
}

/**
 * The model sections (fresh weights): every key must be one the model config has, every value valid for it.
 * The vocabulary size comes from the tokenizer later; a placeholder stands in for it here.
 */
function modelProblems(c: PipelineConfig, pre: string): string[] {
  const problems: string[] = [];
  const check = (fn: () => void, where: string): void => {
    try {
      fn();
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message.replace(/^[^:]*: /, '')}`);
    }
  };
  const reader = c.reader.model;
  let decoderLayers = readerInitConfig(c)?.num_decoder_layers ?? readerInitConfig(c)?.num_layers;
  if (reader && typeof reader === 'object' && !c.reader.init) {
    const probe = createT5Config({ vocab_size: 64, d_model: 8 });
    problems.push(...unknownKeys(reader, Object.keys(probe), `${pre}reader.model`));
    // the vocabulary is the tokenizer's (vocabularyProblems): a placeholder that bounds no token id
    check(() => (decoderLayers = createT5Config({ vocab_size: 2 ** 31 - 1, d_model: 8, ...reader } as Parameters<typeof createT5Config>[0]).num_decoder_layers), `${pre}reader.model`);
  }
  // the score aggregation's decoder layers must exist in the reader
  if (typeof decoderLayers === 'number' && c.score.layers?.some((l) => l >= (decoderLayers as number))) {
    problems.push(`${pre}score.layers ${JSON.stringify(c.score.layers)}: the reader has ${decoderLayers} decoder layer(s) (0 … ${decoderLayers - 1})`);
  }
  const retriever = c.retriever.model as { bert?: unknown; retriever?: unknown } | undefined;
  if (retriever && typeof retriever === 'object') {
    problems.push(...unknownKeys(retriever, ['bert', 'retriever'], `${pre}retriever.model`));
    const flags = Object.keys(resolveConfig({ bert: { hiddenSize: 8, numAttentionHeads: 1, intermediateSize: 8 } }).retriever);
    if (retriever.bert && typeof retriever.bert === 'object') problems.push(...unknownKeys(retriever.bert as Record<string, unknown>, Object.keys(DEFAULT_BERT_CONFIG), `${pre}retriever.model.bert`));
    if (retriever.retriever && typeof retriever.retriever === 'object') problems.push(...unknownKeys(retriever.retriever as Record<string, unknown>, flags, `${pre}retriever.model.retriever`));
    check(() => resolveConfig({ bert: { vocabSize: 2 ** 31 - 1, ...(retriever.bert as object) }, retriever: retriever.retriever as object }), `${pre}retriever.model`);
  }
  // BERT's absolute positions bound the retriever's input lengths (the initial checkpoint's config, or a fresh model's)
  const init = c.retriever.init ? initConfig(c) : undefined;
  const fresh = (retriever?.bert as { maxPositionEmbeddings?: unknown } | undefined)?.maxPositionEmbeddings;
  const maxPositions = c.retriever.init ? init?.max_position_embeddings : typeof fresh === 'number' ? fresh : DEFAULT_BERT_CONFIG.maxPositionEmbeddings;
  const positionsOf = c.retriever.init ? `max_position_embeddings (${String(maxPositions)}) of ${join(c.retriever.init, 'config.json')} (${pre}retriever.init)` : `the retriever's max_position_embeddings (${String(maxPositions)})`;
  for (const k of ['question_maxlength', 'passage_maxlength'] as const) {
    if (typeof maxPositions === 'number' && c.retriever[k] > maxPositions) {
      problems.push(`${pre}retriever.${k} (${c.retriever[k]}) exceeds ${positionsOf}`);
    }
  }
  // with an initial checkpoint, its config.json fixes the embedding size: indexing_dimension may only repeat it
  const dimension = checkpointDimension(init);
  if (init && c.retriever.indexing_dimension && dimension !== undefined && c.retriever.indexing_dimension !== dimension) {
    problems.push(`${pre}retriever.indexing_dimension (${c.retriever.indexing_dimension}) is ignored: the retriever starts from ${c.retriever.init} (${pre}retriever.init), whose embeddings are ${dimension}-d (${init.projection ? 'its projection' : 'no projection, BERT\'s hidden size'}); remove it or set it to ${dimension}`);
  }
  return problems;
}

/**
 * Each tokenizer must fit its model: a fresh model takes the tokenizer's vocabulary size (a `vocab_size` in
 * `model` may only pad it, as T5's 32128 pads its 32100 tokens), and an initial checkpoint's embedding must hold
 * every id the tokenizer gives (a larger id would read outside it). Tokenizers that do not exist yet (the demo's, before its preparation) are
 * left to the stages.
 */
function vocabularyProblems(c: PipelineConfig, pre: string): string[] {
  const problems: string[] = [];
  for (const section of ['reader', 'retriever'] as const) {
    const file = c.tokenizer?.[section];
    if (typeof file !== 'string' || !file || !existsSync(file)) continue;
    let size: number;
    try {
      size = loadTokenizer(file).vocabSize;
    } catch (err) {
      problems.push(`${pre}tokenizer.${section} ${file}: ${(err as Error).message.replace(`${file}: `, '')}`);
      continue;
    }
    const model = c[section].model as { vocab_size?: unknown; bert?: { vocabSize?: unknown } } | undefined;
    const [key, given] = section === 'reader' ? ['model.vocab_size', model?.vocab_size] : ['model.bert.vocabSize', model?.bert?.vocabSize];
    if (given !== undefined && !(typeof given === 'number' && Number.isInteger(given) && given >= size)) {
      problems.push(`${pre}${section}.${key} (${JSON.stringify(given)}) must be an integer ≥ the ${size} tokens of ${file} (${pre}tokenizer.${section}), or left out: a fresh model then takes the tokenizer's`);
    }
    const init = c[section].init ? readConfigJson(c[section].init)?.vocab_size : undefined;
    if (typeof init === 'number' && size > init) {
      problems.push(`${pre}tokenizer.${section} ${file} has ${size} tokens, more than the vocab_size ${init} of ${join(c[section].init!, 'config.json')} (${pre}${section}.init): its ids above ${init - 1} would read outside the embedding`);
    }
  }
  return problems;
}

/**
 * Everything about a pipeline config that can be checked before any work: the values
 * (validatePipelineConfig) and the faiss factory string, which faiss is asked to build at the run's dimension
 * now rather than after all training. Throws a ConfigError naming `source` and the keys.
 */
export function preflightPipelineConfig(c: PipelineConfig, source: string, options: ValidateOptions = {}): void {
  const problems = preflightProblems(c, options);
  if (problems.length) throw new ConfigError(`${source}:\n  - ${problems.join('\n  - ')}`);
}

/** The problems {@link preflightPipelineConfig} reports, one line each, all of them. */
export function preflightProblems(c: PipelineConfig, options: ValidateOptions = {}): string[] {
  const problems = pipelineConfigProblems(c, options);
  const sections = ['reader', 'retriever', 'score', 'index'] as const;
  if (sections.some((s) => c[s] === null || typeof c[s] !== 'object')) return problems;
  problems.push(...modelProblems(c, options.keyPrefix ?? ''), ...initCheckpointProblems(c, options.keyPrefix ?? ''), ...vocabularyProblems(c, options.keyPrefix ?? ''));
  const dimension = plannedDimension(c) ?? 64;
  if (typeof c.index.factory === 'string' && c.index.factory.trim()) {
    try {
      PassageIndex.create({ dimension, factory: c.index.factory, metric: 'ip', efSearch: c.index.ef_search, nprobe: c.index.nprobe });
    } catch (err) {
      problems.push(`${options.keyPrefix ?? ''}index.factory ${JSON.stringify(c.index.factory)}: ${(err as Error).message}`);
    }
  }
  return problems;
}
