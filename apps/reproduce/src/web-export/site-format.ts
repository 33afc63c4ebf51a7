/**
 * The data files of the static site `fidkd export-web` writes (under `data/`), shared by the export (Node) and the
 * page (browser). Everything the page shows comes from these files; the page fetches nothing else.
 */

/** Version of the layout below; the page refuses files of another version. */
export const SITE_FORMAT = 'fidkd-web/1';

/**
 * One retriever whose ranking the page shows: `initial` is D⁰ (BM25 in the demo, the data file's retriever in a
 * reproduction), `iter-t` the retriever trained at iteration t (its ranking is Dᵗ⁺¹).
 */
export interface RankSource {
  key: string;
  label: string;
  /** Iteration of the retriever (absent for D⁰). */
  iteration?: number;
}

/** One row of the overview: the evaluation of Dᵗ (iteration t) or of a baseline branch. */
export interface MetricRow {
  /** `iter-t`, or the baseline branch (`baseline-has_answer`, `baseline-shuffled_teacher`, …). */
  key: string;
  label: string;
  kind: 'iteration' | 'baseline';
  iteration?: number;
  /**
   * The evaluate stage's metrics of the dev split, as the run wrote them (`recall@k`, `gold_recall@k`, `em`,
   * `mrr@10`, and whatever later versions add), without the `dev.` prefix.
   */
  metrics: Record<string, number>;
  /** The score stage's teacher metrics of the reader that taught the retriever giving this row's passages. */
  teacher?: Record<string, number>;
}

/** site.json: what the page needs to know about the run and where its files are. */
export interface SiteManifest {
  format: typeof SITE_FORMAT;
  run: {
    /** Name of the run directory. */
    name: string;
    /** The run's config name and seed. */
    config_name: string;
    seed: number;
    /** Distillation iterations of the run (T). */
    iterations: number;
    /** The exported iteration t: retriever t (search), reader t's passages Dᵗ, scores G and answers (questions). */
    iteration: number;
    n_context: number;
    /** Passages each retriever returned per question (`retrieve.n_passages`). */
    n_passages: number;
    k: number[];
    loss: string;
    exported_at: string;
  };
  metrics: MetricRow[];
  /** The rankings of the questions view, in order (D⁰ first). */
  rankings: RankSource[];
  /** The key in `rankings` of the exported retriever and of D⁰. */
  distilled: string;
  initial: string;
  questions: { file: string; count: number; split: 'dev'; scored: boolean; answered: boolean };
  passages: { file: string; count: number };
  /** BM25 as the page builds it over the passages (`title text`, Lucene scoring). */
  bm25: { k1: number; b: number; same_as_initial: boolean };
  retriever: {
    /** Resolved BiEncoderConfig of @fidkd/bi-encoder. */
    config_file: string;
    /** Safetensors of the parameters under their canonical names (HF BertModel names, `proj.*`, `norm.*`). */
    weights_file: string;
    tokenizer_file: string;
    question_maxlength: number;
  };
  embeddings: { file: string; dtype: 'float32' | 'float16'; count: number; dimension: number };
}

/** passages.json: the collection in its order (row i of the embeddings is passage i). */
export type SitePassages = Array<[id: string, title: string, text: string]>;

/** One passage of a question as reader t saw it (Dᵗ's first n_context). */
export interface SiteQuestionPassage {
  id: string;
  /** The reader's relevance score G (score stage), or null when the run has no scored dev file. */
  g: number | null;
  has_answer: boolean;
  gold: boolean;
  /** 1-based rank under each ranking of `rankings` (null: not among its n_passages). */
  ranks: Record<string, number | null>;
}

/** questions.json: the dev questions. */
export interface SiteQuestion {
  id: string;
  question: string;
  answers: string[];
  /** Gold passage ids where the data knows them (synthetic world). */
  gold: string[] | null;
  passages: SiteQuestionPassage[];
  /** Reader t's generated answer and whether it is an exact match (null where the run has none). */
  answer: string | null;
  em: boolean | null;
  /**
   * 1-based rank of the first relevant passage under each ranking (gold passage where known, else has_answer),
   * null when none is among its n_passages.
   */
  first_hit: Record<string, number | null>;
}
