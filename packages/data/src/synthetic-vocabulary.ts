/**
 * The words of the synthetic world: one short passage per fact, every relation answered by a city from one small
 * pool, questions that paraphrase the relation, trap passages that carry a relation's question words without
 * stating it. The design rule (checked by a test): the content words of a relation's question templates never
 * occur in that relation's fact templates; each of them occurs in its trap templates (BM25 is drawn to a passage
 * that does not answer) and in its hint templates (the partial lexical signal real text has).
 */

/** The relations of the world; each is answered by a city. */
export type RelationName = 'born' | 'died' | 'lived' | 'studied' | 'married' | 'worked';

export interface RelationSpec {
  name: RelationName;
  /** Fact templates stating the relation without the question's words. Slots: {X} entity, {A} answer city. */
  passages: string[];
  /** Question templates (paraphrases; none of their content words occurs in `passages`). Slot {X}. */
  questions: string[];
  /** Passages about {X} holding this relation's question words but no fact and no city: BM25's traps. */
  traps: string[];
  /** Fact templates that restate the fact in the asker's words (used with `hintRate`). Slots {X}, {A}. */
  hints: string[];
}

export const RELATIONS: readonly RelationSpec[] = [
  {
    name: 'born',
    passages: ['{X} was born in {A}.', 'Records show {X} was born in {A}.'],
    questions: ['What is the hometown of {X}?', 'Which city is the birthplace of {X}?'],
    traps: ['{X} wrote a song about a hometown.', '{X} toured the birthplace of a poet.'],
    hints: ['{A} is the hometown of {X}.', '{A} is the birthplace of {X}.'],
  },
  {
    name: 'died',
    passages: ['{X} died in {A}.', '{X} passed away in {A}.'],
    questions: ['Where is {X} buried?', 'What was the place of death of {X}?'],
    traps: ['{X} buried a box of letters.', '{X} wrote about the death of a king.'],
    hints: ['{X} is buried in {A}.', '{A} was the place of death of {X}.'],
  },
  {
    name: 'lived',
    passages: ['{X} lived in {A}.', '{X} settled in {A}.'],
    questions: ['Where did {X} reside?', 'Which city was the residence of {X}?'],
    traps: ['{X} sold an old residence.', 'Two cousins of {X} reside abroad.'],
    hints: ['{A} was the residence of {X}.', '{X} would reside in {A}.'],
  },
  {
    name: 'studied',
    passages: ['{X} studied in {A}.', '{X} attended university in {A}.'],
    questions: ['Where was {X} educated?', 'Where did {X} go to school?'],
    traps: ['{X} funded a new school.', '{X} was educated by a tutor.'],
    hints: ['{X} was educated in {A}.', '{X} went to school in {A}.'],
  },
  {
    name: 'married',
    passages: ['{X} married in {A}.', '{X} got married in {A}.'],
    questions: ['Where was the wedding of {X}?', 'In which city did {X} find a spouse?'],
    traps: ['{X} sang at the wedding of a friend.', '{X} lost a spouse early.'],
    hints: ['The wedding of {X} was in {A}.', '{X} found a spouse in {A}.'],
  },
  {
    name: 'worked',
    passages: ['{X} worked in {A}.', '{X} had a job in {A}.'],
    questions: ['Where was {X} employed?', 'Which city was the workplace of {X}?'],
    traps: ['{X} employed a young gardener.', '{X} painted an old workplace.'],
    hints: ['{X} was employed in {A}.', '{A} was the workplace of {X}.'],
  },
];

/** Passages that state no relation: {X} was in city {C} (sometimes one of the own answer cities), with {Z} another person. */
export const VISIT_TEMPLATES: readonly string[] = [
  '{X} visited {C}.',
  '{X} travelled to {C}.',
  '{X} gave a lecture in {C}.',
  '{X} met {Z} in {C}.',
];

