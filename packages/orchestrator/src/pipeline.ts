import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type {
  EmbedConfig, EvaluateConfig, IndexConfig, PipelineConfig, ReaderConfig, RetrieveConfig, RetrieverConfig, ScoreConfig,
} from './config.js';
import type { Metrics } from './runner/events.js';
import type { TeacherControl } from './stages/teacher-controls.js';
import { StageRunner, type StageContext, type StageDefinition, type StageOutcome } from './runner/stage-runner.js';
import { mergeRetrieveShards, type RetrieveMergeConfig } from './stages/retrieve-merge.js';

/** The seven stages of one iteration, in order. */
export const STAGE_NAMES = ['train-reader', 'score', 'train-retriever', 'embed', 'index', 'retrieve', 'evaluate'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** Per-stage config given to implementations: the relevant config section plus what the stage needs to know. */
export interface TrainReaderStageConfig extends ReaderConfig { seed: number }
export interface ScoreStageConfig extends ScoreConfig { n_context: number; text_maxlength: number; answer_maxlength: number }
export interface TrainRetrieverStageConfig extends RetrieverConfig {
  seed: number;
  /** A control baseline: the scored training file's G shuffled among each question's passages, or an oracle G. */
  teacher_control?: TeacherControl;
}
export interface EmbedStageConfig extends EmbedConfig { shard_id: number; passage_maxlength: number }
export interface IndexStageConfig extends IndexConfig { num_shards: number }
/** retrieve: every question of each split, or with `shard_id` shard `shard_id` of `num_shards` of them. */
export interface RetrieveStageConfig extends RetrieveConfig { question_maxlength: number; splits: string[]; shard_id?: number }
export interface EvaluateStageConfig extends EvaluateConfig {
  n_context: number; text_maxlength: number; answer_maxlength: number; eval_batch_size: number;
}

/**
 * What each stage does, as functions of their context. Inputs arrive by name in `ctx.inputs`:
 * - train-reader: train, tokenizer, [init] → a reader checkpoint (HF layout) in outDir
 * - score: reader, train, [dev], tokenizer → outDir/train.json (D of the train split with ctx.score = G), dev.json
 * - train-retriever: train (scored, or with has_answer for the baseline), tokenizer, [init] → retriever checkpoint
 * - embed: retriever, passages, tokenizer → outDir/embeddings.safetensors (shard shard_id of num_shards)
 * - index: shard-0 … shard-(N−1) → a PassageIndex directory in outDir
 * - retrieve: retriever, index, passages, tokenizer, and one input per split → outDir/<split>.json (Dᵗ⁺¹, has_answer)
 * - evaluate: dev, [test], [reader, tokenizer] → metrics (`<split>.recall@k`, `<split>.em`) and outDir/metrics.json,
 *   with the reader the answers it generated in outDir/<split>-answers.json
 * Implementations must be deterministic given the config (seeded) so that a resumed run ends identically.
 */
export interface StageImplementations {
  'train-reader': (ctx: StageContext<TrainReaderStageConfig>) => Promise<Metrics | void>;
  score: (ctx: StageContext<ScoreStageConfig>) => Promise<Metrics | void>;
  'train-retriever': (ctx: StageContext<TrainRetrieverStageConfig>) => Promise<Metrics | void>;
  embed: (ctx: StageContext<EmbedStageConfig>) => Promise<Metrics | void>;
  index: (ctx: StageContext<IndexStageConfig>) => Promise<Metrics | void>;
  retrieve: (ctx: StageContext<RetrieveStageConfig>) => Promise<Metrics | void>;
  evaluate: (ctx: StageContext<EvaluateStageConfig>) => Promise<Metrics | void>;
}

/** Output file names inside stage directories (the layout other tools may rely on). */
export const OUTPUTS = {
  scoredTrain: 'train.json',
  scoredDev: 'dev.json',
  readerAnswers: (s: string) => `${s}-answers.json`,
  embeddings: 'embeddings.safetensors',
  split: (s: string) => `${s}.json`,
  evaluation: 'metrics.json',
} as const;

/**
 * A branch of the plan: iteration t of the method, or a baseline — 'baseline' (the has_answer-supervised retriever
 * on D⁰), 'shuffled_teacher' / 'oracle_teacher' (iteration 0's retriever training with G shuffled among each
 * question's passages / with an oracle G on the gold passages).
 */
export type Branch = number | 'baseline' | 'shuffled_teacher' | 'oracle_teacher';

/** Relative directory of a stage of iteration t (or of a baseline branch); a shard of embed / retrieve: `<stage>-K-of-N`. */
export function stageDirKey(iteration: Branch, stage: StageName, shard?: { id: number; of: number }): string {
  const group = iteration === 'baseline' ? 'baseline-has_answer' : typeof iteration === 'number' ? `iter-${iteration}` : `baseline-${iteration}`;
  const name = (stage === 'embed' || stage === 'retrieve') && shard ? `${stage}-${shard.id}-of-${shard.of}` : stage;
  return `${group}/${name}`;
}

type AnyDef = StageDefinition<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A stage instance of the plan with the seeds and inputs resolved. */
export interface PlannedStage {
  name: StageName;
  iteration: Branch;
  shard?: { id: number; of: number };
  definition: AnyDef;
}

function splitsOf(c: PipelineConfig): string[] {
  return c.data.test ? ['train', 'dev', 'test'] : ['train', 'dev'];
}

/** Per-stage seed: distinct per stage (and per iteration where the caller passes it), fixed by the run seed. */
export function stageSeed(seed: number, stage: string, iteration: number | string): number {
  let h = 2166136261 ^ seed;
  for (const ch of `${stage}@${String(iteration)}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return (h >>> 0) % 2147483647;
}

/**
 * The plan of a run: every stage instance in execution order. For t in 0..T−1 the seven stages; for t = T the
 * reader of the last iteration is trained and evaluated (train-reader, evaluate); then the has_answer baseline
 * branch (train-retriever with loss has_answer on D⁰, embed, index, retrieve dev/test, evaluate) when enabled.
 */
export function planPipeline(config: PipelineConfig, runDir: string, impl: StageImplementations, implementation?: string): PlannedStage[] {
  const plan: PlannedStage[] = [];
  const dir = (key: string): string => join(runDir, key);
  const splits = splitsOf(config);
  // dev is always evaluated (results and reports are on dev); test when asked for and given
  const evalSplits: Array<'dev' | 'test'> = ['dev', ...(config.evaluate.splits.includes('test') && config.data.test ? ['test' as const] : [])];
  const D = (t: number): Record<string, string> => {
    if (t === 0) {
      const d: Record<string, string> = { train: config.data.train, dev: config.data.dev };
      if (config.data.test) d.test = config.data.test;
      return d;
    }
    const prev = dir(stageDirKey(t - 1, 'retrieve'));
    return Object.fromEntries(splits.map((s) => [s, join(prev, OUTPUTS.split(s))]));
  };
  const add = (name: StageName, iteration: Branch, config_: unknown, inputs: Record<string, string>, shard?: { id: number; of: number }, run: AnyDef['run'] = impl[name] as AnyDef['run']): void => {
    plan.push({
      name, iteration, shard,
      definition: { stage: name, iteration, key: stageDirKey(iteration, name, shard), config: config_, inputs, run, implementation },
    });
  };
  const evaluateStage = (iteration: Branch, inputs: Record<string, string>, readerEm: boolean): void => {
    add('evaluate', iteration, {
      ...config.evaluate, splits: evalSplits, reader_em: readerEm,
      n_context: config.reader.n_context, text_maxlength: config.reader.text_maxlength,
      answer_maxlength: config.reader.answer_maxlength, eval_batch_size: config.reader.eval_batch_size,
    } satisfies EvaluateStageConfig, inputs);
  };
  const retrieverBranch = (
    iteration: Branch, trainInput: string, init: string | undefined, loss: RetrieverConfig['loss'], retrieveSplits: string[], queries: Record<string, string>,
    control?: { teacher: TeacherControl; seedOf: number },
  ): void => {
    const rc: TrainRetrieverStageConfig = { ...config.retriever, loss, seed: stageSeed(config.seed, 'train-retriever', control ? control.seedOf : iteration) };
    if (control) rc.teacher_control = control.teacher;
    if (loss === 'has_answer') delete rc.loss_variant;
    const rInputs: Record<string, string> = { train: trainInput, tokenizer: config.tokenizer.retriever };
    if (init) rInputs.init = init;
    add('train-retriever', iteration, rc, rInputs);
    const retriever = dir(stageDirKey(iteration, 'train-retriever'));
    const N = config.embed.num_shards;
    for (let k = 0; k < N; k++) {
      add('embed', iteration, { ...config.embed, shard_id: k, passage_maxlength: config.retriever.passage_maxlength } satisfies EmbedStageConfig,
        { retriever, passages: config.data.passages, tokenizer: config.tokenizer.retriever }, { id: k, of: N });
    }
    const shards: Record<string, string> = {};
    for (let k = 0; k < N; k++) shards[`shard-${k}`] = join(dir(stageDirKey(iteration, 'embed', { id: k, of: N })), OUTPUTS.embeddings);
    add('index', iteration, { ...config.index, num_shards: N } satisfies IndexStageConfig, shards);
    const retrieveInputs: Record<string, string> = {
      retriever, index: dir(stageDirKey(iteration, 'index')), passages: config.data.passages, tokenizer: config.tokenizer.retriever,
    };
    for (const s of retrieveSplits) retrieveInputs[s] = queries[s]!;
    const retrieveConfig: RetrieveStageConfig = { ...config.retrieve, question_maxlength: config.retriever.question_maxlength, splits: retrieveSplits };
    const M = config.retrieve.num_shards ?? 1;
    if (M <= 1) {
      add('retrieve', iteration, retrieveConfig, retrieveInputs);
      return;
    }
    // sharded over questions (an array of jobs on a cluster), then merged into the stage's usual directory
    const merged: Record<string, string> = {};
    for (let k = 0; k < M; k++) {
      add('retrieve', iteration, { ...retrieveConfig, shard_id: k }, retrieveInputs, { id: k, of: M });
      merged[`shard-${k}`] = dir(stageDirKey(iteration, 'retrieve', { id: k, of: M }));
    }
    add('retrieve', iteration, { splits: retrieveSplits, num_shards: M } satisfies RetrieveMergeConfig, merged, undefined, mergeRetrieveShards as AnyDef['run']);
  };

  for (let t = 0; t <= config.iterations; t++) {
    const d = D(t);
    const readerInit = t > 0 && config.reader.continue_from_previous ? dir(stageDirKey(t - 1, 'train-reader')) : config.reader.init;
    // only what the stage reads: an input it ignores would make a changed file look like a reason to retrain
    const readerInputs: Record<string, string> = { train: d.train!, tokenizer: config.tokenizer.reader };
    if (readerInit) readerInputs.init = readerInit;
    // one seed for every iteration's reader, as the official commands run train_reader.py with the same --seed:
    // the readers of two iterations then differ by their passages, not by the draw of their batches
    add('train-reader', t, { ...config.reader, seed: stageSeed(config.seed, 'train-reader', 0) } satisfies TrainReaderStageConfig, readerInputs);
    const reader = dir(stageDirKey(t, 'train-reader'));
    if (t < config.iterations) {
      add('score', t, {
        ...config.score, n_context: config.reader.n_context, text_maxlength: config.reader.text_maxlength, answer_maxlength: config.reader.answer_maxlength,
      } satisfies ScoreStageConfig, { reader, train: d.train!, dev: d.dev!, tokenizer: config.tokenizer.reader });
      const retrieverInit = t > 0 && config.retriever.continue_from_previous ? dir(stageDirKey(t - 1, 'train-retriever')) : config.retriever.init;
      retrieverBranch(t, join(dir(stageDirKey(t, 'score')), OUTPUTS.scoredTrain), retrieverInit, config.retriever.loss, splits, d);
    }
    const evalInputs: Record<string, string> = { reader, tokenizer: config.tokenizer.reader };
    for (const s of evalSplits) evalInputs[s] = d[s]!;
    evaluateStage(t, evalInputs, config.evaluate.reader_em);
  }
  // A baseline: a retriever branch on D⁰'s queries, evaluated on the dev/test passages it retrieves.
  const baselineBranch = (branch: Exclude<Branch, number>, trainInput: string, loss: RetrieverConfig['loss'], control?: { teacher: TeacherControl; seedOf: number }): void => {
    retrieverBranch(branch, trainInput, config.retriever.init, loss, evalSplits, D(0), control);
    const out = dir(stageDirKey(branch, 'retrieve'));
    const evalInputs: Record<string, string> = {};
    for (const s of evalSplits) evalInputs[s] = join(out, OUTPUTS.split(s));
    evaluateStage(branch, evalInputs, false);
  };
  if (config.baseline.has_answer) baselineBranch('baseline', D(0).train!, 'has_answer');
  // Teacher controls: iteration 0's retriever training (same init, loss and seed) on transformed scores.
  for (const [branch, teacher] of [['shuffled_teacher', 'shuffled'], ['oracle_teacher', 'oracle']] as const) {
    if (!config.baseline[branch] || config.iterations < 1) continue;
    baselineBranch(branch, join(dir(stageDirKey(0, 'score')), OUTPUTS.scoredTrain), config.retriever.loss, { teacher, seedOf: 0 });
  }
  return plan;
}

/**
 * Metrics of a finished run: evaluate-stage metrics per iteration (with the score stage's teacher metrics of the
 * iterations that train a retriever) and of each baseline branch (`baseline`: has_answer, kept by that name).
 */
export interface PipelineResult {
  iterations: Array<{ iteration: number; metrics: Metrics; teacher?: Metrics }>;
  baseline?: Metrics;
  baselines: Partial<Record<Exclude<Branch, number>, Metrics>>;
  outcomes: StageOutcome[];
}

export interface RunPipelineOptions {
  /** Run only the stages matching this filter (for the per-stage CLI commands). */
  only?: (stage: PlannedStage) => boolean;
}

/**
 * A stage's input comes from an earlier stage that is not current (its own inputs changed since it ran, e.g.
 * because a stage before it was redone): running a single stage on it would mix the outputs of two upstreams, so
 * it is refused until that stage is rerun.
 */
export class OutOfDateInputError extends Error {
  constructor(
    readonly stage: string,
    readonly iteration: number | string,
    readonly input: string,
    /** Key (directory) of the stage to rerun first. */
    readonly upstream: string,
    readonly reason: string,
  ) {
    super(`stage ${stage} (iteration ${iteration}): input "${input}" comes from ${upstream}, which is out of date (${reason}); rerun that stage first`);
    this.name = 'OutOfDateInputError';
  }
}

/**
 * For a stage run on its own (`only`): refuses it when an input comes, directly or through other stages, from a
 * stage that is not current. A whole run needs no such check: it runs the stages in order, and a redone stage
 * changes its outputs' hashes, which reruns the stages that read them.
 */
function checkUpstream(runner: StageRunner, plan: PlannedStage[], target: PlannedStage): void {
  const producer = (path: string): PlannedStage | undefined => plan.find((q) => {
    const d = join(runner.runDir, q.definition.key);
    return path === d || path.startsWith(`${d}/`);
  });
  const memo = new Map<PlannedStage, string | undefined>();
  const staleness = (q: PlannedStage): string | undefined => {
    if (memo.has(q)) return memo.get(q);
    memo.set(q, undefined); // the plan is acyclic; this only guards a malformed one
    let why: string | undefined;
    for (const [name, path] of Object.entries(q.definition.inputs)) {
      const up = producer(path);
      if (up && staleness(up)) {
        why = `its input "${name}" comes from ${up.definition.key}, which is out of date`;
        break;
      }
    }
    why ??= runner.pending(q.definition, true);
    memo.set(q, why);
    return why;
  };
  for (const [name, path] of Object.entries(target.definition.inputs)) {
    const up = producer(path);
    if (!up || !existsSync(path)) continue; // a missing input is reported as such (MissingInputError)
    const why = staleness(up);
    if (why) throw new OutOfDateInputError(target.name, target.iteration, name, up.definition.key, why);
  }
}

/** Runs (or resumes) the whole plan with a StageRunner; stages already done are skipped. */
export async function runPipeline(
  runner: StageRunner,
  config: PipelineConfig,
  impl: StageImplementations,
  options: RunPipelineOptions & { implementation?: string } = {},
): Promise<PipelineResult> {
  const plan = planPipeline(config, runner.runDir, impl, options.implementation);
  const collector = resultCollector();
  for (const p of plan) {
    if (options.only && !options.only(p)) continue;
    if (options.only) checkUpstream(runner, plan, p);
    collector.add(p, await runner.run(p.definition));
  }
  return collector.result;
}

/** Accumulates a PipelineResult from the outcomes of the plan's stages, in plan order. */
function resultCollector(): { result: PipelineResult; add(p: PlannedStage, o: StageOutcome): void } {
  const result: PipelineResult = { iterations: [], baselines: {}, outcomes: [] };
  const teachers = new Map<number, Metrics>();
  return {
    result,
    add(p, o) {
      result.outcomes.push(o);
      if (p.name === 'score' && typeof p.iteration === 'number') teachers.set(p.iteration, o.manifest.metrics);
      if (p.name !== 'evaluate') return;
      if (typeof p.iteration === 'number') {
        const teacher = teachers.get(p.iteration);
        result.iterations.push({ iteration: p.iteration, metrics: o.manifest.metrics, ...(teacher ? { teacher } : {}) });
      } else {
        result.baselines[p.iteration] = o.manifest.metrics;
        if (p.iteration === 'baseline') result.baseline = o.manifest.metrics;
      }
    },
  };
}

/**
 * The result of a run whose stages were run elsewhere (as jobs, by other processes): read from their manifests,
 * each checked to match its config and inputs. Throws naming the first stage that is not done.
 */
export function readPipelineResult(runner: StageRunner, config: PipelineConfig, impl: StageImplementations, implementation?: string): PipelineResult {
  const collector = resultCollector();
  for (const p of planPipeline(config, runner.runDir, impl, implementation)) {
    const why = runner.pending(p.definition);
    if (why !== undefined) throw new Error(`stage ${p.definition.key} is not done (${why})`);
    collector.add(p, { dir: runner.dirOf(p.definition.key), manifest: runner.manifestOf(p.definition.key)!, skipped: true });
  }
  return collector.result;
}
