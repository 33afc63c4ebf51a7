import { hasAnswer as dprHasAnswer } from '@fidkd/eval';
import type { ProgressListener } from '@fidkd/core';
import { ProgressReporter } from '@fidkd/core';
import type { Bm25Index } from './bm25.js';
import type { FidExample, Passage } from './types.js';

/** Passages by id: a Map, a {@link PassageStore}-like object, or a function. */
export type PassageLookup = ReadonlyMap<string, Passage> | { getSync(id: string): Passage | undefined } | ((id: string) => Passage | undefined);

/** Options of {@link buildInitialContexts}. */
export interface InitialContextsOptions {
  /** Passages per question (n_context of D⁰). Default 100. */
  k?: number;
  /** has_answer function; default DPR's string match from @fidkd/eval. */
  hasAnswer?: (answers: readonly string[], text: string) => boolean;
  onProgress?: ProgressListener;
}

function lookupFn(passages: PassageLookup): (id: string) => Passage | undefined {
  if (typeof passages === 'function') return passages;
  if ('getSync' in passages && typeof passages.getSync === 'function') return (id) => passages.getSync(id);
  const map = passages as ReadonlyMap<string, Passage>;
  return (id) => map.get(id);
}

/**
 * D⁰: each question with its top-`k` BM25 passages as FiD `ctxs` (title, text, score, has_answer).
 * Returns new examples; the inputs are not modified.
 */
export function buildInitialContexts(
  examples: readonly FidExample[],
  bm25: Bm25Index,
  passages: PassageLookup,
  options: InitialContextsOptions = {},
): FidExample[] {
  const k = options.k ?? 100;
  const has = options.hasAnswer ?? dprHasAnswer;
  const get = lookupFn(passages);
  const progress = new ProgressReporter('bm25-contexts', options.onProgress, examples.length, 'questions');
  const out = examples.map((ex) => {
    const ctxs = bm25.search(ex.question, k).map((hit) => {
      const p = get(hit.id);
      if (!p) throw new Error(`buildInitialContexts: BM25 returned passage ${JSON.stringify(hit.id)} that the passage lookup does not have`);
      return { id: p.id, title: p.title, text: p.text, score: hit.score, has_answer: has(ex.answers, p.text) };
    });
    progress.tick();
    return { ...ex, ctxs };
  });
  progress.end();
  return out;
}
