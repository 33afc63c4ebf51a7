/**
 * FiDReader: a T5 encoder–decoder used as Fusion-in-Decoder. Each of the n_context passages of a question is
 * encoded independently ([B·n, L] batch), the outputs are concatenated passage-major into [B, n·L, d] and the
 * decoder cross-attends all of it. Loss, greedy generation, cross-attention relevance scores, training steps,
 * HF-layout load/save.
 */
import * as tf from '@tensorflow/tfjs';
import { renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  applyClippedGradients, loadCheckpoint, readNumbersTask, runReadTask, runReadTaskSync, writeSafetensors,
  type DeviceNumber, type GradientAccumulator, type GradientOptimizer, type ReadTask, type ReaderBatch, type StateDict,
} from '@fidkd/core';
import { createT5Config, parseT5Config, toHfConfig, validateT5Config, type T5Config, type T5ConfigInit } from './config.js';
import { initT5Weights, resolveT5Weights, t5ParamSpecs } from './weights.js';
import {
  additiveMask,
  crossKeyValues,
  decoderForward,
  encoderForward,
  lmLogits,
  tokenCrossEntropy,
  type ForwardOptions,
  type KeyValue,
} from './t5.js';
import { usesFusedAttention } from './kernels.js';
import { aggregatePassageScores, resolveScoreOptions, type PassageScoreOptions } from './passage-scores.js';

let nextModelId = 0;

export type { GradientOptimizer };

/** Options of {@link FiDReader.trainStep}. */
export interface ReaderTrainStepOptions {
  optimizer: GradientOptimizer;
  /** Learning rate of this step (e.g. base lr × linearWarmupDecay(step)); the optimizer's own lr when absent. */
  lr?: number;
  /** Clip the global gradient norm to this value (FiD's `clip`); no clipping when absent. */
  maxGradNorm?: number;
  /** Dropout probability for this step; default `config.dropout_rate`. */
  dropout?: number;
}

/** Result of one training step. */
export interface ReaderTrainStepResult {
  loss: number;
  /** Global gradient norm before clipping (when `maxGradNorm` was given). */
  gradNorm?: number;
}

/** Greedy generation output: ids [batchSize, length] row-major; column 0 is decoder_start_token_id. */
export interface GenerationResult {
  ids: Int32Array;
  batchSize: number;
  length: number;
  /** Per step and row, top-1 minus top-2 logit ([steps, batchSize]) when `returnMargins` was set. */
  margins?: Float32Array;
}

/** Options of {@link FiDReader.generate}. */
export interface GenerateOptions {
  /** Greedy generation budget (HF `max_new_tokens`); default 20. */
  maxNewTokens?: number;
  returnMargins?: boolean;
}

/** Every intermediate of one teacher-forced forward pass (tensors owned by the caller). */
export interface ReaderForwardOutput {
  /** [B, n·L, d] passage-major encoder output. */
  encoderHidden: tf.Tensor3D;
  /** [B, n·L] 0/1 cross-attention mask. */
  encoderMask: tf.Tensor2D;
  /** [B, T, d] decoder output before the tied-head rescale. */
  decoderHidden: tf.Tensor3D;
  /** [B, T, vocab]. */
  logits: tf.Tensor3D;
  /** Per decoder layer, raw cross-attention logits q·kᵀ [B, H, T, n·L]. */
  crossLogits: tf.Tensor4D[];
}

/** HF `_shift_right`: [start] + labels[:, :-1] with −100 replaced by pad. */
export function shiftRight(labels: Int32Array, batchSize: number, length: number, startId = 0, padId = 0): Int32Array {
  const out = new Int32Array(batchSize * length);
  for (let b = 0; b < batchSize; b++) {
    out[b * length] = startId;
    for (let t = 1; t < length; t++) {
      const v = labels[b * length + t - 1]!;
      out[b * length + t] = v === -100 ? padId : v;
    }
  }
  return out;
}

