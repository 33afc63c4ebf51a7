import { SeededRandom } from '@fidkd/core';
import {
  CITY_ENDINGS, COMPANY_ENDINGS, SURNAME_ENDINGS, FILLER_TEMPLATES, FIRST_NAMES, JOBS, NAME_ONSETS, NAME_VOWELS, RELATIONS, SUBJECTS,
  SURNAMES, TOPICS, type RelationName, type RelationSpec,
} from './synthetic-vocabulary.js';
import type { FidExample, Passage } from './types.js';

/** Size and difficulty knobs of {@link generateSyntheticWorld}. Defaults are the demo's world. */
export interface SyntheticWorldOptions {
  /** PRNG seed; the same seed (and options) gives the same world, byte for byte. Default 0. */
  seed?: number;
  /** People in the world (each with one fact per relation). Default 1500 (≈ 19k passages). */
  numEntities?: number;
  /** Questions per split (distinct (entity, relation) pairs, never shared between splits). Defaults 3000 / 500 / 500. */
  numTrain?: number;
  numDev?: number;
  numTest?: number;
  /** Event / activity passages per entity, inclusive range. Default [3, 6]. */
  fillersPerEntity?: [number, number];
  /** Probability that a passage carries a lexical-trap clause with another relation's question words. Default 0.5. */
  trapRate?: number;
  /** Probability that a fact passage carries a hint clause with its own relation's question words. Default 0.35. */
  hintRate?: number;
  /** Probability that a city fact repeats another of the entity's cities (born = died …). Default 0.12. */
  sameCityRate?: number;
  /** Probability that a fact copies the answer of an entity sharing a name token ("Mira Brenner was born in C" too). Default 0.3. */
  sharedAnswerRate?: number;
  /** Probability that an event passage's city is one of the entity's own answer cities. Default 0.35. */
  visitOwnCityRate?: number;
  /** Size of the city / company pools. Defaults numEntities / 6 and numEntities / 10 (at least 20). */
  numCities?: number;
  numCompanies?: number;
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
}

function resolveOptions(options: SyntheticWorldOptions): Required<SyntheticWorldOptions> {
  const numEntities = options.numEntities ?? 1500;
  return {
    seed: options.seed ?? 0,
    numEntities,
    numTrain: options.numTrain ?? 3000,
    numDev: options.numDev ?? 500,
    numTest: options.numTest ?? 500,
    fillersPerEntity: options.fillersPerEntity ?? [3, 6],
    trapRate: options.trapRate ?? 0.5,
    hintRate: options.hintRate ?? 0.35,
    sameCityRate: options.sameCityRate ?? 0.12,
    sharedAnswerRate: options.sharedAnswerRate ?? 0.3,
    visitOwnCityRate: options.visitOwnCityRate ?? 0.35,
    numCities: options.numCities ?? Math.max(20, Math.round(numEntities / 6)),
    numCompanies: options.numCompanies ?? Math.max(20, Math.round(numEntities / 10)),
    surnames: options.surnames ?? 'shared',
  };
}

