/**
 * Embedding with ONNX Runtime: the retriever exported by onnx-export.ts, run by `onnxruntime-node` (an optional
 * peer dependency, loaded with a dynamic import only when an OrtEmbedder is created). Same inputs, batching,
 * padding trimming, streaming and progress events as BiEncoder's embedPassages / embedQuestions, and the same
 * embeddings within float32 rounding (tested against tfjs and the oracle fixtures within 1e-5).
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import { BackendUnavailableError, type TokenBatch } from '@fidkd/core';
import type { BiEncoder } from './bi-encoder.js';
import type { BiEncoderConfig } from './config.js';
import type { TextKind } from './embed-text.js';
import { embedPassagesWith, embedQuestionsWith, type EmbedOptions, type EmbedPassagesOptions, type PassageSource } from './embed-stream.js';
import { biEncoderWeights, ONNX_IO, readRetrieverWeights, retrieverOnnx, type RetrieverWeights } from './onnx-export.js';
import { batchRows, usedLength } from './token-batch.js';

/** The npm package that runs the graphs, and how to install it (its install script only fetches GPU builds). */
export const ONNXRUNTIME_PACKAGE = 'onnxruntime-node';
export const ONNXRUNTIME_INSTALL = 'npm install onnxruntime-node@^1.30.0 --ignore-scripts';

/** The part of onnxruntime-node's API used here (declared locally: its types are not needed to use this package). */
export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}
export interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array | string, options: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: 'int32', data: Int32Array, dims: readonly number[]) => OrtTensor;
}

let ortModule: Promise<OrtModule> | undefined;

/**
 * Loads onnxruntime-node once. Throws an Error naming the package and the install command when it is missing or
 * its native library does not load.
 */
export function loadOnnxRuntime(): Promise<OrtModule> {
  ortModule ??= (async () => {
    let mod: Record<string, unknown>;
    try {
      mod = await importOnnxRuntime();
    } catch (err) {
      ortModule = undefined;
      const code = (err as { code?: string }).code;
      const why = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' ? 'is not installed' : `failed to load (${(err as Error).message})`;
      throw new BackendUnavailableError('ort', `${ONNXRUNTIME_PACKAGE} ${why}: the ONNX Runtime embed backend needs it. Install it with \`${ONNXRUNTIME_INSTALL}\` (its tarball ships the CPU library), or embed with tfjs (--embed-backend tfjs)`);
    }
    const ort = (typeof mod['InferenceSession'] === 'object' || typeof mod['InferenceSession'] === 'function' ? mod : mod['default']) as OrtModule;
    if (!ort?.InferenceSession) throw new BackendUnavailableError('ort', `${ONNXRUNTIME_PACKAGE} loaded but has no InferenceSession: an unsupported version? Install it with \`${ONNXRUNTIME_INSTALL}\``);
    return ort;
  })();
  return ortModule;
}

/**
 * onnxruntime-node by dynamic import — except inside a sandboxed realm (a vm context, as jest runs tests in): there
 * its JS part would check the native addon's typed arrays against the sandbox's Float32Array and refuse them, so it
 * is loaded by Node's own require in the main realm (inputs and outputs are converted across realms in embedRows).
 */
async function importOnnxRuntime(): Promise<Record<string, unknown>> {
  const name: string = ONNXRUNTIME_PACKAGE; // a variable: bundlers and tsc leave the optional import alone
  const main = runInThisContext('({ process, Float32Array })') as { process: { getBuiltinModule?: (id: string) => unknown }; Float32Array: unknown };
  const getBuiltin = main.process.getBuiltinModule;
  if (main.Float32Array !== Float32Array && typeof getBuiltin === 'function') {
    const { createRequire } = getBuiltin.call(main.process, 'node:module') as typeof import('node:module');
    return createRequire(import.meta.url)(name) as Record<string, unknown>;
  }
  return (await import(name)) as Record<string, unknown>;
}