export const FIRST_NAMES: readonly string[] = [
  'Aldo', 'Mira', 'Tomas', 'Ilse', 'Bruno', 'Greta', 'Oskar', 'Lena', 'Felix', 'Nora', 'Emil', 'Hanna', 'Viktor',
  'Sofia', 'Anton', 'Clara', 'Jonas', 'Ada', 'Marek', 'Elin', 'Pavel', 'Irma', 'Teodor', 'Vera', 'Hugo', 'Alma',
  'Kasper', 'Ida', 'Leon', 'Rosa', 'Matteo', 'Signe', 'Nils', 'Edda', 'Otto', 'Lotte', 'Ivo', 'Maren', 'Rafael',
  'Tilde', 'Gustav', 'Yara', 'Henrik', 'Livia', 'Arvid', 'Nadia', 'Bertil', 'Olga', 'Casimir', 'Frida', 'Dario',
  'Helga', 'Sven', 'Petra', 'Ludo', 'Agnes', 'Mikkel', 'Dora', 'Quentin', 'Wilma', 'Elias', 'Runa', 'Fabian', 'Inga',
];

export const SURNAMES: readonly string[] = [
  'Brenner', 'Varsk', 'Holloway', 'Marchetti', 'Lindqvist', 'Okafor', 'Petrov', 'Sandoval', 'Tanaka', 'Weiss',
  'Dahlberg', 'Castellan', 'Novak', 'Fairburn', 'Kowalski', 'Moreau', 'Haldane', 'Ruskin', 'Vasquez', 'Ostrand',
  'Pellegrini', 'Szabo', 'Whitcombe', 'Ekdahl', 'Ferrante', 'Grieve', 'Halvorsen', 'Ibarra', 'Jansky', 'Kessler',
  'Lombard', 'Mendel', 'Nyberg', 'Orsini', 'Quist', 'Rasmussen', 'Sorensen', 'Thorne', 'Ulmer', 'Valtonen',
  'Wexler', 'Zoric', 'Abernathy', 'Bramwell', 'Corvin', 'Delacroix', 'Esterhaz', 'Falkner', 'Gorski', 'Hartwell',
  'Iverson', 'Jurado', 'Kettering', 'Lisowski', 'Marlowe', 'Nordahl', 'Oyelaran', 'Prescott', 'Radovan', 'Stenberg',
  'Tremaine', 'Urquhart', 'Vollmer', 'Winslow',
];

/**
 * The cities every answer is drawn from (a world takes `numCities` of them, seeded). A fixed list, like the name
 * pools, so that one vocabulary covers the worlds of every seed (a shipped pretrained reader reads them all).
 */
export const CITIES: readonly string[] = [
  'Velmora', 'Krudeheim', 'Tarnvik', 'Ostrelle', 'Brindholm', 'Calderon', 'Dunmere', 'Eskerby', 'Falvano', 'Gorsk',
  'Halbruck', 'Istrana', 'Jorvale', 'Kelmsford', 'Lunderby', 'Marnoch', 'Nevarro', 'Orsenne', 'Pellinor', 'Quarrow',
  'Rastova', 'Sennick', 'Tolberg', 'Ulvenor', 'Varnholm', 'Wendmoor', 'Yselle', 'Zarnow', 'Ambrell', 'Belcarra',
  'Corvanne', 'Drosk', 'Elmbrae', 'Fennick', 'Glaistow', 'Hollin', 'Ilvaro', 'Jastreb', 'Korrin', 'Lissadel',
  'Montavar', 'Norrbeck', 'Oskarne', 'Pravik', 'Rimsholt', 'Sorvino', 'Tresk', 'Valdera',
];

/** Syllables of generated surnames (`surnames: 'unique'`: pseudo-words that no template uses). */
export const NAME_ONSETS: readonly string[] = ['b', 'br', 'd', 'dr', 'f', 'g', 'gr', 'k', 'kr', 'l', 'm', 'n', 'p', 'r', 's', 'st', 't', 'tr', 'v', 'z'];
export const NAME_VOWELS: readonly string[] = ['a', 'e', 'i', 'o', 'u', 'ai', 'ei', 'ou'];
export const SURNAME_ENDINGS: readonly string[] = ['son', 'berg', 'ski', 'ez', 'ov', 'ani', 'ard', 'ley', 'mann', 'ic'];
