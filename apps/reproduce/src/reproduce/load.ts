import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PipelineConfig } from '@fidkd/orchestrator';
import { applySets, loadConfigFile, validateConfigFile } from '../config-files.js';
import { UserError } from '../ui/errors.js';
import { REPRODUCE_DEFAULTS } from './defaults.js';

/** Loads and validates a pipeline config file (+ --set overrides); every problem is reported at once. */
export function loadPipelineConfig(file: string, sets?: string[]): PipelineConfig {
  const c = applySets(loadConfigFile(REPRODUCE_DEFAULTS, file), sets?.filter((s) => !s.startsWith('slurm.')));
  validateConfigFile(c, file);
  return c;
}

/**
 * Checks that the data, tokenizers and initial checkpoints of a config exist before anything runs, listing
 * every missing one with where it comes from.
 */
export function checkPipelineFiles(c: PipelineConfig, file: string): void {
  const missing: string[] = [];
  const need = (path: string | undefined, what: string): void => {
    if (path && !existsSync(path)) missing.push(`${what}: ${path}`);
  };
  need(c.data.passages, 'passages TSV (data.passages; DPR psgs_w100.tsv)');
  need(c.data.train, 'training questions with D⁰ ctxs (data.train)');
  need(c.data.dev, 'dev questions with D⁰ ctxs (data.dev)');
  need(c.data.test, 'test questions with D⁰ ctxs (data.test)');
  need(c.tokenizer.reader, 'reader tokenizer.json (tokenizer.reader)');
  need(c.tokenizer.retriever, 'retriever tokenizer.json (tokenizer.retriever)');
  if (c.reader.init) {
    need(c.reader.init, 'reader checkpoint directory (reader.init)');
    if (existsSync(c.reader.init) && !existsSync(join(c.reader.init, 'config.json'))) missing.push(`reader.init ${c.reader.init} has no config.json (expected an HF checkpoint directory)`);
  }
  if (c.retriever.init) {
    need(c.retriever.init, 'retriever checkpoint directory (retriever.init)');
    if (existsSync(c.retriever.init) && !existsSync(join(c.retriever.init, 'config.json'))) missing.push(`retriever.init ${c.retriever.init} has no config.json (expected an HF checkpoint directory)`);
  }
  if (missing.length) {
    throw new UserError(
      `${file}: ${missing.length} input(s) missing:\n  - ${missing.join('\n  - ')}`,
      'apps/reproduce/README.md ("Data and checkpoints") says how to obtain them; or point the config at your copies',
    );
  }
}
