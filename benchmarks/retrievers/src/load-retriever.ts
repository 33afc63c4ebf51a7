import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createBm25Retriever } from './builtins/bm25.js';
import { createDenseRetriever } from './builtins/dense.js';
import type { RetrieverFactory } from '@fidkd/data';

/** The built-in retrievers by name. */
export const BUILTIN_RETRIEVERS: Readonly<Record<string, RetrieverFactory>> = {
  bm25: createBm25Retriever,
  dense: createDenseRetriever,
};

/** A retriever spec that cannot be loaded (unknown name, missing module, no factory export). */
export class RetrieverLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetrieverLoadError';
  }
}

/**
 * Resolves a retriever spec to its factory: a built-in name (`bm25`, `dense`), or a path to an ES module
 * (relative to `cwd`) exporting a RetrieverFactory as `default` or `createRetriever`.
 */
export async function loadRetrieverFactory(spec: string, cwd = process.cwd()): Promise<RetrieverFactory> {
  const builtin = BUILTIN_RETRIEVERS[spec];
  if (builtin) return builtin;
  const looksLikePath = spec.includes('/') || spec.includes('\\') || /\.[cm]?[jt]s$/.test(spec);
  if (!looksLikePath) {
    throw new RetrieverLoadError(`unknown retriever "${spec}": use ${Object.keys(BUILTIN_RETRIEVERS).join(', ')} or a path to a module exporting a factory`);
  }
  const file = isAbsolute(spec) ? spec : resolve(cwd, spec);
  if (!existsSync(file)) throw new RetrieverLoadError(`retriever module ${file} does not exist`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new RetrieverLoadError(`retriever module ${file} failed to load: ${(err as Error).message}`);
  }
  const factory = typeof mod.createRetriever === 'function' ? mod.createRetriever : mod.default;
  if (typeof factory !== 'function') {
    throw new RetrieverLoadError(`retriever module ${file} exports no factory: export \`default\` or \`createRetriever\` as (options, context) => Promise<Retriever>`);
  }
  return factory as RetrieverFactory;
}