function checkBatch(batch: ReaderBatch, c: T5Config, needLabels: boolean): void {
  const { batchSize: b, nContext: n, textMaxlength: l } = batch;
  for (const [k, v] of [['batchSize', b], ['nContext', n], ['textMaxlength', l]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`reader batch: ${k} must be a positive integer, got ${v}`);
  }
  if (batch.inputIds.length !== b * n * l) throw new Error(`reader batch: inputIds has ${batch.inputIds.length} ids, expected ${b}×${n}×${l}`);
  if (batch.attentionMask.length !== b * n * l) throw new Error(`reader batch: attentionMask has ${batch.attentionMask.length} values, expected ${b}×${n}×${l}`);
  for (let i = 0; i < batch.inputIds.length; i++) {
    const id = batch.inputIds[i]!;
    if (id < 0 || id >= c.vocab_size) throw new Error(`reader batch: inputIds[${i}] = ${id} is outside the vocabulary (vocab_size ${c.vocab_size})`);
  }
  if (needLabels) {
    if (!batch.labels || !batch.answerLength) throw new Error('reader batch: labels and answerLength are required here');
    if (batch.labels.length !== b * batch.answerLength) throw new Error(`reader batch: labels has ${batch.labels.length} ids, expected ${b}×${batch.answerLength}`);
    for (let i = 0; i < batch.labels.length; i++) {
      const id = batch.labels[i]!;
      if (id !== -100 && (id < 0 || id >= c.vocab_size)) throw new Error(`reader batch: labels[${i}] = ${id} is neither -100 nor a vocabulary id`);
    }
  }
}

/** The T5 Fusion-in-Decoder reader. Holds its parameters as tf.Variables (HF names); call `dispose()` when done. */
export class FiDReader {
  readonly config: T5Config;
  /** Parameters by HF name. */
  readonly variables: Map<string, tf.Variable>;
  /** Checkpoint tensors that matched no parameter when loading (empty for created models). */
  readonly unexpectedWeights: string[];

  private constructor(config: T5Config, values: Map<string, tf.Tensor>, unexpected: string[] = []) {
    this.config = config;
    this.unexpectedWeights = unexpected;
    const id = nextModelId++;
    this.variables = new Map();
    for (const [name, t] of values) this.variables.set(name, tf.variable(t, true, `fidreader${id}/${name}`));
  }

  /** A reader with seeded random weights (HF T5 initialisation). */
  static create(config: T5Config | T5ConfigInit, options: { seed?: number } = {}): FiDReader {
    const c = createT5Config(config);
    const init = initT5Weights(c, options.seed ?? 0);
    const reader = new FiDReader(c, init);
    for (const t of init.values()) t.dispose();
    return reader;
  }

  /** Builds a reader from a parsed config and a state dict (HF or official FiD names). */
  static fromStateDict(config: T5Config, tensors: StateDict, source = 'state dict'): FiDReader {
    validateT5Config(config, source);
    const resolved = resolveT5Weights(tensors, config, source);
    const values = new Map<string, tf.Tensor>();
    for (const [name, v] of resolved.values) values.set(name, tf.tensor(v.data, v.shape, 'float32'));
    const reader = new FiDReader(config, values, resolved.unexpected);
    for (const t of values.values()) t.dispose();
    return reader;
  }

  /**
   * Loads an HF checkpoint directory (config.json + model.safetensors or pytorch_model.bin) or an official FiD
   * reader checkpoint (wrapped encoder names, FiD-era config).
   */
  static load(dir: string): FiDReader {
    const ck = loadCheckpoint(dir);
    const config = parseT5Config(ck.config, join(dir, 'config.json'));
    return FiDReader.fromStateDict(config, ck.tensors, ck.weightsFile);
  }

  /** Number of scalar parameters. */
  numParameters(): number {
    let n = 0;
    for (const v of this.variables.values()) n += v.size;
    return n;
  }

  /**
   * The parameters as an HF state dict (float32; tied models store only `shared.weight`, as HF does). Reads
   * synchronously (cpu, wasm, tensorflow backends); {@link stateDictAsync} works on every backend.
   */
  stateDict(): StateDict {
    return runReadTaskSync(this.stateDictTask(), 'FiDReader.stateDict', 'stateDictAsync');
  }

  /** {@link stateDict} with asynchronous reads (every backend, webgpu included). */
  stateDictAsync(): Promise<StateDict> {
    return runReadTask(this.stateDictTask());
  }

  private *stateDictTask(): ReadTask<StateDict> {
    const specs = t5ParamSpecs(this.config);
    const vars = specs.map((spec) => this.variables.get(spec.name)!);
    const data = yield vars;
    return new Map(specs.map((spec, i) => [spec.name, { dtype: 'F32', shape: [...vars[i]!.shape], data: data[i] as Float32Array }]));
  }

