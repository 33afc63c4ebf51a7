/**
 * The typed configuration of the iterative procedure (DESIGN.md §1). Keys follow the paper and the official FiD
 * code (n_context, text_maxlength, indexing_dimension, lr, warmup_steps, total_steps …) so that a JSON config
 * reads like the FiD repo's command lines.
 */

/** Distillation objectives of the paper's ablation. */
export type DistillationLossName = 'kl' | 'mse' | 'margin';
/** Losses a retriever can be trained with: the distillation ones, or the has_answer-supervised baseline. */
export type RetrieverLossName = DistillationLossName | 'has_answer';

/** Optimisation settings shared by reader and retriever training (FiD's train_reader / train_retriever flags). */
export interface OptimConfig {
  lr: number;
  weight_decay: number;
  warmup_steps: number;
  total_steps: number;
  /** Steps of the linear decay (FiD's --scheduler_steps); default total_steps. */
  scheduler_steps?: number;
  /** 'linear': warmup then linear decay (FiD's WarmupLinearScheduler); 'fixed': constant lr after warmup. */
  scheduler: 'linear' | 'fixed';
  batch_size: number;
  accumulation_steps: number;
  /** Global gradient-norm clip. */
  clip: number;
  /** Save a resumable training checkpoint every this many optimizer steps (0: never). */
  checkpoint_every: number;
}

/** The FiD reader (T5) stage. Either `init` (checkpoint dir) or `model` (an HF T5 config for a fresh model). */
export interface ReaderConfig extends OptimConfig {
  init?: string;
  model?: Record<string, unknown>;
  n_context: number;
  text_maxlength: number;
  answer_maxlength: number;
  /** Iteration t > 0 starts from reader t−1 (true) or from `init`/fresh weights (false, the paper retrains). */
  continue_from_previous: boolean;
  /** Questions per generation batch (EM evaluation). */
  eval_batch_size: number;
}

/** Reader relevance scores G (the teacher signal): the aggregation of the reader's cross-attention. */
export interface ScoreConfig {
  /** 'pre' (official FiD code): raw q·k logits; 'post': attention probabilities (the paper's alternative). */
  softmax: 'pre' | 'post';
  /** 'first' (official): the first decoding step; 'all': every decoder position of the target answer. */
  positions: 'first' | 'all';
  /** Decoder layers to aggregate (default all). */
  layers?: number[];
  /**
   * With 'post': G = log(attention mass on the passage) instead of the mean probability per token, so that
   * softmax(G) is the reader's attention distribution over passages. Default false (the reader's value).
   */
  log_mass: boolean;
  batch_size: number;
}

/** The bi-encoder (BERT) retriever stage. */
export interface RetrieverConfig extends OptimConfig {
  init?: string;
  model?: Record<string, unknown>;
  /** Projection size (0 or absent: no projection). */
  indexing_dimension?: number;
  question_maxlength: number;
  passage_maxlength: number;
  /** Passages per question used in training (the first n of Dᵗ). */
  n_context: number;
  loss: RetrieverLossName;
  /** Exact reduction variant for @fidkd/losses (e.g. 'kl_repo'); derived from `loss` when absent. */
  loss_variant?: string;
  gamma?: number;
  temperature_gold?: number;
  temperature_score?: number;
  continue_from_previous: boolean;
  /**
   * Also rank each question's passages above the other questions' passages of the batch (not in the paper;
   * helps a retriever trained from scratch, as in the demo). Ignored by MSE. Default false.
   */
  in_batch_negatives: boolean;
}

export interface EmbedConfig {
  num_shards: number;
  batch_size: number;
}

export interface IndexConfig {
  /** faiss factory string: 'Flat', 'HNSW32', 'IVF1024,PQ64' … */
  factory: string;
  ef_search?: number;
  nprobe?: number;
}

export interface RetrieveConfig {
  /** Passages stored per question in Dᵗ⁺¹ (≥ the largest k evaluated and ≥ reader.n_context). */
  n_passages: number;
  batch_size: number;
}

export interface EvaluateConfig {
  /** Top-k accuracies to report. */
  k: number[];
  /** Splits to evaluate (the dev split is always used; test when present). */
  splits: Array<'dev' | 'test'>;
  /** Also compute the reader's exact match by greedy decoding. */
  reader_em: boolean;
  /** Cap on evaluated questions per split for EM (0: all). */
  max_em_questions: number;
}

/** Where the run's data lives: D⁰ question files (FiD format with ctxs) and the passage collection. */
export interface DataConfig {
  passages: string;
  train: string;
  dev: string;
  test?: string;
}

/** The whole iterative procedure. */
export interface PipelineConfig {
  name: string;
  seed: number;
  /** Distillation rounds T: readers 0..T are trained, retrievers 0..T−1. */
  iterations: number;
  data: DataConfig;
  /** tokenizer.json files (the synthetic world uses one for both). */
  tokenizer: { reader: string; retriever: string };
  reader: ReaderConfig;
  score: ScoreConfig;
  retriever: RetrieverConfig;
  embed: EmbedConfig;
  index: IndexConfig;
  retrieve: RetrieveConfig;
  evaluate: EvaluateConfig;
  /**
   * Baseline branches: `has_answer` — the retriever trained on D⁰ with answer-string positives (the paper's
   * baseline); `shuffled_teacher` — iteration 0's retriever training with each question's G permuted among its
   * passages (what the recipe gives without the reader's information); `oracle_teacher` — the same with G on the
   * gold passages (data that knows them only: a check of the world, not of the method).
   */
  baseline: { has_answer: boolean; shuffled_teacher?: boolean; oracle_teacher?: boolean };
}

