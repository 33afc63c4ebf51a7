import { SeededRandom } from '@fidkd/core';
import {
  CITIES, FIRST_NAMES, NAME_ONSETS, NAME_VOWELS, RELATIONS, SURNAME_ENDINGS, SURNAMES, VISIT_TEMPLATES, type RelationName,
} from './synthetic-vocabulary.js';
import type { FidExample, Passage } from './types.js';

/**
 * Size and difficulty knobs of {@link generateSyntheticWorld}. Defaults are the demo's world; apps/reproduce/README.md
 * says why each default is what it is.
 */
export interface SyntheticWorldOptions {
  /** PRNG seed; the same seed (and options) gives the same world, byte for byte. Default 0. */
  seed?: number;
  /** People in the world (each with one fact per relation). Default 800 (≈ 13k passages). */
  numEntities?: number;
  /** Questions per split (distinct (entity, relation) pairs, never shared between splits). Defaults 3000 / 400 / 400. */
  numTrain?: number;
  numDev?: number;
  numTest?: number;
  /** Visit passages per entity (the entity in a city, no relation stated), inclusive range. Default [3, 5]. */
  fillersPerEntity?: [number, number];
  /** Probability, per relation and entity, of a trap passage: the relation's question words about the entity, no fact. Default 1. */
  trapRate?: number;
  /** Probability that a fact passage restates its fact in the question's words (a hint template). Default 0.1. */
  hintRate?: number;
  /**
   * Probability that a fact is stated a second time, in a passage of its own with a hint template (real corpora
   * restate facts in other words). Both passages are gold. Default 0 (the demo's world); the reader pretraining's
   * worlds use it, so that a cloze made from one statement can be answered from the other.
   */
  restateRate?: number;
  /** Probability that a fact repeats one of the entity's earlier answer cities (born and lived in C …). Default 0.15. */
  sameCityRate?: number;
  /** Probability that a fact copies the same relation's answer of an earlier namesake (who shares a name token). Default 0.2. */
  sharedAnswerRate?: number;
  /** Probability that a visit passage's city is one of the entity's own answer cities. Default 0.3. */
  visitOwnCityRate?: number;
  /** Size of the city pool every answer is drawn from (real QA answers come from small typed sets too), at most 48. Default 32. */
  numCities?: number;
  /**
   * 'shared' (default): surnames from a small pool, so BM25's top passages mix the entity with its namesakes;
   * 'unique': every person gets a generated surname of their own, so the entity is easy to find and the hard part
   * is only which of its passages states the asked relation.
   */
  surnames?: 'shared' | 'unique';
}

/** Ground truth of one question (for analysis; not written to the FiD files). */
export interface SyntheticFact {
  questionId: string;
  entity: string;
  relation: RelationName;
  answer: string;
  goldPassageId: string;
}

/** A generated world: the passage collection and FiD-format question splits (without ctxs). */
export interface SyntheticWorld {
  passages: Passage[];
  train: FidExample[];
  dev: FidExample[];
  test: FidExample[];
  /** One entry per question of every split. */
  facts: SyntheticFact[];
  /** The resolved options. */
  options: Required<SyntheticWorldOptions>;
}

interface Entity {
  name: string;
  first: string;
  last: string;
  facts: Map<RelationName, string>;
  factPassage: Map<RelationName, number>;
  /** Passage index of a fact's second statement (restateRate). */
  restated: Map<RelationName, number>;
}

/**
 * Version of what {@link generateSyntheticWorld} writes for given options: raised whenever a change (templates,
 * name pools, draw order, defaults) changes the world of some seed, so that caches keyed on the options and this
 * version (the demo's prepare stage) never serve a world of an older generator.
 */
export const SYNTHETIC_WORLD_VERSION = 3;

/** The options with every default filled in (what a world of these options is made from). */
export function resolveSyntheticWorldOptions(options: SyntheticWorldOptions): Required<SyntheticWorldOptions> {
  return resolveOptions(options);
}

function resolveOptions(options: SyntheticWorldOptions): Required<SyntheticWorldOptions> {
  return {
    seed: options.seed ?? 0,
    numEntities: options.numEntities ?? 800,
    numTrain: options.numTrain ?? 3000,
    numDev: options.numDev ?? 400,
    numTest: options.numTest ?? 400,
    fillersPerEntity: options.fillersPerEntity ?? [3, 5],
    trapRate: options.trapRate ?? 1,
    hintRate: options.hintRate ?? 0.1,
    restateRate: options.restateRate ?? 0,
    sameCityRate: options.sameCityRate ?? 0.15,
    sharedAnswerRate: options.sharedAnswerRate ?? 0.2,
    visitOwnCityRate: options.visitOwnCityRate ?? 0.3,
    numCities: options.numCities ?? 32,
    surnames: options.surnames ?? 'shared',
  };
}

