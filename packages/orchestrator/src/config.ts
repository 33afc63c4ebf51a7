/**
 * The typed configuration of the iterative procedure (DESIGN.md §1). Keys follow the paper and the official FiD
 * code (n_context, text_maxlength, indexing_dimension, lr, warmup_steps, total_steps …) so that a JSON config
 * reads like the FiD repo's command lines.
 */
import { DISTILLATION_VARIANTS } from '@fidkd/losses';

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
  /**
   * With in_batch_negatives: batches made of groups of this many questions whose first passages' titles share a
   * word (namesakes), so the other questions' passages are hard negatives (same words, another name) rather than
   * random ones (not in the paper; titles only, no labels). Default 1: random batches.
   */
  namesake_group?: number;
}

export interface EmbedConfig {
  num_shards: number;
  batch_size: number;
  /**
   * Engine that embeds the passages: "ort" (the retriever exported to ONNX, run by onnxruntime-node), "tfjs" (the
   * bi-encoder on the run's tfjs backend) or "auto" (the default: "ort" when onnxruntime-node is installed, else
   * "tfjs"). The same embeddings within 1e-5; each shard records the engine it used in its metrics.
   */
  backend?: 'auto' | 'ort' | 'tfjs';
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
  /**
   * Retrieval sharded over the questions of each split (one job per shard on a cluster, then a merge); absent or
   * 1: one stage. Shards are whole batches of `batch_size`, so the merged files equal the unsharded ones.
   */
  num_shards?: number;
}