/** Whether onnxruntime-node is installed and loads (never throws). */
export async function isOnnxRuntimeAvailable(): Promise<boolean> {
  try {
    await loadOnnxRuntime();
    return true;
  } catch {
    return false;
  }
}

export interface OrtEmbedderOptions {
  /** Threads of one inference (ORT's intraOpNumThreads; default: ORT's choice, one per physical core). */
  threads?: number;
  /** ORT's graph optimisation level (default 'all': fused GELU, LayerNorm, MatMul + bias …). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Whether ORT's worker threads busy-wait for work after a run (ORT's `session.intra_op.allow_spinning`; default
   * false). Off by default: between runs this process tokenizes, writes shards or trains with tfjs, and an idle
   * session's spinning threads take the cores from that work and from the other session (3× slower embedding of
   * the demo's small batches with two sessions open, measured; no difference at bert-base sizes).
   */
  spinning?: boolean;
}

/** A retriever's question and passage embeddings computed by ONNX Runtime. */
export class OrtEmbedder {
  private released = false;

  private constructor(
    /** The retriever's resolved configuration. */
    readonly config: BiEncoderConfig,
    /** One session per distinct mask flag: questions and passages share it when their flags agree. */
    private readonly sessions: ReadonlyMap<boolean, OrtSession>,
    private readonly ort: OrtModule,
  ) {
    // a plain array: ORT converts it with its own realm's Int32Array, whose constructor this reads back
    const probe = new (ort.Tensor as unknown as new (type: 'int32', data: number[], dims: number[]) => OrtTensor)('int32', [0], [1]);
    this.ortInt32 = (probe.data as Int32Array).constructor as Int32ArrayConstructor;
  }

  /** ORT's Int32Array constructor (ours, unless ORT was loaded in another realm). */
  private readonly ortInt32: Int32ArrayConstructor;

  /** Exports a checkpoint directory (any layout BiEncoder.load reads) and opens it in ONNX Runtime. */
  static async load(dir: string, options: OrtEmbedderOptions = {}): Promise<OrtEmbedder> {
    const ort = await loadOnnxRuntime(); // first: a missing runtime is reported before any work
    return OrtEmbedder.open(ort, readRetrieverWeights(dir), options);
  }

  /** The same for a live BiEncoder (its current weights; later training does not change this embedder). */
  static async fromBiEncoder(model: BiEncoder, options: OrtEmbedderOptions = {}): Promise<OrtEmbedder> {
    const ort = await loadOnnxRuntime();
    return OrtEmbedder.open(ort, await biEncoderWeights(model), options);
  }

  /** The same for weights read by readRetrieverWeights / biEncoderWeights. */
  static async fromWeights(weights: RetrieverWeights, options: OrtEmbedderOptions = {}): Promise<OrtEmbedder> {
    return OrtEmbedder.open(await loadOnnxRuntime(), weights, options);
  }