/** Every lower-cased word the templates and name pools use: generated names must avoid them. */
function reservedWords(): Set<string> {
  const all = [
    ...RELATIONS.flatMap((r) => [...r.passages, ...r.questions, ...r.traps, ...r.hints]),
    ...VISIT_TEMPLATES, ...FIRST_NAMES, ...SURNAMES, ...CITIES,
  ];
  const words = new Set<string>();
  for (const s of all) for (const w of s.toLowerCase().match(/[a-z]+/g) ?? []) words.add(w);
  return words;
}

function pseudoWords(rng: SeededRandom, count: number, endings: readonly string[], taken: Set<string>): string[] {
  const out: string[] = [];
  let attempts = 0;
  while (out.length < count) {
    if (++attempts > count * 1000) throw new Error(`generateSyntheticWorld: cannot make ${count} distinct names`);
    const syllables = rng.chance(0.5) ? 1 : 2;
    let w = '';
    for (let i = 0; i < syllables; i++) w += rng.pick(NAME_ONSETS) + rng.pick(NAME_VOWELS);
    w += rng.pick(endings);
    if (taken.has(w)) continue;
    taken.add(w);
    out.push(w[0]!.toUpperCase() + w.slice(1));
  }
  return out;
}

function fill(template: string, slots: Record<string, string>): string {
  return template.replace(/\{([A-Z][0-9]?)\}/g, (_, k: string) => {
    const v = slots[k];
    if (v === undefined) throw new Error(`synthetic world: template slot {${k}} has no value in "${template}"`);
    return v;
  });
}

/**
 * Generates the synthetic world of DESIGN.md §5: people with six relations, each answered by a city from one small
 * pool (born / died / lived / studied / married / worked in), one short passage per fact, visit passages (the
 * person in a city, often one of their own answer cities) and trap passages (a relation's question words about the
 * person, no fact). Questions paraphrase the relation with words its fact passages never use: BM25 finds the
 * person's passages (names match) but not which one states the asked relation, and the traps draw it to passages
 * that do not answer. The answer string also appears where it does not answer (the person's other facts and visits,
 * a namesake's same fact), so answer-string supervision is noisy. Deterministic for a seed.
 */
