import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassageIndex } from '@fidkd/faiss-index';
import { ConfigError, validatePipelineConfig, type PipelineConfig, type ValidateOptions } from './config.js';

/**
 * The embedding dimension the index of a run will have, when the config says it: the projection's
 * indexing_dimension, else the fresh model's hidden size, else the initial checkpoint's config.json.
 */
function plannedDimension(c: PipelineConfig): number | undefined {
  if (c.retriever.indexing_dimension) return c.retriever.indexing_dimension;
  const bert = (c.retriever.model as { bert?: { hiddenSize?: unknown } } | undefined)?.bert;
  if (typeof bert?.hiddenSize === 'number') return bert.hiddenSize;
  const file = c.retriever.init ? join(c.retriever.init, 'config.json') : undefined;
  if (!file || !existsSync(file)) return undefined;
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as { indexing_dimension?: unknown; projection?: unknown; hidden_size?: unknown };
    const d = j.projection && typeof j.indexing_dimension === 'number' ? j.indexing_dimension : j.hidden_size;
    return typeof d === 'number' ? d : undefined;
  } catch {
    return undefined; // the checkpoint's own loader reports a broken config.json
  }
}

/**
 * Everything about a pipeline config that can be checked before any work: the values
 * (validatePipelineConfig) and the faiss factory string, which faiss is asked to build at the run's dimension
 * now rather than after all training. Throws a ConfigError naming `source` and the keys.
 */
export function preflightPipelineConfig(c: PipelineConfig, source: string, options: ValidateOptions = {}): void {
  validatePipelineConfig(c, source, options);
  const dimension = plannedDimension(c) ?? 64;
  try {
    PassageIndex.create({ dimension, factory: c.index.factory, metric: 'ip', efSearch: c.index.ef_search, nprobe: c.index.nprobe });
  } catch (err) {
    throw new ConfigError(`${source}:\n  - ${options.keyPrefix ?? ''}index.factory ${JSON.stringify(c.index.factory)}: ${(err as Error).message}`);
  }
}