/** Deep partial, for overrides. */
export type DeepPartial<T> = T extends Array<infer U>
  ? Array<U>
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** A config error that names the source (file or flag) and the key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Optional keys of the config types (absent from defaults, still valid in files and flags). */
export const OPTIONAL_KEYS: ReadonlySet<string> = new Set([
  'init', 'model', 'layers', 'scheduler_steps', 'loss_variant', 'gamma', 'temperature_gold', 'temperature_score', 'indexing_dimension', 'ef_search', 'nprobe', 'test',
  'shuffled_teacher', 'oracle_teacher',
]);

/**
 * Merges `override` into `base` recursively (arrays and scalars replace). Keys of `override` unknown to `base`
 * are errors naming `source` and the dotted key, except under objects listed in `openKeys` (free-form maps such
 * as a model config).
 */
export function mergeConfig<T>(base: T, override: unknown, source: string, openKeys: string[] = ['model', 'data', 'world']): T {
  const walk = (b: unknown, o: unknown, path: string): unknown => {
    if (o === undefined) return b;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return o;
    if (b === undefined || b === null || typeof b !== 'object' || Array.isArray(b)) {
      if (b !== undefined && b !== null) throw new ConfigError(`${source}: "${path}" must be a ${typeof b}, got an object`);
      return o;
    }
    const out: Record<string, unknown> = { ...(b as Record<string, unknown>) };
    const leaf = path.split('.').pop() ?? '';
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in out) && !OPTIONAL_KEYS.has(k) && !openKeys.includes(leaf) && !openKeys.includes(k)) {
        const known = Object.keys(out).join(', ');
        throw new ConfigError(`${source}: unknown key "${p}" (known keys here: ${known})`);
      }
      out[k] = walk(out[k], v, p);
    }
    return out;
  };
  return walk(base, override, '') as T;
}

/** Checks the values a run cannot work without; throws a ConfigError listing every problem. */
export function validatePipelineConfig(c: PipelineConfig, source = 'config'): void {
  const problems: string[] = [];
  const pos = (v: unknown, name: string): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) problems.push(`${name} must be a positive number (got ${String(v)})`);
  };
  const nonneg = (v: unknown, name: string): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) problems.push(`${name} must be ≥ 0 (got ${String(v)})`);
  };
  if (!Number.isInteger(c.iterations) || c.iterations < 0) problems.push(`iterations must be an integer ≥ 0 (got ${c.iterations})`);
  if (!Number.isInteger(c.seed)) problems.push(`seed must be an integer (got ${c.seed})`);
  for (const [name, o] of [['reader', c.reader], ['retriever', c.retriever]] as const) {
    pos(o.lr, `${name}.lr`);
    nonneg(o.weight_decay, `${name}.weight_decay`);
    nonneg(o.warmup_steps, `${name}.warmup_steps`);
    pos(o.total_steps, `${name}.total_steps`);
    pos(o.batch_size, `${name}.batch_size`);
    pos(o.accumulation_steps, `${name}.accumulation_steps`);
    nonneg(o.checkpoint_every, `${name}.checkpoint_every`);
    pos(o.n_context, `${name}.n_context`);
    if (!o.init && !o.model) problems.push(`${name}: give "init" (a checkpoint directory) or "model" (a config for fresh weights)`);
  }
  pos(c.reader.text_maxlength, 'reader.text_maxlength');
  pos(c.reader.answer_maxlength, 'reader.answer_maxlength');
  pos(c.retriever.question_maxlength, 'retriever.question_maxlength');
  pos(c.retriever.passage_maxlength, 'retriever.passage_maxlength');
  if (!['kl', 'mse', 'margin', 'has_answer'].includes(c.retriever.loss)) {
    problems.push(`retriever.loss must be kl, mse, margin or has_answer (got ${String(c.retriever.loss)})`);
  }
  if (c.score.softmax !== 'pre' && c.score.softmax !== 'post') problems.push(`score.softmax must be "pre" or "post" (got ${String(c.score.softmax)})`);
  if (c.score.positions !== 'first' && c.score.positions !== 'all') problems.push(`score.positions must be "first" or "all" (got ${String(c.score.positions)})`);
  if (c.score.log_mass && c.score.softmax !== 'post') problems.push('score.log_mass needs score.softmax "post"');
  if (!Number.isInteger(c.embed.num_shards) || c.embed.num_shards < 1) problems.push(`embed.num_shards must be an integer ≥ 1`);
  pos(c.retrieve.n_passages, 'retrieve.n_passages');
  if (c.retrieve.n_passages < c.reader.n_context) problems.push(`retrieve.n_passages (${c.retrieve.n_passages}) must be ≥ reader.n_context (${c.reader.n_context})`);
  if (c.retrieve.n_passages < c.retriever.n_context) problems.push(`retrieve.n_passages (${c.retrieve.n_passages}) must be ≥ retriever.n_context (${c.retriever.n_context})`);
  if (!c.evaluate.k.length || c.evaluate.k.some((k) => !Number.isInteger(k) || k < 1)) problems.push('evaluate.k must be a list of integers ≥ 1');
  for (const [k, v] of Object.entries(c.data)) if (typeof v !== 'string' || !v) problems.push(`data.${k} must be a path`);
  if (problems.length) throw new ConfigError(`${source}:\n  - ${problems.join('\n  - ')}`);
}