export function generateSyntheticWorld(options: SyntheticWorldOptions = {}): SyntheticWorld {
  const o = resolveOptions(options);
  if (o.surnames !== 'shared' && o.surnames !== 'unique') {
    throw new RangeError(`generateSyntheticWorld: surnames must be 'shared' or 'unique', got ${JSON.stringify(o.surnames)}`);
  }
  if (!Number.isInteger(o.numCities) || o.numCities < 2 || o.numCities > CITIES.length) {
    throw new RangeError(`generateSyntheticWorld: numCities must be an integer in [2, ${CITIES.length}], got ${o.numCities}`);
  }
  const rng = new SeededRandom(o.seed);
  const nFirst = Math.min(FIRST_NAMES.length, Math.max(4, Math.ceil(Math.sqrt(2 * o.numEntities))));
  const nLast = Math.min(SURNAMES.length, Math.max(4, Math.ceil(Math.sqrt(2 * o.numEntities))));
  if (o.surnames === 'shared' && o.numEntities > nFirst * nLast) {
    throw new RangeError(`generateSyntheticWorld: at most ${nFirst * nLast} entities (name pools), asked ${o.numEntities}`);
  }
  const totalQuestions = o.numTrain + o.numDev + o.numTest;
  if (totalQuestions > o.numEntities * RELATIONS.length) {
    throw new RangeError(
      `generateSyntheticWorld: ${totalQuestions} questions need at least ${Math.ceil(totalQuestions / RELATIONS.length)} entities, got ${o.numEntities}`,
    );
  }
  const taken = reservedWords();
  const cities = rng.shuffle([...CITIES]).slice(0, o.numCities);
  const firsts = FIRST_NAMES.slice(0, nFirst);
  const unique = o.surnames === 'unique';
  const lasts = unique ? pseudoWords(rng, o.numEntities, SURNAME_ENDINGS, taken) : SURNAMES.slice(0, nLast);

  // Entities: distinct (first, last) pairs from small pools, so name tokens are shared widely (or one surname each).
  const pairs: [number, number][] = [];
  if (unique) for (let e = 0; e < o.numEntities; e++) pairs.push([rng.int(nFirst), e]);
  else for (let i = 0; i < nFirst; i++) for (let j = 0; j < nLast; j++) pairs.push([i, j]);
  rng.shuffle(pairs);
  const entities: Entity[] = [];
  const byToken = new Map<string, number[]>();
  for (let e = 0; e < o.numEntities; e++) {
    const [i, j] = pairs[e]!;
    const first = firsts[i]!;
    const last = lasts[j]!;
    entities.push({ name: `${first} ${last}`, first, last, facts: new Map(), factPassage: new Map(), restated: new Map() });
    for (const t of [first, last]) byToken.set(t, [...(byToken.get(t) ?? []), e]);
  }
  const namesakes = (e: number): number[] => {
    const x = entities[e]!;
    return [...(byToken.get(x.first) ?? []), ...(byToken.get(x.last) ?? [])].filter((k) => k !== e);
  };

  // Facts: a namesake's same fact (sharedAnswerRate), one of the entity's own earlier cities (sameCityRate), or any city.
  for (let e = 0; e < entities.length; e++) {
    const x = entities[e]!;
    const earlier = namesakes(e).filter((k) => k < e);
    for (const rel of RELATIONS) {
      let answer: string | undefined;
      if (earlier.length > 0 && rng.chance(o.sharedAnswerRate)) answer = entities[rng.pick(earlier)]!.facts.get(rel.name)!;
      else if (x.facts.size > 0 && rng.chance(o.sameCityRate)) answer = rng.pick([...x.facts.values()]);
      answer ??= rng.pick(cities);
      x.facts.set(rel.name, answer);
    }
  }

  // Passages: one per fact, traps, visits.
  const texts: { title: string; text: string }[] = [];
  for (let e = 0; e < entities.length; e++) {
    const x = entities[e]!;
    const own = [...x.facts.values()];
    for (const rel of RELATIONS) {
      const template = rng.chance(o.hintRate) ? rng.pick(rel.hints) : rng.pick(rel.passages);
      x.factPassage.set(rel.name, texts.length);
      texts.push({ title: x.name, text: fill(template, { X: x.name, A: x.facts.get(rel.name)! }) });
      if (o.restateRate > 0 && rng.chance(o.restateRate)) {
        x.restated.set(rel.name, texts.length);
        texts.push({ title: x.name, text: fill(rng.pick(rel.hints), { X: x.name, A: x.facts.get(rel.name)! }) });
      }
    }
    for (const rel of RELATIONS) if (rng.chance(o.trapRate)) texts.push({ title: x.name, text: fill(rng.pick(rel.traps), { X: x.name }) });
    const ns = namesakes(e);
    const nVisits = rng.range(o.fillersPerEntity[0], o.fillersPerEntity[1]);
    for (let f = 0; f < nVisits; f++) {
      let other: number;
      if (ns.length > 0 && rng.chance(0.5)) other = rng.pick(ns);
      else {
        other = rng.int(entities.length - 1);
        if (other >= e) other += 1; // anyone but x
      }
      const city = rng.chance(o.visitOwnCityRate) ? rng.pick(own) : rng.pick(cities);
      texts.push({ title: x.name, text: fill(rng.pick(VISIT_TEMPLATES), { X: x.name, Z: entities[other]!.name, C: city }) });
    }
  }

  // Shuffle so that passage ids carry no information (BM25 breaks ties by position).
  const order = texts.map((_, i) => i);
  rng.shuffle(order);
  const idOf = new Array<string>(texts.length);
  const passages: Passage[] = order.map((src, k) => {
    idOf[src] = String(k + 1);
    return { id: String(k + 1), title: texts[src]!.title, text: texts[src]!.text };
  });

  // Questions: distinct (entity, relation) pairs, split without overlap.
  const qPairs: [number, number][] = [];
  for (let e = 0; e < entities.length; e++) for (let r = 0; r < RELATIONS.length; r++) qPairs.push([e, r]);
  rng.shuffle(qPairs);
  const facts: SyntheticFact[] = [];
  const makeSplit = (split: string, start: number, count: number): FidExample[] =>
    qPairs.slice(start, start + count).map(([e, r], i) => {
      const x = entities[e]!;
      const rel = RELATIONS[r]!;
      const answer = x.facts.get(rel.name)!;
      const id = `${split}-${i}`;
      const gold = [x.factPassage.get(rel.name)!, ...(x.restated.has(rel.name) ? [x.restated.get(rel.name)!] : [])].map((k) => idOf[k]!);
      facts.push({ questionId: id, entity: x.name, relation: rel.name, answer, goldPassageId: gold[0]! });
      return { id, question: fill(rng.pick(rel.questions), { X: x.name }), answers: [answer], target: answer, ctxs: [], gold_passage_ids: gold };
    });
  const train = makeSplit('train', 0, o.numTrain);
  const dev = makeSplit('dev', o.numTrain, o.numDev);
  const test = makeSplit('test', o.numTrain + o.numDev, o.numTest);
  return { passages, train, dev, test, facts, options: o };
}
