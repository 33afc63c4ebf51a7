/**
 * The FiD bi-encoder retriever: one BERT shared by questions and passages, FiD pooling / projection, batched
 * embedding with progress events, scores S = <E(q), E(p)>/sqrt(d), training steps, HF / FiD checkpoint I/O.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  loadCheckpoint,
  mulberry32,
  runReadTask,
  runReadTaskSync,
  writeSafetensors,
  type ReadTask,
  type LoadedCheckpoint,
  type StateDict,
  type TokenBatch,
} from '@fidkd/core';
import { bertForward, bertPooler, type DropoutSpec, type ParameterMap } from './bert.js';
import { configFromHf, configToHf, resolveConfig, type BiEncoderConfig, type BiEncoderConfigInput, type RetrieverFlags } from './config.js';
import { initialValue } from './init.js';
import { embedBatchRows, embedText, type TextKind } from './embed-text.js';
import { ownPassageScores } from './pooling.js';
import { checkTokenBatch } from './token-batch.js';
import { embedPassagesWith, embedQuestionsWith, type EmbedChunk, type EmbedOptions, type EmbedPassagesOptions, type PassageSource } from './embed-stream.js';
import { RetrieverTrainer, type RetrieverTrainBatch, type RetrieverTrainOptions, type TrainStepResult } from './trainer.js';
import {
  LAYOUT_ARCHITECTURES,
  detectLayout,
  extractParameters,
  hasPooler,
  hasProjection,
  parameterShapes,
  storedName,
  type CheckpointLayout,
} from './weights.js';

export type { TextKind } from './embed-text.js';
export type { EmbedOptions, EmbedPassagesOptions } from './embed-stream.js';

export interface CreateOptions {
  /** Seed of the N(0, 0.02) initialisation (default 0). */
  seed?: number;
  /** Also create the HF pooler (unused by FiD; default true so that saved BertModel checkpoints are complete). */
  pooler?: boolean;
  /** Layout `save` writes by default (default 'fid-retriever' with projection, else 'bert'). */
  layout?: CheckpointLayout;
}

export class BiEncoder {
  private trainer: RetrieverTrainer | undefined;
  private disposed = false;

  private constructor(
    /** Resolved configuration (BERT + FiD retriever flags). */
    readonly config: BiEncoderConfig,
    private readonly params: Map<string, tf.Variable>,
    /** Layout the weights were read from (and that `save` writes by default). */
    readonly layout: CheckpointLayout,
    /** Stored tensors not used by the model (e.g. `cls.*` heads, `position_ids` buffers). */
    readonly ignoredTensors: readonly string[] = [],
  ) {}

  /** Loads a checkpoint directory (config.json + model.safetensors or pytorch_model.bin) in any supported layout. */
  static load(dir: string): BiEncoder {
    return BiEncoder.fromCheckpoint(loadCheckpoint(dir));
  }

  /** Builds a model from an already loaded checkpoint. */
  static fromCheckpoint(ckpt: LoadedCheckpoint): BiEncoder {
    const file = ckpt.weightsFile;
    const layout = detectLayout(ckpt.tensors.keys(), file);
    const config = configFromHf(ckpt.config, join(ckpt.dir, 'config.json'), hasProjection(ckpt.tensors));
    const shapes = parameterShapes(config, hasPooler(ckpt.tensors, layout));
    const { params, ignored } = extractParameters(ckpt.tensors, shapes, layout, file);
    const vars = new Map<string, tf.Variable>();
    for (const [name, shape] of shapes) vars.set(name, makeVariable(params.get(name)!, shape, name));
    return new BiEncoder(config, vars, layout, ignored);
  }

  /** A randomly initialised bi-encoder (HF BERT initialisation, seeded). */
  static create(config: BiEncoderConfigInput = {}, options: CreateOptions = {}): BiEncoder {
    const resolved = resolveConfig(config, 'BiEncoder.create');
    const rand = mulberry32(options.seed ?? 0);
    const shapes = parameterShapes(resolved, options.pooler ?? true);
    const vars = new Map<string, tf.Variable>();
    for (const [name, shape] of shapes) {
      vars.set(name, makeVariable(initialValue(name, shape, rand, resolved.bert.padTokenId), shape, name));
    }
    return new BiEncoder(resolved, vars, options.layout ?? (resolved.retriever.projection ? 'fid-retriever' : 'bert'));
  }

  /** Embedding size d (indexing_dimension). */
  get dimension(): number {
    return this.config.retriever.indexingDimension;
  }

  /** Whether the checkpoint had the HF pooler (needed only by {@link poolerOutput}). */
  get hasPooler(): boolean {
    return this.params.has('pooler.dense.weight');
  }

  /** All parameters by canonical name (HF BertModel names without prefix, `proj.*`, `norm.*`). */
  parameters(): ReadonlyMap<string, tf.Variable> {
    return this.params;
  }