  private static async open(ort: OrtModule, weights: RetrieverWeights, options: OrtEmbedderOptions): Promise<OrtEmbedder> {
    if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 0)) {
      throw new Error(`OrtEmbedder: threads must be an integer ≥ 0 (0 = ONNX Runtime's default), got ${options.threads}`);
    }
    if (options.spinning !== undefined && typeof options.spinning !== 'boolean') {
      throw new Error(`OrtEmbedder: spinning must be true or false, got ${JSON.stringify(options.spinning)}`);
    }
    const sessionOptions: Record<string, unknown> = {
      executionProviders: ['cpu'],
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
      intraOpNumThreads: options.threads ?? 0,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      logSeverityLevel: 3,
      extra: { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } },
    };
    const sessions = new Map<boolean, OrtSession>();
    // each graph goes to ONNX Runtime as a temporary file written chunk by chunk (views of the weights), not as
    // one concatenated buffer: one copy of the weights less at the peak (bert-base: ~440 MB)
    const dir = mkdtempSync(join(tmpdir(), 'fidkd-ort-'));
    try {
      for (const kind of ['passage', 'question'] as const) {
        const flags = weights.config.retriever;
        const applyMask = kind === 'question' ? flags.applyQuestionMask : flags.applyPassageMask;
        if (sessions.has(applyMask)) continue;
        const file = join(dir, `${kind}.onnx`);
        writeChunks(file, retrieverOnnx(weights, { kind }).chunks);
        sessions.set(applyMask, await ort.InferenceSession.create(file, sessionOptions));
      }
    } catch (err) {
      for (const s of sessions.values()) await s.release();
      throw new Error(`OrtEmbedder: ONNX Runtime refused the graph exported from ${weights.source}: ${(err as Error).message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return new OrtEmbedder(weights.config, sessions, ort);
  }

  /** Embedding size d (indexing_dimension). */
  get dimension(): number {
    return this.config.retriever.indexingDimension;
  }

  /**
   * Rows [start, end) of a batch → row-major Float32Array [rows, d]; trailing all-padding columns are dropped
   * when the mask is applied (as BiEncoder.embedRows does).
   */
  async embedRows(batch: TokenBatch, kind: TextKind, start = 0, end = batch.count): Promise<Float32Array> {
    if (this.released) throw new Error('OrtEmbedder: used after dispose()');
    const applyMask = kind === 'question' ? this.config.retriever.applyQuestionMask : this.config.retriever.applyPassageMask;
    const width = applyMask ? usedLength(batch, start, end) : batch.length;
    const { ids, mask } = batchRows(batch, start, end, width);
    const vocab = this.config.bert.vocabSize;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 0 || id >= vocab) {
        throw new Error(`OrtEmbedder: token id ${id} (text ${start + Math.floor(i / width)}, position ${i % width}) is outside the retriever's vocabulary of ${vocab}: a tokenizer that does not belong to this checkpoint?`);
      }
    }
    const dims = [end - start, width];
    const feeds: Record<string, OrtTensor> = { [ONNX_IO.ids]: new this.ort.Tensor('int32', this.int32(ids), dims) };
    if (applyMask) feeds[ONNX_IO.mask] = new this.ort.Tensor('int32', this.int32(mask), dims);
    const out = (await this.sessions.get(applyMask)!.run(feeds))[ONNX_IO.output]!.data as Float32Array;
    // ORT loaded in another realm (see importOnnxRuntime) hands out that realm's arrays: copied into ours
    return out instanceof Float32Array ? out : new Float32Array(out);
  }

  /** `a` as an Int32Array of ORT's realm (itself, unless ORT was loaded in another realm). */
  private int32(a: Int32Array): Int32Array {
    const Ctor = this.ortInt32;
    if (a.constructor === Ctor) return a;
    const out = new Ctor(a.length);
    out.set(a);
    return out;
  }

  /** Question embeddings, row-major Float32Array [N, d] (as BiEncoder.embedQuestions). */
  embedQuestions(batch: TokenBatch, options: EmbedOptions = {}): Promise<Float32Array> {
    return embedQuestionsWith((b, s, e) => this.embedRows(b, 'question', s, e), this.dimension, batch, options);
  }

  /** Passage embeddings from one TokenBatch or a (async) stream of them (as BiEncoder.embedPassages). */
  embedPassages(source: PassageSource, options?: EmbedPassagesOptions & { onEmbeddings?: undefined }): Promise<Float32Array>;
  embedPassages(source: PassageSource, options: EmbedPassagesOptions & { onEmbeddings: NonNullable<EmbedPassagesOptions['onEmbeddings']> }): Promise<number>;
  embedPassages(source: PassageSource, options: EmbedPassagesOptions = {}): Promise<Float32Array | number> {
    return embedPassagesWith((b, s, e) => this.embedRows(b, 'passage', s, e), this.dimension, source, options);
  }

  /** Releases the ONNX Runtime sessions. */
  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const s of this.sessions.values()) await s.release();
  }
}

/** Writes `chunks` one after another into a new file (a scratch file: no rename, no fsync). */
function writeChunks(file: string, chunks: readonly Uint8Array[]): void {
  const fd = openSync(file, 'wx');
  try {
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
    }
  } finally {
    closeSync(fd);
  }
}
