import { Bm25Index, CITIES, type FidExample, type Passage } from '@fidkd/data';
import { SeededRandom } from '@fidkd/core';
import { ConfigError } from '../config.js';

/**
 * Self-supervised examples for pretraining the reader (salient-span masking, as REALM pretrains on Wikipedia):
 * a passage that names a city becomes a cloze question — the city replaced by "which city" ("Ada Novak died in
 * which city?") — whose answer is the city, read from n_context passages that BM25 retrieves for the subject's name (the
 * source passage among them at a random position, or — when another passage about the same subject names the
 * same city, half of the time — left out, so that the answer must be read from a restatement in other words;
 * clozes that several passages share are skipped). No question, answer or relation label of the world is
 * used: only its passages and the dictionary of city names (the "named entities" of this world).
 */
export interface ClozeOptions {
  nContext: number;
  seed: number;
  /** Probability of leaving the source passage out when another passage of its subject names the same city. Default 0.5. */
  dropSourceRate?: number;
  /**
   * Where the other passages come from: 'subject' (default) — BM25 for the subject's name, so the relation words
   * pick the answer; 'cloze' — BM25 for the cloze itself (the subject's other passages first, then namesakes');
   * 'namesakes' — BM25 for the cloze with the subject's other passages left out, so only the name picks the answer
   * (what a question meets among passages a dense retriever brings: one relation, many namesakes); 'restated' — as
   * 'namesakes', but the source replaced by the subject's restatement of the fact in other words (clozes without one
   * take 'namesakes'), so the answer needs the name and the paraphrase at once, as a real question over a dense
   * retriever's passages does. A list: each cloze draws one of its kinds at random.
   */
  contexts?: ClozeContexts | readonly ClozeContexts[];
}

/** The kinds of other passages of a cloze (see ClozeOptions.contexts). */
export const CLOZE_CONTEXTS: readonly ClozeContexts[] = ['subject', 'cloze', 'namesakes', 'restated'];
export type ClozeContexts = 'subject' | 'cloze' | 'namesakes' | 'restated';

/**
 * The kinds a `contexts` setting names, as a non-empty list (absent: ['subject']); a ConfigError naming `key`
 * for anything else, so a command can check its settings before it starts.
 */
export function clozeContextKinds(contexts: ClozeOptions['contexts'], key = 'contexts'): readonly ClozeContexts[] {
  const kinds: readonly ClozeContexts[] = contexts === undefined ? ['subject'] : typeof contexts === 'string' ? [contexts] : contexts;
  if (!Array.isArray(kinds) || !kinds.length || kinds.some((k) => !CLOZE_CONTEXTS.includes(k))) {
    throw new ConfigError(`${key} must be one of ${CLOZE_CONTEXTS.join(', ')} or a non-empty list of them (got ${JSON.stringify(contexts)})`);
  }
  return kinds;
}

const CITY_SET = new Set(CITIES.map((c) => c.toLowerCase()));

/** The cloze question of a passage text and its answer, or undefined when the text names no city. */
export function clozeOf(text: string): { question: string; answer: string } | undefined {
  const words = text.split(' ');
  const i = words.findIndex((w) => CITY_SET.has(w.replace(/[.,]$/, '').toLowerCase()));
  if (i < 0) return undefined;
  const answer = words[i]!.replace(/[.,]$/, '');
  words[i] = words[i]!.replace(answer, 'which city');
  let question = words.join(' ').replace(/\.$/, '') + '?';
  question = question[0]!.toUpperCase() + question.slice(1);
  return { question, answer };
}

/** Every cloze example of a passage collection (FiD format with ctxs; `gold_passage_ids` holds the source passage). */
export function clozeExamples(passages: readonly Passage[], index: Bm25Index, o: ClozeOptions): FidExample[] {
  const rng = new SeededRandom(o.seed);
  const kinds = clozeContextKinds(o.contexts);
  const byId = new Map(passages.map((p) => [p.id, p]));
  // A cloze whose words several passages share ("… gave a lecture in which city?" twice) has no single answer.
  const clozes = passages.map((p) => clozeOf(p.text));
  const ordinal = new Map(passages.map((p, k) => [p.id, k]));
  const count = new Map<string, number>();
  for (const c of clozes) if (c) count.set(c.question, (count.get(c.question) ?? 0) + 1);
  const out: FidExample[] = [];
  passages.forEach((p, k) => {
    const cloze = clozes[k];
    if (!cloze || count.get(cloze.question)! > 1) return;
    // The other passages are what BM25 finds for the subject's name (its own other passages first, then
    // namesakes'), as a question about the subject retrieves them: the cloze's relation words, not the name, pick
    // the answering passage among them.
    let kind = kinds.length === 1 ? kinds[0]! : rng.pick(kinds);
    // The subject's other statements of the same city (restatements in other words).
    const restatementsOf = (ids: readonly string[]) =>
      ids.filter((id) => id !== p.id && byId.get(id)!.title === p.title && clozes[ordinal.get(id)!]?.answer === cloze.answer);
    let restatements: string[] = [];
    if (kind === 'restated') {
      restatements = restatementsOf(index.search(p.title, 4 * o.nContext).map((h) => h.id));
      if (!restatements.length) kind = 'namesakes';
    }
    const otherPeople = kind === 'namesakes' || kind === 'restated';
    let hits = index.search(kind === 'subject' ? p.title : cloze.question, otherPeople ? 4 * o.nContext : o.nContext + 1)
      .map((h) => h.id).filter((id) => id !== p.id);
    if (otherPeople) {
      hits = hits.filter((id) => byId.get(id)!.title !== p.title);
      // (a small world may not have n − 1 other people's passages that share a word with the cloze: skipped)
      if (hits.length < o.nContext - 1) return;
    }
    let ids: string[];
    let gold: string[];
    if (kind === 'restated') {
      ids = hits.slice(0, o.nContext - 1);
      ids.splice(rng.int(ids.length + 1), 0, restatements[0]!);
      gold = [restatements[0]!];
    } else {
      // When another passage about the same subject names the same city (a restatement, in other words), half of
      // the time the cloze must be answered from it: the source passage is left out.
      const alsoStating = restatementsOf(hits);
      const dropSource = alsoStating.length > 0 && rng.chance(o.dropSourceRate ?? 0.5);
      ids = hits.slice(0, o.nContext - (dropSource ? 0 : 1));
      if (!dropSource) ids.splice(rng.int(ids.length + 1), 0, p.id);
      // (a restatement ranked just past the n kept passages leaves none that answers: rare, and kept as noise)
      gold = dropSource ? alsoStating.filter((id) => ids.includes(id)) : [p.id];
    }
    out.push({
      id: `cloze-${p.id}`, question: cloze.question, answers: [cloze.answer], target: cloze.answer,
      ctxs: ids.map((id) => ({ id, title: byId.get(id)!.title, text: byId.get(id)!.text })),
      gold_passage_ids: gold,
    });
  });
  return out;
}
