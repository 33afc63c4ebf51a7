/**
 * The words of the synthetic world: relation templates for passages and questions, lexical-trap clauses, name
 * pools. The design rule (checked by a test): the content words of a relation's question templates never occur
 * in that relation's passage templates, and each of them occurs in trap clauses attached to passages that state
 * some *other* fact — so BM25 is drawn to the wrong passage of the right entity.
 */

/** The relations of the world. Four share the answer type city, two the answer type company. */
export type RelationName = 'born' | 'died' | 'lived' | 'studied' | 'worked' | 'founded';

export interface RelationSpec {
  name: RelationName;
  answerType: 'city' | 'company';
  /** Passage templates stating the fact. Slots: {X} entity, {A} answer, {Y} year, {S} subject, {J} job, {K} job with its article, {C} another city. */
  passages: string[];
  /** Question templates (paraphrases; none of their content words occurs in `passages`). Slot {X}. */
  questions: string[];
  /**
   * Clauses holding this relation's question words, appended to passages that state something else (traps for
   * this relation's questions). They start with ', '.
   */
  traps: string[];
  /**
   * Clauses consistent with the fact that reuse this relation's question words (as real text sometimes restates a
   * fact in the asker's words); appended to a share (`hintRate`) of this relation's own fact passages, they give
   * BM25 the partial lexical signal real data has.
   */
  hints: string[];
}

export const RELATIONS: readonly RelationSpec[] = [
  {
    name: 'born',
    answerType: 'city',
    passages: [
      '{X} was born in {A} in {Y}.',
      '{X} was born in {A}, the eldest of four children.',
      'Parish records list {X} among the children born in {A} in {Y}.',
    ],
    questions: [
      'What is the hometown of {X}?',
      'Which city is the birthplace of {X}?',
      'Where does {X} originally hail from?',
    ],
    traps: [', far away from the hometown', ', a long journey from the birthplace', ', as originally planned', ', a trip that friends would hail as brave'],
    hints: [', the hometown of the family', ', a birthplace of many painters', ', where the family originally lived'],
  },
  {
    name: 'died',
    answerType: 'city',
    passages: [
      '{X} died in {A} in {Y}.',
      '{X} died in {A} after a short illness.',
      'In {Y} {X} passed away peacefully in {A}.',
    ],
    questions: [
      'Where is {X} buried?',
      'In which city did the life of {X} end?',
      'What was the place of death of {X}?',
    ],
    traps: [', near the graves where the ancestors are buried', ', until the end of the decade', ', soon after the death of a close friend', ', a place remembered fondly'],
    hints: [', and was buried there', ', where a long life came to an end', ', the place of death of many poets'],
  },
  {
    name: 'lived',
    answerType: 'city',
    passages: [
      '{X} lived in {A} for many years.',
      '{X} settled in {A} and raised a family there.',
      'For most of adult life {X} made a home in {A}.',
    ],
    questions: [
      'Where did {X} reside?',
      'Which city was the residence of {X}?',
      'Where was the household of {X} located?',
    ],
    traps: [', staying at the family residence', ', with the whole household', ', where two cousins reside', ', close to where the old mill was located'],
    hints: [', keeping a residence near the harbour', ', with a large household', ', where the family would reside'],
  },
  {
    name: 'studied',
    answerType: 'city',
    passages: [
      '{X} studied {S} in {A}.',
      '{X} attended university in {A} in {Y}.',
      '{X} earned a degree in {S} in {A}.',
    ],
    questions: [
      'Where was {X} educated?',
      'In which city did {X} go to school?',
      'Where did {X} receive an education?',
    ],
    traps: [', not far from an old school', ', a good place for the education of children', ', being well educated in local history', ', ready to receive visitors'],
    hints: [', receiving a fine education', ', at a famous school', ', and was educated there'],
  },
  {
    name: 'worked',
    answerType: 'company',
    passages: [
      '{X} worked for {A} as {K}.',
      '{X} joined {A} as {K} in {Y}.',
      '{X} spent a decade at {A} as a senior {J}.',
    ],
    questions: [
      'Who was the employer of {X}?',
      'Which firm had {X} on the payroll?',
      'For which company did {X} hold a job?',
    ],
    traps: [', leaving a previous employer behind', ', advised by a law firm', ', paid from a personal payroll', ', a job that took many weeks'],
    hints: [', a generous employer', ', on the company payroll', ', a job held for years'],
  },
  {
    name: 'founded',
    answerType: 'company',
    passages: [
      '{X} founded {A} in {Y}.',
      '{X} started {A} together with two partners.',
      'In {Y} {X} established {A} in {C}.',
    ],
    questions: [
      'What enterprise was launched by {X}?',
      'Which business was set up by {X}?',
      '{X} is the creator of which company?',
    ],
    traps: [', a venture launched with friends', ', a business trip of a week', ', set up by old colleagues', ', admired by a creator of films'],
    hints: [', a business that grew fast', ', an enterprise launched with savings', ', becoming the creator of a new company'],
  },
];

/** Passages that state no relation fact: events and activities of the entity (slots as above plus {Z} another person, {T} topic). */
export const FILLER_TEMPLATES: readonly string[] = [
  '{X} visited {C} in {Y}.',
  '{X} visited {C} to attend a conference on {T}.',
  '{X} gave a public lecture on {T} in {C}.',
  '{X} wrote a short book about {T}.',
  '{X} met {Z} in {C} in {Y}.',
  '{X} and {Z} exchanged letters about {T} for years.',
  '{X} won a regional prize for work on {T} in {Y}.',
  '{X} travelled through {C} on the way to {C2}.',
];

export const TOPICS: readonly string[] = [
  'river navigation', 'glass making', 'folk music', 'bridge design', 'bird migration', 'textile dyes', 'star charts',
  'old maps', 'beekeeping', 'railway timetables', 'clock repair', 'mountain flora', 'naval history', 'printing presses',
  'salt trade', 'wind mills', 'coastal erosion', 'chess openings', 'paper making', 'lighthouses',
];

export const SUBJECTS: readonly string[] = [
  'chemistry', 'law', 'medicine', 'architecture', 'mathematics', 'philosophy', 'engineering', 'botany', 'music', 'economics',
];

export const JOBS: readonly string[] = [
  'engineer', 'accountant', 'designer', 'chemist', 'manager', 'translator', 'analyst', 'draughtsman', 'technician', 'clerk',
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

/** Syllables of generated city and company names (pseudo-words that no template uses). */
export const NAME_ONSETS: readonly string[] = ['b', 'br', 'd', 'dr', 'f', 'g', 'gr', 'k', 'kr', 'l', 'm', 'n', 'p', 'r', 's', 'st', 't', 'tr', 'v', 'z'];
export const NAME_VOWELS: readonly string[] = ['a', 'e', 'i', 'o', 'u', 'ai', 'ei', 'ou'];
export const CITY_ENDINGS: readonly string[] = ['mora', 'vik', 'holm', 'burg', 'ford', 'stad', 'ano', 'ville', 'heim', 'dor'];
export const SURNAME_ENDINGS: readonly string[] = ['son', 'berg', 'ski', 'ez', 'ov', 'ani', 'ard', 'ley', 'mann', 'ic'];
export const COMPANY_ENDINGS: readonly string[] = ['tex', 'tron', 'dyne', 'corp', 'works', 'nex', 'lab', 'sys', 'ix', 'co'];