/** Every lower-cased word the templates and name pools use: generated names must avoid them. */
function reservedWords(): Set<string> {
  const all = [
    ...RELATIONS.flatMap((r) => [...r.passages, ...r.questions, ...r.traps, ...r.hints]),
    ...FILLER_TEMPLATES, ...TOPICS, ...SUBJECTS, ...JOBS, ...FIRST_NAMES, ...SURNAMES,
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

/** Appends a trap clause before the final full stop. */
function withClause(sentence: string, clause: string): string {
  return sentence.endsWith('.') ? `${sentence.slice(0, -1)}${clause}.` : `${sentence}${clause}`;
}

/**
 * Generates the synthetic world of DESIGN.md §5: people with six relations (born / died / lived / studied in a
 * city, worked for / founded a company), one passage per fact plus event passages, and questions that
 * paraphrase the relation with words its passages never use. BM25 finds the entity's passages (names match) but
 * not which one states the asked relation; trap clauses put the question's words into passages stating other
 * facts; the answer string also appears in passages that do not answer (the entity visited or died in its birth
 * city, a namesake was born there). Deterministic for a seed.
 */
export function generateSyntheticWorld(options: SyntheticWorldOptions = {}): SyntheticWorld {
  const o = resolveOptions(options);
  if (o.surnames !== 'shared' && o.surnames !== 'unique') {
    throw new RangeError(`generateSyntheticWorld: surnames must be 'shared' or 'unique', got ${JSON.stringify(o.surnames)}`);
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
  const cities = pseudoWords(rng, o.numCities, CITY_ENDINGS, taken);
  const companies = pseudoWords(rng, o.numCompanies, COMPANY_ENDINGS, taken);
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
    entities.push({ name: `${first} ${last}`, first, last, facts: new Map(), factPassage: new Map() });
    for (const t of [first, last]) byToken.set(t, [...(byToken.get(t) ?? []), e]);
  }
  const namesakes = (e: number): number[] => {
    const x = entities[e]!;
    return [...(byToken.get(x.first) ?? []), ...(byToken.get(x.last) ?? [])].filter((k) => k !== e);
  };

  // Facts. Earlier namesakes' answers are copied with sharedAnswerRate (answer string in a namesake's passage).
  for (let e = 0; e < entities.length; e++) {
    const x = entities[e]!;
    const earlier = namesakes(e).filter((k) => k < e);
    for (const rel of RELATIONS) {
      const pool = rel.answerType === 'city' ? cities : companies;
      let answer: string | undefined;
      if (earlier.length > 0 && rng.chance(o.sharedAnswerRate)) {
        const y = entities[rng.pick(earlier)]!;
        const same = RELATIONS.filter((r) => r.answerType === rel.answerType).map((r) => y.facts.get(r.name)!);
        answer = rng.pick(same);
      } else if (rel.answerType === 'city' && x.facts.size > 0 && rng.chance(o.sameCityRate)) {
        answer = rng.pick([...x.facts.values()].filter((v) => cities.includes(v)));
      }
      answer ??= rng.pick(pool);
      x.facts.set(rel.name, answer);
    }
  }

  // Passages: one per fact, plus fillers; a share of them carries a trap clause for another relation.
  const texts: { title: string; text: string }[] = [];
  const year = (): string => String(rng.range(1850, 1990));
  const ownCities = (x: Entity): string[] => RELATIONS.filter((r) => r.answerType === 'city').map((r) => x.facts.get(r.name)!);
  const someCity = (x: Entity): string => (rng.chance(o.visitOwnCityRate) ? rng.pick(ownCities(x)) : rng.pick(cities));
  const trap = (except: RelationName | undefined): string => {
    const rel: RelationSpec = rng.pick(RELATIONS.filter((r) => r.name !== except));
    return rng.pick(rel.traps);
  };
  for (let e = 0; e < entities.length; e++) {
    const x = entities[e]!;
    for (const rel of RELATIONS) {
      const job = rng.pick(JOBS);
      let text = fill(rng.pick(rel.passages), {
        X: x.name, A: x.facts.get(rel.name)!, Y: year(), S: rng.pick(SUBJECTS), J: job, K: `${/^[aeiou]/.test(job) ? 'an' : 'a'} ${job}`, C: someCity(x),
      });
      if (rng.chance(o.hintRate)) text = withClause(text, rng.pick(rel.hints));
      else if (rng.chance(o.trapRate)) text = withClause(text, trap(rel.name));
      x.factPassage.set(rel.name, texts.length);
      texts.push({ title: x.name, text });
    }
    const nFill = rng.range(o.fillersPerEntity[0], o.fillersPerEntity[1]);
    const ns = namesakes(e);
    for (let f = 0; f < nFill; f++) {
      let other: number;
      if (ns.length > 0 && rng.chance(0.5)) other = rng.pick(ns);
      else {
        other = rng.int(entities.length - 1);
        if (other >= e) other += 1; // anyone but x
      }
      const z = entities[other]!;
      let text = fill(rng.pick(FILLER_TEMPLATES), {
        X: x.name, Z: z.name, C: someCity(x), C2: rng.pick(cities), Y: year(), T: rng.pick(TOPICS),
      });
      if (rng.chance(o.trapRate)) text = withClause(text, trap(undefined));
      texts.push({ title: x.name, text });
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
      const gold = idOf[x.factPassage.get(rel.name)!]!;
      facts.push({ questionId: id, entity: x.name, relation: rel.name, answer, goldPassageId: gold });
      return { id, question: fill(rng.pick(rel.questions), { X: x.name }), answers: [answer], target: answer, ctxs: [], gold_passage_ids: [gold] };
    });
  const train = makeSplit('train', 0, o.numTrain);
  const dev = makeSplit('dev', o.numTrain, o.numDev);
  const test = makeSplit('test', o.numTrain + o.numDev, o.numTest);
  return { passages, train, dev, test, facts, options: o };
}
