/** One passage of the collection, as a row of `psgs_w100.tsv` (`id`, `text`, `title`). */
export interface Passage {
  id: string;
  title: string;
  text: string;
}

/** One retrieved passage of a question, as in FiD's `ctxs` list. */
export interface FidContext {
  id: string;
  title: string;
  text: string;
  /** Retriever score (BM25, dense inner product …); higher is better. */
  score?: number;
  /** DPR `has_answer`: the passage text contains one of the answers (token match). */
  has_answer?: boolean;
}

/** One question in the FiD data format (`id`, `question`, `answers`, `target`, `ctxs`). */
export interface FidExample {
  id: string;
  question: string;
  answers: string[];
  /** The answer used as the training target; FiD picks a random answer when absent. */
  target?: string;
  /** Candidate passages D_q, best first. Empty when the file holds questions only. */
  ctxs: FidContext[];
  /**
   * Synthetic world only: the ids of the passages that truly state the answer (the relation's fact passage).
   * Not part of the FiD format; real data sets do not have it. Lets the demo report true relevance besides
   * has_answer.
   */
  gold_passage_ids?: string[];
}