  /** The parameters training updates: everything but the pooler (FiD never uses it, so it gets no gradient). */
  trainableParameters(): Map<string, tf.Variable> {
    return new Map([...this.params].filter(([n]) => !n.startsWith('pooler.')));
  }

  /** BertModel last_hidden_state [N, L, hidden]; `mask` null = no attention mask (HF attention_mask=None). */
  lastHiddenState(ids: tf.Tensor2D, mask: tf.Tensor2D | null, tokenTypeIds?: tf.Tensor2D | null, dropout?: DropoutSpec): tf.Tensor3D {
    this.assertLive();
    return bertForward(this.params as ParameterMap, this.config.bert, { ids, mask, tokenTypeIds }, dropout);
  }

  /** HF BertPooler output [N, hidden] (not used by FiD). */
  poolerOutput(lastHidden: tf.Tensor3D): tf.Tensor2D {
    if (!this.hasPooler) throw new Error('bi-encoder: this checkpoint has no pooler (pooler.dense.*)');
    return bertPooler(this.params as ParameterMap, lastHidden);
  }

  /**
   * Retriever.embed_text on tensors: [N, L] ids and mask → [N, d]. `flags` overrides the checkpoint's
   * retriever flags (used by parity to run every pooling variant on the same weights).
   */
  embedTensor(ids: tf.Tensor2D, mask: tf.Tensor2D, kind: TextKind, flags: RetrieverFlags = this.config.retriever, dropout?: DropoutSpec): tf.Tensor2D {
    this.assertLive();
    return embedText(this.params as ParameterMap, this.config, ids, mask, kind, flags, dropout);
  }

  /** Embeds rows [start, end) of a TokenBatch to a [rows, d] tensor, trimming padding-only tail columns. */
  embedRows(batch: TokenBatch, kind: TextKind, start = 0, end = batch.count, dropout?: DropoutSpec): tf.Tensor2D {
    this.assertLive();
    return embedBatchRows(this.params as ParameterMap, this.config, batch, kind, start, end, dropout);
  }

  /** Question embeddings, row-major Float32Array [N, d]. */
  embedQuestions(batch: TokenBatch, options: EmbedOptions = {}): Promise<Float32Array> {
    return embedQuestionsWith(this.chunkEmbedder('question'), this.dimension, batch, options);
  }

  /**
   * Passage embeddings from one TokenBatch or a (async) stream of them. Without `onEmbeddings`: resolves to a
   * Float32Array [N, d]. With `onEmbeddings`: streams each chunk to it and resolves to N.
   */
  embedPassages(source: PassageSource, options?: EmbedPassagesOptions & { onEmbeddings?: undefined }): Promise<Float32Array>;
  embedPassages(source: PassageSource, options: EmbedPassagesOptions & { onEmbeddings: NonNullable<EmbedPassagesOptions['onEmbeddings']> }): Promise<number>;
  embedPassages(source: PassageSource, options: EmbedPassagesOptions = {}): Promise<Float32Array | number> {
    return embedPassagesWith(this.chunkEmbedder('passage'), this.dimension, source, options);
  }

  /** Rows [start, end) of a batch → row-major [rows, d], read asynchronously (every backend). */
  private chunkEmbedder(kind: TextKind): EmbedChunk {
    return async (batch, start, end) => {
      const emb = this.embedRows(batch, kind, start, end);
      try {
        return (await emb.data()) as Float32Array;
      } finally {
        emb.dispose();
      }
    };
  }

  /** Retriever scores of each question against its own passages: [B, n] tensor from [B, d] and [B*n, d]. */
  scoreTensor(questionEmbeddings: tf.Tensor2D, passageEmbeddings: tf.Tensor2D): tf.Tensor2D {
    return ownPassageScores(questionEmbeddings, passageEmbeddings);
  }

  /**
   * Retriever.forward scores S [B, n] (row-major) for B questions and their B*n passages (passage j of question b
   * at row b*n + j): S[b, j] = <E(q_b), E(p_bj)> / sqrt(d). Reads synchronously (cpu, wasm, tensorflow
   * backends); {@link scoresAsync} works on every backend.
   */
  scores(questions: TokenBatch, passages: TokenBatch): Float32Array {
    return runReadTaskSync(this.scoresTask(questions, passages), 'BiEncoder.scores', 'scoresAsync');
  }

  /** {@link scores} with an asynchronous read (every backend, webgpu included). */
  scoresAsync(questions: TokenBatch, passages: TokenBatch): Promise<Float32Array> {
    return runReadTask(this.scoresTask(questions, passages));
  }

