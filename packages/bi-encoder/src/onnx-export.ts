/**
 * Exports a bi-encoder retriever to an ONNX model (opset 17, standard operators only) that computes the same
 * text embeddings as {@link embedText}: BERT (embeddings → LayerNorm, post-LN layers, attention with HF's additive
 * (1 − m)·finfo.min mask, GELU) then FiD's optional projection + LayerNorm and pooling (masked mean, [CLS], or
 * the plain mean when the side's mask flag is off). Written by our own code (onnx-proto.ts): no Python, no
 * ONNX library.
 *
 * Graph inputs: `input_ids` int32 [batch, sequence] and, when the side applies the mask, `attention_mask` int32
 * [batch, sequence] (1 = real token); output `embeddings` float32 [batch, d].
 */
import { join } from 'node:path';
import { CheckpointError, loadCheckpoint, writeFileAtomic, type StateDict } from '@fidkd/core';
import type { BiEncoder } from './bi-encoder.js';
import { FLOAT32_MIN } from './bert.js';
import { configFromHf, PROJECTION_LAYER_NORM_EPS, type BiEncoderConfig } from './config.js';
import type { TextKind } from './embed-text.js';
import { concatChunks, encodeOnnxModel, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-proto.js';
import { detectLayout, extractParameters, hasProjection, parameterShapes, type CheckpointLayout } from './weights.js';

/** The operator set the exported graphs use (LayerNormalization needs 17). */
export const ONNX_OPSET = 17;

/** Names of the exported graph's inputs and output. */
export const ONNX_IO = { ids: 'input_ids', mask: 'attention_mask', output: 'embeddings' } as const;

/** A retriever's configuration and float32 weights by canonical name (HF BertModel names, `proj.*`, `norm.*`). */
export interface RetrieverWeights {
  config: BiEncoderConfig;
  params: ReadonlyMap<string, Float32Array>;
  /** Where the weights came from (named in errors). */
  source: string;
}

export interface RetrieverOnnxOptions {
  /** Whose pooling flags the graph computes: apply_question_mask or apply_passage_mask (default 'passage'). */
  kind?: TextKind;
}

/** An exported graph in memory. */
export interface RetrieverOnnx {
  /** ModelProto bytes as chunks (views of the weights: write or concatenate them before changing those). */
  chunks: Uint8Array[];
  byteLength: number;
  kind: TextKind;
  /** Whether the graph takes `attention_mask` (masked attention and masked mean) or has only `input_ids`. */
  applyMask: boolean;
  /** Embedding size d. */
  dimension: number;
  config: BiEncoderConfig;
}

/** Reads and checks a checkpoint directory (any layout BiEncoder.load reads) without tfjs. */
export function readRetrieverWeights(dir: string): RetrieverWeights {
  const ckpt = loadCheckpoint(dir);
  return checkedWeights(ckpt.tensors, ckpt.config, join(ckpt.dir, 'config.json'), ckpt.weightsFile);
}

/** The weights of a live model (read asynchronously: every tfjs backend). */
export async function biEncoderWeights(model: BiEncoder): Promise<RetrieverWeights> {
  const state = await model.stateDictAsync('bert');
  const params = new Map<string, Float32Array>();
  for (const [name, t] of state) params.set(name, t.data as Float32Array);
  return { config: model.config, params, source: 'BiEncoder' };
}

function checkedWeights(tensors: StateDict, rawConfig: Record<string, unknown>, configFile: string, file: string): RetrieverWeights {
  const layout: CheckpointLayout = detectLayout(tensors.keys(), file);
  const config = configFromHf(rawConfig, configFile, hasProjection(tensors));
  // extractParameters names the file, the tensor and the expected shape of anything missing or misshaped
  const { params } = extractParameters(tensors, parameterShapes(config, false), layout, file);
  return { config, params, source: file };
}

/** Builds the ONNX graph of one side (questions or passages) of the retriever. */
export function retrieverOnnx(weights: RetrieverWeights, options: RetrieverOnnxOptions = {}): RetrieverOnnx {
  const kind = options.kind ?? 'passage';
  const { config } = weights;
  const expected = parameterShapes(config, false);
  for (const [name, shape] of expected) {
    const data = weights.params.get(name);
    const count = shape.reduce((a, b) => a * b, 1);
    if (!data) throw new CheckpointError(weights.source, `missing tensor '${name}' (expected shape [${shape.join(', ')}])`);
    if (data.length !== count) {
      throw new CheckpointError(weights.source, `tensor '${name}' has ${data.length} values, expected shape [${shape.join(', ')}] (${count})`);
    }
  }
  const applyMask = kind === 'question' ? config.retriever.applyQuestionMask : config.retriever.applyPassageMask;
  const g = new GraphBuilder(weights.params, expected);
  const output = buildGraph(g, config, applyMask);
  const dimension = config.retriever.indexingDimension;
  const chunks = encodeOnnxModel({
    opset: ONNX_OPSET,
    producerName: 'fidkd',
    metadata: { kind, apply_mask: String(applyMask), dimension: String(dimension), source: weights.source },
    graph: {
      name: `fidkd-retriever-${kind}`,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [
        { name: ONNX_IO.ids, dtype: 'int32', shape: ['batch', 'sequence'] },
        ...(applyMask ? [{ name: ONNX_IO.mask, dtype: 'int32' as const, shape: ['batch', 'sequence'] }] : []),
      ],
      outputs: [{ name: output, dtype: 'float32', shape: ['batch', dimension] }],
    },
  });
  return { chunks, byteLength: chunks.reduce((a, c) => a + c.byteLength, 0), kind, applyMask, dimension, config };
}

/** {@link retrieverOnnx} as one buffer (what onnxruntime's `InferenceSession.create` takes). */
export function retrieverOnnxBytes(weights: RetrieverWeights, options: RetrieverOnnxOptions = {}): Uint8Array {
  return concatChunks(retrieverOnnx(weights, options).chunks);
}

/**
 * Exports a retriever — a checkpoint directory or a live BiEncoder — to an ONNX file, written atomically (temp
 * file, fsync, rename). Returns what the graph takes and gives.
 */
export async function exportRetrieverOnnx(
  source: string | BiEncoder, file: string, options: RetrieverOnnxOptions = {},
): Promise<{ file: string; byteLength: number; kind: TextKind; applyMask: boolean; dimension: number }> {
  const weights = typeof source === 'string' ? readRetrieverWeights(source) : await biEncoderWeights(source);
  const m = retrieverOnnx(weights, options);
  writeFileAtomic(file, m.chunks);
  return { file, byteLength: m.byteLength, kind: m.kind, applyMask: m.applyMask, dimension: m.dimension };
}

/** Accumulates nodes and initializers; every op returns its (unique) output name. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private count = 0;
  private readonly constants = new Map<string, string>();

  constructor(
    private readonly params: ReadonlyMap<string, Float32Array>,
    private readonly shapes: ReadonlyMap<string, number[]>,
  ) {}

  op(opType: string, inputs: readonly string[], attributes?: Record<string, OnnxAttribute>, outputName?: string): string {
    const out = outputName ?? `${opType.toLowerCase()}_${this.count++}`;
    this.nodes.push({ opType, inputs, outputs: [out], name: `${opType}_${this.nodes.length}`, attributes });
    return out;
  }

  /** A checkpoint parameter as an initializer (by reference), under its canonical name. */
  param(name: string): string {
    if (!this.constants.has(name)) {
      this.initializers.push({ name, dtype: 'float32', dims: this.shapes.get(name)!, data: this.params.get(name)! });
      this.constants.set(name, name);
    }
    return name;
  }

  /** A checkpoint parameter's values. */
  data(name: string): Float32Array {
    return this.params.get(name)!;
  }

  /** A derived float tensor (e.g. scaled weights) as an initializer. */
  floats(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dtype: 'float32', dims, data });
    return name;
  }

  /** A shared int64 constant (shapes, axes, indices); `dims` [] for a scalar. */
  int64(values: readonly number[], dims: number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const_i64_${this.constants.size}`;
      this.initializers.push({ name, dtype: 'int64', dims, data: BigInt64Array.from(values.map((v) => BigInt(v))) });
      this.constants.set(key, name);
    }
    return name;
  }

  /** A shared float32 scalar constant. */
  scalar(value: number): string {
    const key = `f32:${value}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const_f32_${this.constants.size}`;
      this.initializers.push({ name, dtype: 'float32', dims: [], data: Float32Array.of(value) });
      this.constants.set(key, name);
    }
    return name;
  }

  /** y = x Wᵀ + b for x [rows, in], with W stored [out, in] (PyTorch): one Gemm. */
  linear(x: string, prefix: string, weight = this.param(`${prefix}.weight`), bias = this.param(`${prefix}.bias`)): string {
    return this.op('Gemm', [x, weight, bias], { transB: { int: 1 } });
  }

  layerNorm(x: string, prefix: string, eps: number): string {
    return this.op('LayerNormalization', [x, this.param(`${prefix}.weight`), this.param(`${prefix}.bias`)], { axis: { int: -1 }, epsilon: { float: eps } });
  }
}

/** The retriever's forward pass, as embedText computes it; returns the output's name. */
function buildGraph(g: GraphBuilder, config: BiEncoderConfig, applyMask: boolean): string {
  const c = config.bert;
  const h = c.hiddenSize;
  const heads = c.numAttentionHeads;
  const dh = h / heads;
  const ids = ONNX_IO.ids;
  const idsShape = g.op('Shape', [ids]); // [N, L]
  const seqLen = g.op('Slice', [idsShape, g.int64([1]), g.int64([2]), g.int64([0])]); // [L]

  // embeddings: word[ids] + token type 0 + position[0:L] → LayerNorm; then rows [N·L, hidden]
  const word = g.op('Gather', [g.param('embeddings.word_embeddings.weight'), ids], { axis: { int: 0 } }); // [N, L, h]
  const typeTable = g.data('embeddings.token_type_embeddings.weight');
  const type0 = g.floats('embeddings.token_type_embeddings.row0', [h], typeTable.slice(0, h));
  const positions = g.op('Slice', [g.param('embeddings.position_embeddings.weight'), g.int64([0]), seqLen, g.int64([0])]); // [L, h]
  let x = g.op('Add', [g.op('Add', [word, type0]), positions]);
  x = g.layerNorm(x, 'embeddings.LayerNorm', c.layerNormEps);
  let hidden = g.op('Reshape', [x, g.int64([-1, h])]);

  // attention mask as an additive bias [N, 1, 1, L]: (1 − m)·finfo.min, as HF
  let bias: string | null = null;
  let maskF: string | null = null;
  if (applyMask) {
    maskF = g.op('Cast', [ONNX_IO.mask], { to: { int: 1 } });
    const b = g.op('Mul', [g.op('Sub', [g.scalar(1), maskF]), g.scalar(FLOAT32_MIN)]);
    bias = g.op('Unsqueeze', [b, g.int64([1, 2])]);
  }
  const heads4 = g.op('Concat', [idsShape, g.int64([heads, dh])], { axis: { int: 0 } }); // [N, L, heads, dh]
  const scale = 1 / Math.sqrt(dh);
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const p = `encoder.layer.${l}.`;
    const input = hidden;
    // q scaled by 1/√dh through its weights and bias (as the fused attention path does)
    const qw = g.floats(`${p}attention.self.query.weight.scaled`, [h, h], g.data(`${p}attention.self.query.weight`).map((v) => v * scale));
    const qb = g.floats(`${p}attention.self.query.bias.scaled`, [h], g.data(`${p}attention.self.query.bias`).map((v) => v * scale));
    const split = (t: string, perm: number[]): string => g.op('Transpose', [g.op('Reshape', [t, heads4])], { perm: { ints: perm } });
    const q = split(g.linear(input, `${p}attention.self.query`, qw, qb), [0, 2, 1, 3]); // [N, heads, L, dh]
    const kT = split(g.linear(input, `${p}attention.self.key`), [0, 2, 3, 1]); // [N, heads, dh, L]
    const v = split(g.linear(input, `${p}attention.self.value`), [0, 2, 1, 3]);
    let logits = g.op('MatMul', [q, kT]);
    if (bias) logits = g.op('Add', [logits, bias]);
    const probs = g.op('Softmax', [logits], { axis: { int: -1 } });
    const ctx4 = g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: { ints: [0, 2, 1, 3] } });
    const ctx = g.op('Reshape', [ctx4, g.int64([-1, h])]);
    const attnOut = g.linear(ctx, `${p}attention.output.dense`);
    const mid = g.layerNorm(g.op('Add', [attnOut, input]), `${p}attention.output.LayerNorm`, c.layerNormEps);
    const inter = activation(g, g.linear(mid, `${p}intermediate.dense`), c.hiddenAct);
    const ffOut = g.linear(inter, `${p}output.dense`);
    hidden = g.layerNorm(g.op('Add', [ffOut, mid]), `${p}output.LayerNorm`, c.layerNormEps);
  }

  // FiD pooling: projection + LayerNorm on every token (optional), then [CLS], masked mean or plain mean
  const r = config.retriever;
  let width = h;
  if (r.projection) {
    hidden = g.layerNorm(g.linear(hidden, 'proj'), 'norm', PROJECTION_LAYER_NORM_EPS);
    width = r.indexingDimension;
  }
  const states = g.op('Reshape', [hidden, g.op('Concat', [idsShape, g.int64([width])], { axis: { int: 0 } })]); // [N, L, d]
  const out = ONNX_IO.output;
  if (r.extractCls) return g.op('Gather', [states, g.int64([0], [])], { axis: { int: 1 } }, out);
  if (!applyMask) return g.op('ReduceMean', [states], { axes: { ints: [1] }, keepdims: { int: 0 } }, out);
  // Σ_t m_t·h_t / Σ_t m_t as one batched product: weights [N, 1, L] × states [N, L, d]
  const weightsRow = g.op('Div', [maskF!, g.op('ReduceSum', [maskF!, g.int64([1])], { keepdims: { int: 1 } })]);
  const pooled = g.op('MatMul', [g.op('Unsqueeze', [weightsRow, g.int64([1])]), states]); // [N, 1, d]
  return g.op('Reshape', [pooled, g.int64([-1, width])], undefined, out);
}

/** BERT's feed-forward activation in standard ops (erf GELU as torch.onnx writes it, which ORT fuses). */
function activation(g: GraphBuilder, x: string, act: BiEncoderConfig['bert']['hiddenAct']): string {
  switch (act) {
    case 'gelu': {
      const erf = g.op('Erf', [g.op('Div', [x, g.scalar(Math.SQRT2)])]);
      return g.op('Mul', [g.op('Mul', [x, g.op('Add', [erf, g.scalar(1)])]), g.scalar(0.5)]);
    }
    case 'gelu_new':
    case 'gelu_pytorch_tanh': {
      const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
      const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [cube, g.scalar(0.044715)])]), g.scalar(Math.sqrt(2 / Math.PI))]);
      return g.op('Mul', [g.op('Mul', [x, g.scalar(0.5)]), g.op('Add', [g.op('Tanh', [inner]), g.scalar(1)])]);
    }
    case 'relu':
      return g.op('Relu', [x]);
  }
}