  /**
   * Saves config.json + model.safetensors in HF layout into `dir` (created if needed; each file written
   * atomically). Reads synchronously; {@link saveAsync} works on every backend.
   */
  save(dir: string): void {
    this.writeFiles(dir, this.stateDict());
  }

  /** {@link save} with asynchronous reads (every backend, webgpu included). */
  async saveAsync(dir: string): Promise<void> {
    this.writeFiles(dir, await this.stateDictAsync());
  }

  private writeFiles(dir: string, weights: StateDict): void {
    mkdirSync(dir, { recursive: true });
    writeSafetensors(join(dir, 'model.safetensors'), weights, { format: 'pt' });
    const cfg = join(dir, 'config.json');
    const tmp = `${cfg}.tmp-${process.pid}-${Date.now()}`;
    writeFileSync(tmp, `${JSON.stringify(toHfConfig(this.config), null, 2)}\n`);
    renameSync(tmp, cfg);
  }

  /** Releases the variables. */
  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }

  private encodeTensors(batch: ReaderBatch, o: ForwardOptions): { hidden: tf.Tensor3D; mask: tf.Tensor2D } {
    const { batchSize: b, nContext: n, textMaxlength: l } = batch;
    const ids = tf.tensor2d(batch.inputIds, [b * n, l], 'int32');
    const h = encoderForward(this.variables, this.config, ids, batch.attentionMask, o);
    return { hidden: tf.reshape(h, [b, n * l, this.config.d_model]), mask: tf.tensor2d(batch.attentionMask, [b, n * l], 'int32') };
  }

  private decoderInputs(batch: ReaderBatch): Int32Array {
    return shiftRight(batch.labels!, batch.batchSize, batch.answerLength!, this.config.decoder_start_token_id, this.config.pad_token_id);
  }

  /**
   * Teacher-forced forward pass returning every intermediate (the caller disposes them, or calls this inside
   * tf.tidy). Decoder inputs are `decoderInputIds` when given, else shift_right(batch.labels).
   */
  forward(batch: ReaderBatch, options: { decoderInputIds?: Int32Array; dropout?: number } = {}): ReaderForwardOutput {
    checkBatch(batch, this.config, options.decoderInputIds === undefined);
    const o: ForwardOptions = { dropoutRate: options.dropout ?? 0 };
    return tf.tidy(() => {
      const b = batch.batchSize;
      const dec = options.decoderInputIds ?? this.decoderInputs(batch);
      const t = dec.length / b;
      if (!Number.isInteger(t) || t <= 0) throw new Error(`reader forward: decoderInputIds has ${dec.length} ids for batch size ${b}`);
      const enc = this.encodeTensors(batch, o);
      const cross = crossKeyValues(this.variables, this.config, enc.hidden);
      const out = decoderForward(this.variables, this.config, tf.tensor2d(dec, [b, t], 'int32'), cross, batch.attentionMask, o);
      return {
        encoderHidden: enc.hidden,
        encoderMask: enc.mask,
        decoderHidden: out.hidden as tf.Tensor3D,
        logits: lmLogits(this.variables, this.config, out.hidden) as tf.Tensor3D,
        crossLogits: out.crossLogits as tf.Tensor4D[],
      };
    });
  }

  private lossTensor(batch: ReaderBatch, dropout: number): tf.Scalar {
    const b = batch.batchSize;
    const t = batch.answerLength!;
    const o: ForwardOptions = { dropoutRate: dropout };
    const enc = this.encodeTensors(batch, o);
    // The loss needs no cross-attention logits: with the fused kernel, keys/values stay as projected.
    const cross = crossKeyValues(this.variables, this.config, enc.hidden, usesFusedAttention() && !(dropout > 0));
    const out = decoderForward(this.variables, this.config, tf.tensor2d(this.decoderInputs(batch), [b, t], 'int32'), cross, batch.attentionMask, o);
    return tokenCrossEntropy(lmLogits(this.variables, this.config, out.hidden), batch.labels!).loss;
  }

  /** Mean token cross-entropy of batch.labels (−100 ignored), no dropout. Reads synchronously; see {@link lossAsync}. */
  loss(batch: ReaderBatch): number {
    return runReadTaskSync(this.lossTask(batch), 'FiDReader.loss', 'lossAsync');
  }

  /** {@link loss} with an asynchronous read (every backend, webgpu included). */
  lossAsync(batch: ReaderBatch): Promise<number> {
    return runReadTask(this.lossTask(batch));
  }

  private *lossTask(batch: ReaderBatch): ReadTask<number> {
    checkBatch(batch, this.config, true);
    const loss = tf.tidy(() => this.lossTensor(batch, 0));
    return (yield* readNumbersTask([loss]))[0]!;
  }

  /**
   * Loss and gradients by parameter name with nothing read back: the loss is a scalar tensor (the caller disposes
   * it and the gradients). For gradient accumulation on any backend; {@link computeGradients} reads the loss.
   */
  lossAndGradients(batch: ReaderBatch, options: { dropout?: number } = {}): { loss: tf.Scalar; grads: Map<string, tf.Tensor> } {
    checkBatch(batch, this.config, true);
    const names = [...this.variables.keys()];
    const vars = names.map((n) => this.variables.get(n)!);
    const byTfName = new Map(vars.map((v, i) => [v.name, names[i]!]));
    const dropout = options.dropout ?? this.config.dropout_rate;
    const { value, grads } = tf.variableGrads(() => this.lossTensor(batch, dropout), vars);
    const out = new Map<string, tf.Tensor>();
    for (const [tfName, g] of Object.entries(grads)) out.set(byTfName.get(tfName)!, g);
    return { loss: value, grads: out };
  }

  /** Loss and gradients by parameter name (the caller disposes the gradients). Reads synchronously; see {@link computeGradientsAsync}. */
  computeGradients(batch: ReaderBatch, options: { dropout?: number } = {}): { loss: number; grads: Map<string, tf.Tensor> } {
    return runReadTaskSync(this.gradientsTask(batch, options), 'FiDReader.computeGradients', 'computeGradientsAsync');
  }

  /** {@link computeGradients} with an asynchronous read (every backend, webgpu included). */
  computeGradientsAsync(batch: ReaderBatch, options: { dropout?: number } = {}): Promise<{ loss: number; grads: Map<string, tf.Tensor> }> {
    return runReadTask(this.gradientsTask(batch, options));
  }

  private *gradientsTask(batch: ReaderBatch, options: { dropout?: number }): ReadTask<{ loss: number; grads: Map<string, tf.Tensor> }> {
    const { loss, grads } = this.lossAndGradients(batch, options);
    let read = false;
    try {
      const [value] = yield* readNumbersTask([loss]);
      read = true;
      return { loss: value!, grads };
    } finally {
      if (!read) tf.dispose([...grads.values()]);
    }
  }

  /**
   * One optimisation step on `batch`: loss, gradients, optional global-norm clipping, optimizer update.
   * Leaves no tensors behind. With gradient accumulation, call {@link accumulate} per micro-batch and
   * {@link applyAccumulated} every `accumulation_steps` micro-batches instead. Reads synchronously (cpu, wasm,
   * tensorflow backends); {@link trainStepAsync} works on every backend.
   */
  trainStep(batch: ReaderBatch, options: ReaderTrainStepOptions): ReaderTrainStepResult {
    return runReadTaskSync(this.trainStepTask(batch, options), 'FiDReader.trainStep', 'trainStepAsync');
  }

  /**
   * {@link trainStep} on every backend (webgpu included): the loss and the gradient norm stay on the device
   * until the step's end, and are then read in one transfer.
   */
  trainStepAsync(batch: ReaderBatch, options: ReaderTrainStepOptions): Promise<ReaderTrainStepResult> {
    return runReadTask(this.trainStepTask(batch, options));
  }

  private *trainStepTask(batch: ReaderBatch, options: ReaderTrainStepOptions): ReadTask<ReaderTrainStepResult> {
    const { loss, grads } = this.lossAndGradients(batch, { dropout: options.dropout });
    let gradNorm: DeviceNumber | undefined;
    try {
      gradNorm = this.applyGradients(grads, options);
    } catch (err) {
      loss.dispose();
      throw err;
    } finally {
      tf.dispose([...grads.values()]);
    }
    const [lossValue, norm] = yield* readNumbersTask([loss, gradNorm]);
    return { loss: lossValue!, gradNorm: norm };
  }

  /** Adds the gradients of one micro-batch to core's GradientAccumulator; returns its loss. Reads synchronously; see {@link accumulateAsync}. */
  accumulate(batch: ReaderBatch, accumulator: GradientAccumulator, options: { dropout?: number } = {}): number {
    return runReadTaskSync(this.accumulateTask(batch, accumulator, options), 'FiDReader.accumulate', 'accumulateAsync');
  }

  /** {@link accumulate} with an asynchronous read (every backend, webgpu included). */
  accumulateAsync(batch: ReaderBatch, accumulator: GradientAccumulator, options: { dropout?: number } = {}): Promise<number> {
    return runReadTask(this.accumulateTask(batch, accumulator, options));
  }

  private *accumulateTask(batch: ReaderBatch, accumulator: GradientAccumulator, options: { dropout?: number }): ReadTask<number> {
    const { loss, grads } = this.lossAndGradients(batch, options);
    try {
      accumulator.add(grads);
    } catch (err) {
      loss.dispose();
      throw err;
    } finally {
      tf.dispose([...grads.values()]);
    }
    return (yield* readNumbersTask([loss]))[0]!;
  }

  /**
   * Optimizer update with the mean of the accumulated gradients (clipped like {@link trainStep}), then resets
   * the accumulator. Returns the gradient norm before clipping when `maxGradNorm` is set. Reads synchronously;
   * see {@link applyAccumulatedAsync}.
   */
  applyAccumulated(accumulator: GradientAccumulator, options: ReaderTrainStepOptions): number | undefined {
    return runReadTaskSync(this.applyAccumulatedTask(accumulator, options), 'FiDReader.applyAccumulated', 'applyAccumulatedAsync');
  }

  /** {@link applyAccumulated} with an asynchronous read (every backend, webgpu included). */
  applyAccumulatedAsync(accumulator: GradientAccumulator, options: ReaderTrainStepOptions): Promise<number | undefined> {
    return runReadTask(this.applyAccumulatedTask(accumulator, options));
  }

  private *applyAccumulatedTask(accumulator: GradientAccumulator, options: ReaderTrainStepOptions): ReadTask<number | undefined> {
    const grads = accumulator.mean();
    let norm: DeviceNumber | undefined;
    try {
      norm = this.applyGradients(grads, options);
    } finally {
      for (const g of grads.values()) g.dispose();
      accumulator.reset();
    }
    return (yield* readNumbersTask([norm]))[0];
  }

  /**
   * Optimizer update, clipped as clip_grad_norm_ when `maxGradNorm` is set (core's applyClippedGradients: the
   * norm is a number on host backends, a scalar tensor on the device elsewhere).
   */
  private applyGradients(grads: Map<string, tf.Tensor>, options: ReaderTrainStepOptions): DeviceNumber | undefined {
    if (options.maxGradNorm !== undefined && !(options.maxGradNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be > 0, got ${options.maxGradNorm}`);
    return applyClippedGradients(options.optimizer, this.variables, grads, { lr: options.lr, maxGradNorm: options.maxGradNorm });
  }

  /**
   * Greedy decoding with HF `generate` semantics: column 0 is decoder_start_token_id, then argmax tokens; a row
   * that has emitted eos is filled with pad; stops when every row is done or after maxNewTokens steps.
   * The encoder runs once and the cross-attention keys/values are reused at every step. Reads synchronously
   * (cpu, wasm, tensorflow backends); {@link generateAsync} works on every backend.
   */
  generate(batch: ReaderBatch, options: GenerateOptions = {}): GenerationResult {
    return runReadTaskSync(this.generateTask(batch, options), 'FiDReader.generate', 'generateAsync');
  }

  /** {@link generate} with asynchronous reads (every backend, webgpu included): one read of the new tokens per step. */
  generateAsync(batch: ReaderBatch, options: GenerateOptions = {}): Promise<GenerationResult> {
    return runReadTask(this.generateTask(batch, options));
  }

  /** The {@link ReadTask} behind {@link generate} and {@link generateAsync} (to compose with other reads). */
  *generateTask(batch: ReaderBatch, options: GenerateOptions): ReadTask<GenerationResult> {
    checkBatch(batch, this.config, false);
    const maxNew = options.maxNewTokens ?? 20;
    if (!Number.isInteger(maxNew) || maxNew < 0) throw new Error(`generate: maxNewTokens must be a non-negative integer, got ${maxNew}`);
    const c = this.config;
    const b = batch.batchSize;
    const flat = tf.tidy(() => crossKeyValues(this.variables, c, this.encodeTensors(batch, {}).hidden).flatMap((kv) => [kv.k, kv.v]));
    const kept = { cross: Array.from({ length: flat.length / 2 }, (_, i) => ({ k: flat[2 * i]!, v: flat[2 * i + 1]! })) };
    const rows: number[][] = Array.from({ length: b }, () => [c.decoder_start_token_id]);
    const done = new Array<boolean>(b).fill(false);
    const margins: number[][] = [];
    try {
      for (let step = 0; step < maxNew; step++) {
        const t = step + 1;
        const [next, margin] = tf.tidy(() => {
          const ids = tf.tensor2d(rows.flat(), [b, t], 'int32');
          const out = decoderForward(this.variables, c, ids, kept.cross as KeyValue[], batch.attentionMask);
          const last = tf.slice(out.hidden, [0, t - 1, 0], [b, 1, c.d_model]);
          const logits = tf.reshape(lmLogits(this.variables, c, last), [b, c.vocab_size]);
          const arg = tf.argMax(logits, -1);
          if (!options.returnMargins) return [arg, null] as const;
          const top = tf.topk(logits, 2).values;
          return [arg, tf.sub(tf.slice(top, [0, 0], [b, 1]), tf.slice(top, [0, 1], [b, 1]))] as const;
        });
        let nextIds: tf.TypedArray;
        try {
          const read = yield margin ? [next, margin] : [next];
          nextIds = read[0]!;
          if (margin) margins.push(Array.from(read[1]!));
        } finally {
          tf.dispose(margin ? [next, margin] : [next]);
        }
        for (let i = 0; i < b; i++) {
          const tok = done[i] ? c.pad_token_id : nextIds[i]!;
          rows[i]!.push(tok);
          if (tok === c.eos_token_id) done[i] = true;
        }
        if (done.every(Boolean)) break;
      }
    } finally {
      for (const kv of kept.cross) {
        kv.k.dispose();
        kv.v.dispose();
      }
    }
    const length = rows[0]!.length;
    const result: GenerationResult = { ids: Int32Array.from(rows.flat()), batchSize: b, length };
    if (options.returnMargins) result.margins = Float32Array.from(margins.flat());
    return result;
  }

  /**
   * Relevance score of every passage, [B, n] row-major (the distillation's gold scores G). Default: the official
   * FiD aggregation (pre-softmax, first decoding step, all layers); see {@link PassageScoreOptions}. Reads
   * synchronously (cpu, wasm, tensorflow backends); {@link passageScoresAsync} works on every backend.
   */
  passageScores(batch: ReaderBatch, options: PassageScoreOptions = {}): Float32Array {
    return runReadTaskSync(this.passageScoresTask(batch, options), 'FiDReader.passageScores', 'passageScoresAsync');
  }

  /** {@link passageScores} with an asynchronous read (every backend, webgpu included). */
  passageScoresAsync(batch: ReaderBatch, options: PassageScoreOptions = {}): Promise<Float32Array> {
    return runReadTask(this.passageScoresTask(batch, options));
  }

  /** The {@link ReadTask} behind {@link passageScores} and {@link passageScoresAsync} (to compose with other reads). */
  *passageScoresTask(batch: ReaderBatch, options: PassageScoreOptions): ReadTask<Float32Array> {
    const o = resolveScoreOptions(options, this.config.num_decoder_layers);
    checkBatch(batch, this.config, o.positions === 'all');
    const b = batch.batchSize;
    const scores = tf.tidy(() => {
      let dec: Int32Array;
      let weights: tf.Tensor;
      if (o.positions === 'first') {
        dec = new Int32Array(b).fill(this.config.decoder_start_token_id);
        weights = tf.ones([b, 1]);
      } else {
        dec = this.decoderInputs(batch);
        weights = tf.cast(tf.notEqual(tf.tensor2d(batch.labels!, [b, batch.answerLength!], 'int32'), -100), 'float32');
      }
      const t = dec.length / b;
      const enc = this.encodeTensors(batch, {});
      const cross = crossKeyValues(this.variables, this.config, enc.hidden);
      const maskAdd = additiveMask(enc.mask);
      const out = decoderForward(this.variables, this.config, tf.tensor2d(dec, [b, t], 'int32'), cross, batch.attentionMask);
      const selected = o.layers.map((i) => out.crossLogits[i]!);
      return aggregatePassageScores(selected, enc.mask, maskAdd, weights, batch.nContext, o.softmax);
    });
    try {
      return (yield [scores])[0] as Float32Array;
    } finally {
      scores.dispose();
    }
  }
}