  private *scoresTask(questions: TokenBatch, passages: TokenBatch): ReadTask<Float32Array> {
    checkTokenBatch(questions, 'scores (questions)');
    checkTokenBatch(passages, 'scores (passages)');
    if (questions.count === 0 || passages.count % questions.count !== 0) {
      throw new Error(`scores: ${passages.count} passages is not a multiple of ${questions.count} questions`);
    }
    const s = tf.tidy(() => this.scoreTensor(this.embedRows(questions, 'question'), this.embedRows(passages, 'passage')));
    try {
      return (yield [s])[0] as Float32Array;
    } finally {
      s.dispose();
    }
  }

  /**
   * One optimisation step on a batch of B questions with n passages each and their gold scores G [B, n]
   * (distillation) or has-answer flags (answer-supervised baseline). The optimizer (core's AdamW), the
   * linear warmup/decay schedule and gradient clipping are created at the first call from `options`. Reads
   * synchronously (cpu, wasm, tensorflow backends); {@link trainStepAsync} works on every backend.
   */
  trainStep(batch: RetrieverTrainBatch, options: RetrieverTrainOptions = {}): TrainStepResult {
    this.assertLive();
    this.trainer ??= new RetrieverTrainer(this, options);
    return this.trainer.step(batch, options);
  }

  /** {@link trainStep} on every backend (webgpu included): loss and gradient norm are read once, at the step's end. */
  trainStepAsync(batch: RetrieverTrainBatch, options: RetrieverTrainOptions = {}): Promise<TrainStepResult> {
    this.assertLive();
    this.trainer ??= new RetrieverTrainer(this, options);
    return this.trainer.stepAsync(batch, options);
  }

  /** The trainer behind {@link trainStep} (created with `options` if there is none yet). */
  getTrainer(options: RetrieverTrainOptions = {}): RetrieverTrainer {
    this.trainer ??= new RetrieverTrainer(this, options);
    return this.trainer;
  }

  /**
   * Weights as a state dict in a layout (default: the layout loaded / created with). Reads synchronously (cpu,
   * wasm, tensorflow backends); {@link stateDictAsync} works on every backend.
   */
  stateDict(layout: CheckpointLayout = this.layout): StateDict {
    return runReadTaskSync(this.stateDictTask(layout), 'BiEncoder.stateDict', 'stateDictAsync');
  }

  /** {@link stateDict} with asynchronous reads (every backend, webgpu included). */
  stateDictAsync(layout: CheckpointLayout = this.layout): Promise<StateDict> {
    return runReadTask(this.stateDictTask(layout));
  }

  private *stateDictTask(layout: CheckpointLayout): ReadTask<StateDict> {
    const entries = [...this.params];
    const data = yield entries.map(([, v]) => v);
    return new Map(entries.map(([name, v], i) => [storedName(name, layout), { dtype: 'F32', shape: [...v.shape], data: data[i] as Float32Array }]));
  }

  /** The config.json object `save` writes (BertConfig keys + RetrieverConfig keys). */
  hfConfig(layout: CheckpointLayout = this.layout): Record<string, unknown> {
    return configToHf(this.config, LAYOUT_ARCHITECTURES[layout]);
  }

  /**
   * Writes config.json + model.safetensors to `dir` (each file atomically: temp file then rename). Reads
   * synchronously; {@link saveAsync} works on every backend.
   */
  save(dir: string, options: { layout?: CheckpointLayout } = {}): void {
    const layout = options.layout ?? this.layout;
    this.writeFiles(dir, layout, this.stateDict(layout));
  }

  /** {@link save} with asynchronous reads (every backend, webgpu included). */
  async saveAsync(dir: string, options: { layout?: CheckpointLayout } = {}): Promise<void> {
    const layout = options.layout ?? this.layout;
    this.writeFiles(dir, layout, await this.stateDictAsync(layout));
  }

  private writeFiles(dir: string, layout: CheckpointLayout, weights: StateDict): void {
    mkdirSync(dir, { recursive: true });
    writeSafetensors(join(dir, 'model.safetensors'), weights, { format: 'pt' });
    const cfg = join(dir, 'config.json');
    const tmp = `${cfg}.tmp-${process.pid}-${Date.now()}`;
    writeFileSync(tmp, JSON.stringify(this.hfConfig(layout), null, 2) + '\n');
    renameSync(tmp, cfg);
  }

  /** Frees every weight (and optimizer state). */
  dispose(): void {
    if (this.disposed) return;
    this.trainer?.dispose();
    for (const v of this.params.values()) v.dispose();
    this.disposed = true;
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('bi-encoder: used after dispose()');
  }
}

let modelCounter = 0;

/** A trainable variable with a unique name (tfjs keeps a global registry) holding a copy of `data`. */
function makeVariable(data: Float32Array, shape: number[], name: string): tf.Variable {
  const t = tf.tensor(data, shape, 'float32');
  const v = tf.variable(t, true, `bi-encoder${modelCounter++}/${name}`);
  t.dispose(); // the variable holds its own reference to the data
  return v;
}