export interface EvaluateConfig {
  /** Top-k accuracies to report. */
  k: number[];
  /** Splits to evaluate: dev always (results and reports are on dev); "test" adds the test split (needs data.test). */
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

/** A value as a message shows it: JSON, except numbers JSON cannot write (1e999 parses to Infinity, not null). */
function shown(v: unknown): string {
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : JSON.stringify(v) ?? String(v);
}

/** Options of {@link validatePipelineConfig}. */
export interface ValidateOptions {
  /**
   * Prefix of every key named in messages, so that they name the key as the user typed it (the demo nests the
   * pipeline under `pipeline.`: `pipeline.reader.total_steps`, not `reader.total_steps`).
   */
  keyPrefix?: string;
  /** Skip the checks of `data` (the demo's data paths exist only after its preparation). */
  skipData?: boolean;
}

/** Checks the values a run cannot work without; throws a ConfigError listing every problem. */
export function validatePipelineConfig(c: PipelineConfig, source = 'config', options: ValidateOptions = {}): void {
  const problems = pipelineConfigProblems(c, options);
  if (problems.length) throw new ConfigError(`${source}:\n  - ${problems.join('\n  - ')}`);
}

/** The problems {@link validatePipelineConfig} reports, one line each (keys as `options.keyPrefix` names them). */
export function pipelineConfigProblems(c: PipelineConfig, options: ValidateOptions = {}): string[] {
  const problems: string[] = [];
  const pre = options.keyPrefix ?? '';
  const key = (name: string): string => `${pre}${name}`;
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  // a section replaced by null or a scalar ("reader": null) is reported once, and its keys are not checked
  for (const section of ['data', 'tokenizer', 'reader', 'score', 'retriever', 'embed', 'index', 'retrieve', 'evaluate', 'baseline'] as const) {
    if (!isObject(c[section])) {
      problems.push(`${key(section)} must be an object (got ${JSON.stringify(c[section])})`);
    }
  }
  if (problems.length) return problems;
  const num = (v: unknown, name: string, test: (x: number) => boolean, what: string): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || !test(v)) problems.push(`${key(name)} must be ${what} (got ${shown(v)})`);
  };
  const pos = (v: unknown, name: string): void => num(v, name, (x) => x > 0, 'a positive number');
  const nonneg = (v: unknown, name: string): void => num(v, name, (x) => x >= 0, '≥ 0');
  const posInt = (v: unknown, name: string): void => num(v, name, (x) => Number.isInteger(x) && x >= 1, 'an integer ≥ 1');
  const nonnegInt = (v: unknown, name: string): void => num(v, name, (x) => Number.isInteger(x) && x >= 0, 'an integer ≥ 0');
  const oneOf = (v: unknown, name: string, values: readonly unknown[]): void => {
    if (!values.includes(v)) problems.push(`${key(name)} must be ${values.map((x) => JSON.stringify(x)).join(' or ')} (got ${shown(v)})`);
  };
  // the learning-rate schedule must reach its peak and must not end before training does
  const scheduleProblems = (o: OptimConfig, name: string): void => {
    if (![o.warmup_steps, o.total_steps].every(Number.isInteger) || (o.scheduler_steps !== undefined && !Number.isInteger(o.scheduler_steps))) return;
    if (o.scheduler === 'fixed' && o.scheduler_steps !== undefined) {
      problems.push(`${key(`${name}.scheduler_steps`)} is the length of the linear decay: ignored with ${key(`${name}.scheduler`)} "fixed"`);
    }
    const decay = o.scheduler === 'linear' && o.scheduler_steps !== undefined;
    const length = decay ? o.scheduler_steps! : o.total_steps;
    if (o.warmup_steps > 0 && o.warmup_steps >= length) {
      problems.push(`${key(`${name}.warmup_steps`)} (${o.warmup_steps}) must be below ${key(`${name}.${decay ? 'scheduler_steps' : 'total_steps'}`)} (${length}): the learning rate would never reach ${key(`${name}.lr`)}`);
    }
    if (o.scheduler === 'linear' && o.scheduler_steps !== undefined && o.scheduler_steps < o.total_steps) {
      problems.push(`${key(`${name}.scheduler_steps`)} (${o.scheduler_steps}) must be ≥ ${key(`${name}.total_steps`)} (${o.total_steps}): the learning rate is 0 after scheduler_steps, so the last ${o.total_steps - o.scheduler_steps} steps would not train`);
    }
  };
  if (typeof c.name !== 'string' || !/^[\w.-]+$/.test(c.name) || /^\.+$/.test(c.name)) {
    problems.push(`${key('name')} must be a name of letters, digits, ".", "_" or "-" (it names the run directory runs/<name>; got ${JSON.stringify(c.name)})`);
  }
  nonnegInt(c.iterations, 'iterations');
  num(c.seed, 'seed', Number.isInteger, 'an integer');
  for (const [name, o] of [['reader', c.reader], ['retriever', c.retriever]] as const) {
    pos(o.lr, `${name}.lr`);
    nonneg(o.weight_decay, `${name}.weight_decay`);
    nonnegInt(o.warmup_steps, `${name}.warmup_steps`);
    posInt(o.total_steps, `${name}.total_steps`);
    if (o.scheduler_steps !== undefined) posInt(o.scheduler_steps, `${name}.scheduler_steps`);
    oneOf(o.scheduler, `${name}.scheduler`, ['linear', 'fixed']);
    posInt(o.batch_size, `${name}.batch_size`);
    posInt(o.accumulation_steps, `${name}.accumulation_steps`);
    nonneg(o.clip, `${name}.clip`);
    nonnegInt(o.checkpoint_every, `${name}.checkpoint_every`);
    posInt(o.n_context, `${name}.n_context`);
    oneOf(o.continue_from_previous, `${name}.continue_from_previous`, [true, false]);
    if (o.init !== undefined && (typeof o.init !== 'string' || !o.init)) problems.push(`${key(`${name}.init`)} must be a checkpoint directory path`);
    if (o.model !== undefined && !isObject(o.model)) problems.push(`${key(`${name}.model`)} must be an object (a model config)`);
    if (!o.init && !o.model) problems.push(`${key(name)}: give "init" (a checkpoint directory) or "model" (a config for fresh weights)`);
    // a setting the run would not use is refused, not silently ignored
    if (o.init && o.model) problems.push(`${key(`${name}.model`)} is ignored when ${key(`${name}.init`)} is set (the checkpoint's config.json defines the model): remove one of them`);
    scheduleProblems(o, name);
  }
  if (c.retriever.accumulation_steps !== 1) problems.push(`${key('retriever.accumulation_steps')} must be 1 (the retriever trainer does not accumulate gradients; raise batch_size instead)`);
  // token lengths include the special tokens: T5's </s> (reader), BERT's [CLS] and [SEP] (retriever)
  const minInt = (v: unknown, name: string, min: number, why: string): void => num(v, name, (x) => Number.isInteger(x) && x >= min, `an integer ≥ ${min} (${why})`);
  minInt(c.reader.text_maxlength, 'reader.text_maxlength', 2, 'at least one token and </s>');
  minInt(c.reader.answer_maxlength, 'reader.answer_maxlength', 2, 'at least one token and </s>');
  posInt(c.reader.eval_batch_size, 'reader.eval_batch_size');
  minInt(c.retriever.question_maxlength, 'retriever.question_maxlength', 3, '[CLS], at least one token and [SEP]');
  minInt(c.retriever.passage_maxlength, 'retriever.passage_maxlength', 3, '[CLS], at least one token and [SEP]');
  if (c.retriever.indexing_dimension !== undefined && c.retriever.indexing_dimension !== 0) posInt(c.retriever.indexing_dimension, 'retriever.indexing_dimension');
  oneOf(c.retriever.loss, 'retriever.loss', ['kl', 'mse', 'margin', 'has_answer']);
  oneOf(c.retriever.in_batch_negatives, 'retriever.in_batch_negatives', [true, false]);
  if (c.retriever.namesake_group !== undefined) posInt(c.retriever.namesake_group, 'retriever.namesake_group');
  for (const t of ['gamma', 'temperature_gold', 'temperature_score'] as const) if (c.retriever[t] !== undefined) pos(c.retriever[t], `retriever.${t}`);
  // options of one loss are refused with another, which would ignore them
  const family = typeof c.retriever.loss_variant === 'string' ? c.retriever.loss_variant.replace(/_.*$/, '') : c.retriever.loss;
  if (c.retriever.loss_variant !== undefined) {
    const variants = DISTILLATION_VARIANTS.filter((v) => v.startsWith(`${c.retriever.loss}_`));
    if (!variants.includes(c.retriever.loss_variant as never)) {
      problems.push(`${key('retriever.loss_variant')} must be a variant of ${key('retriever.loss')} ${JSON.stringify(c.retriever.loss)}${variants.length ? ` (${variants.map((v) => JSON.stringify(v)).join(', ')})` : ', which has none'} (got ${JSON.stringify(c.retriever.loss_variant)})`);
    }
  }
  if (c.retriever.gamma !== undefined && family !== 'margin') problems.push(`${key('retriever.gamma')} is the margin loss's γ: ignored with ${key('retriever.loss')} ${JSON.stringify(c.retriever.loss)}`);
  for (const t of ['temperature_gold', 'temperature_score'] as const) {
    if (c.retriever[t] !== undefined && family !== 'kl') problems.push(`${key(`retriever.${t}`)} applies to the KL loss only: ignored with ${key('retriever.loss')} ${JSON.stringify(c.retriever.loss)}`);
  }
  if (c.retriever.namesake_group !== undefined && c.retriever.namesake_group > 1 && c.retriever.in_batch_negatives !== true) {
    problems.push(`${key('retriever.namesake_group')} (${c.retriever.namesake_group}) groups the batches for in-batch negatives: ignored without ${key('retriever.in_batch_negatives')} true`);
  }
  oneOf(c.score.softmax, 'score.softmax', ['pre', 'post']);
  oneOf(c.score.positions, 'score.positions', ['first', 'all']);
  oneOf(c.score.log_mass, 'score.log_mass', [true, false]);
  if (c.score.log_mass && c.score.softmax !== 'post') problems.push(`${key('score.log_mass')} needs ${key('score.softmax')} "post"`);
  if (c.score.layers !== undefined && (!Array.isArray(c.score.layers) || !c.score.layers.length || c.score.layers.some((l) => !Number.isInteger(l) || l < 0))) {
    problems.push(`${key('score.layers')} must be a non-empty list of decoder layer indices (integers ≥ 0)`);
  }
  posInt(c.score.batch_size, 'score.batch_size');
  posInt(c.embed.num_shards, 'embed.num_shards');
  posInt(c.embed.batch_size, 'embed.batch_size');
  if (c.embed.backend !== undefined) oneOf(c.embed.backend, 'embed.backend', ['auto', 'ort', 'tfjs']);
  if (typeof c.index.factory !== 'string' || !c.index.factory.trim()) problems.push(`${key('index.factory')} must be a faiss factory string such as "Flat" or "HNSW32"`);
  if (c.index.ef_search !== undefined) posInt(c.index.ef_search, 'index.ef_search');
  if (c.index.nprobe !== undefined) posInt(c.index.nprobe, 'index.nprobe');
  posInt(c.retrieve.n_passages, 'retrieve.n_passages');
  posInt(c.retrieve.batch_size, 'retrieve.batch_size');
  if (c.retrieve.num_shards !== undefined) posInt(c.retrieve.num_shards, 'retrieve.num_shards');
  // the retriever learns from the scores of the reader's n_context passages: it cannot take more of them
  if (c.retriever.loss !== 'has_answer' && typeof c.retriever.n_context === 'number' && c.retriever.n_context > c.reader.n_context) {
    problems.push(`${key('retriever.n_context')} (${c.retriever.n_context}) must be ≤ ${key('reader.n_context')} (${c.reader.n_context}): the reader scores only its n_context passages`);
  }
  if (c.retrieve.n_passages < c.reader.n_context) problems.push(`${key('retrieve.n_passages')} (${c.retrieve.n_passages}) must be ≥ ${key('reader.n_context')} (${c.reader.n_context})`);
  if (c.retrieve.n_passages < c.retriever.n_context) problems.push(`${key('retrieve.n_passages')} (${c.retrieve.n_passages}) must be ≥ ${key('retriever.n_context')} (${c.retriever.n_context})`);
  if (!Array.isArray(c.evaluate.k) || !c.evaluate.k.length || c.evaluate.k.some((k) => !Number.isInteger(k) || k < 1)) problems.push(`${key('evaluate.k')} must be a list of integers ≥ 1`);
  if (!Array.isArray(c.evaluate.splits) || c.evaluate.splits.some((s) => s !== 'dev' && s !== 'test')) {
    problems.push(`${key('evaluate.splits')} must be a list of "dev" and "test" (got ${JSON.stringify(c.evaluate.splits)})`);
  }
  if (Array.isArray(c.evaluate.splits) && c.evaluate.splits.includes('test') && !c.data.test && !options.skipData) {
    problems.push(`${key('evaluate.splits')} asks for "test" but ${key('data.test')} gives no test questions`);
  }
  oneOf(c.evaluate.reader_em, 'evaluate.reader_em', [true, false]);
  nonnegInt(c.evaluate.max_em_questions, 'evaluate.max_em_questions');
  oneOf(c.baseline.has_answer, 'baseline.has_answer', [true, false]);
  if (!options.skipData) {
    for (const k of ['passages', 'train', 'dev'] as const) if (typeof c.data[k] !== 'string' || !c.data[k]) problems.push(`${key(`data.${k}`)} must be a path`);
    if (c.data.test !== undefined && (typeof c.data.test !== 'string' || !c.data.test)) problems.push(`${key('data.test')} must be a path`);
    for (const k of ['reader', 'retriever'] as const) if (typeof c.tokenizer[k] !== 'string' || !c.tokenizer[k]) problems.push(`${key(`tokenizer.${k}`)} must be a path to a tokenizer.json`);
  }
  return problems;
}
