/**
 * Configuration of a BERT bi-encoder retriever: the HF BertConfig fields the forward pass needs, plus the
 * official FiD RetrieverConfig flags (indexing_dimension, projection, extract_cls, apply_question_mask,
 * apply_passage_mask). Parsed from / written to one HF `config.json`.
 */

import { CheckpointError } from '@fidkd/core';

/** Activation functions of BERT's feed-forward block (HF `hidden_act`). */
export type BertActivation = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu';

/** The BertConfig fields used by the encoder (HF names in camelCase). */
export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  /** `gelu` = exact erf GELU (HF's default for BERT). */
  hiddenAct: BertActivation;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  padTokenId: number;
}

/** FiD RetrieverConfig flags: how token states become one vector per text. */
export interface RetrieverFlags {
  /** Output size d of the embeddings (= hidden size without projection). */
  indexingDimension: number;
  /** Linear(hidden → indexing_dimension) + LayerNorm(eps 1e-5) on every token state, before pooling. */
  projection: boolean;
  /** Pool by taking position 0 ([CLS]) instead of a mean. */
  extractCls: boolean;
  /** Pass the question mask to BERT and take the masked mean; false: no attention mask, mean over all positions. */
  applyQuestionMask: boolean;
  /** Same for passages. */
  applyPassageMask: boolean;
  /** RetrieverConfig's question_maxlength / passage_maxlength (informative; kept on save). */
  questionMaxlength: number;
  passageMaxlength: number;
}

export interface BiEncoderConfig {
  bert: BertConfig;
  retriever: RetrieverFlags;
}

/** Partial configuration accepted by `BiEncoder.create`; every field has a default (a small BERT). */
export interface BiEncoderConfigInput {
  bert?: Partial<BertConfig>;
  retriever?: Partial<RetrieverFlags>;
}

export const DEFAULT_BERT_CONFIG: BertConfig = {
  vocabSize: 30522,
  hiddenSize: 768,
  numHiddenLayers: 12,
  numAttentionHeads: 12,
  intermediateSize: 3072,
  hiddenAct: 'gelu',
  maxPositionEmbeddings: 512,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  hiddenDropoutProb: 0.1,
  attentionProbsDropoutProb: 0.1,
  padTokenId: 0,
};

/** eps of the projection LayerNorm (torch nn.LayerNorm default, as in FiD's Retriever). */
export const PROJECTION_LAYER_NORM_EPS = 1e-5;

const ACTIVATIONS: readonly string[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'];

/** Completes and validates a partial configuration. */
export function resolveConfig(input: BiEncoderConfigInput = {}, source = 'config'): BiEncoderConfig {
  const bert: BertConfig = { ...DEFAULT_BERT_CONFIG, ...stripUndefined(input.bert ?? {}) };
  const r = stripUndefined(input.retriever ?? {});
  const retriever: RetrieverFlags = {
    projection: false,
    extractCls: false,
    applyQuestionMask: true,
    applyPassageMask: true,
    questionMaxlength: 40,
    passageMaxlength: 200,
    ...r,
    indexingDimension: r.indexingDimension ?? (r.projection ? 768 : bert.hiddenSize),
  };
  validate({ bert, retriever }, source);
  return { bert, retriever };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validate(c: BiEncoderConfig, source: string): void {
  const ints: Array<[string, number]> = [
    ['vocab_size', c.bert.vocabSize], ['hidden_size', c.bert.hiddenSize], ['num_hidden_layers', c.bert.numHiddenLayers],
    ['num_attention_heads', c.bert.numAttentionHeads], ['intermediate_size', c.bert.intermediateSize],
    ['max_position_embeddings', c.bert.maxPositionEmbeddings], ['type_vocab_size', c.bert.typeVocabSize],
    ['indexing_dimension', c.retriever.indexingDimension],
  ];
  for (const [k, v] of ints) {
    if (!Number.isInteger(v) || v <= 0) throw new CheckpointError(source, `${k} must be a positive integer, got ${v}`);
  }
  if (c.bert.hiddenSize % c.bert.numAttentionHeads !== 0) {
    throw new CheckpointError(source, `hidden_size ${c.bert.hiddenSize} is not a multiple of num_attention_heads ${c.bert.numAttentionHeads}`);
  }
  if (!ACTIVATIONS.includes(c.bert.hiddenAct)) {
    throw new CheckpointError(source, `hidden_act '${c.bert.hiddenAct}' is not supported (expected one of ${ACTIVATIONS.join(', ')})`);
  }
  if (!(c.bert.layerNormEps > 0) || !Number.isFinite(c.bert.layerNormEps)) throw new CheckpointError(source, `layer_norm_eps must be a finite number > 0, got ${c.bert.layerNormEps}`);
  for (const [k, p] of [['hidden_dropout_prob', c.bert.hiddenDropoutProb], ['attention_probs_dropout_prob', c.bert.attentionProbsDropoutProb]] as const) {
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new CheckpointError(source, `${k} must be a probability in [0, 1), got ${p}`);
  }
  if (!Number.isInteger(c.bert.padTokenId) || c.bert.padTokenId < 0 || c.bert.padTokenId >= c.bert.vocabSize) {
    throw new CheckpointError(source, `pad_token_id must be an id below vocab_size ${c.bert.vocabSize}, got ${c.bert.padTokenId}`);
  }
  if (!c.retriever.projection && c.retriever.indexingDimension !== c.bert.hiddenSize) {
    throw new CheckpointError(source,
      `without projection indexing_dimension (${c.retriever.indexingDimension}) must equal hidden_size (${c.bert.hiddenSize})`,
    );
  }
}

function num(raw: Record<string, unknown>, key: string, source: string): number | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number') throw new CheckpointError(source, `'${key}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function bool(raw: Record<string, unknown>, key: string, source: string): boolean | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new CheckpointError(source, `'${key}' must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Reads an HF BertConfig / FiD RetrieverConfig `config.json` object. Retriever keys that are absent take the
 * defaults of FiD's train_retriever.py (masks on, mean pooling); projection defaults to `hasProjectionWeights`.
 */
export function configFromHf(raw: Record<string, unknown>, source: string, hasProjectionWeights = false): BiEncoderConfig {
  const posType = raw.position_embedding_type;
  if (posType !== undefined && posType !== 'absolute') {
    throw new CheckpointError(source, `position_embedding_type '${String(posType)}' is not supported (only 'absolute')`);
  }
  const act = raw.hidden_act;
  if (act !== undefined && typeof act !== 'string') throw new CheckpointError(source, `'hidden_act' must be a string`);
  const hiddenSize = num(raw, 'hidden_size', source);
  return resolveConfig(
    {
      bert: {
        vocabSize: num(raw, 'vocab_size', source),
        hiddenSize,
        numHiddenLayers: num(raw, 'num_hidden_layers', source),
        numAttentionHeads: num(raw, 'num_attention_heads', source),
        intermediateSize: num(raw, 'intermediate_size', source),
        hiddenAct: act as BertActivation | undefined,
        maxPositionEmbeddings: num(raw, 'max_position_embeddings', source),
        typeVocabSize: num(raw, 'type_vocab_size', source),
        layerNormEps: num(raw, 'layer_norm_eps', source),
        hiddenDropoutProb: num(raw, 'hidden_dropout_prob', source),
        attentionProbsDropoutProb: num(raw, 'attention_probs_dropout_prob', source),
        padTokenId: num(raw, 'pad_token_id', source),
      },
      retriever: {
        projection: bool(raw, 'projection', source) ?? hasProjectionWeights,
        indexingDimension: num(raw, 'indexing_dimension', source),
        extractCls: bool(raw, 'extract_cls', source),
        applyQuestionMask: bool(raw, 'apply_question_mask', source),
        applyPassageMask: bool(raw, 'apply_passage_mask', source),
        questionMaxlength: num(raw, 'question_maxlength', source),
        passageMaxlength: num(raw, 'passage_maxlength', source),
      },
    },
    source,
  );
}

/** The config.json written on save: BertConfig keys (HF names) plus the RetrieverConfig keys. */
export function configToHf(c: BiEncoderConfig, architectures: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...extra,
    architectures,
    attention_probs_dropout_prob: c.bert.attentionProbsDropoutProb,
    hidden_act: c.bert.hiddenAct,
    hidden_dropout_prob: c.bert.hiddenDropoutProb,
    hidden_size: c.bert.hiddenSize,
    initializer_range: 0.02,
    intermediate_size: c.bert.intermediateSize,
    layer_norm_eps: c.bert.layerNormEps,
    max_position_embeddings: c.bert.maxPositionEmbeddings,
    model_type: 'bert',
    num_attention_heads: c.bert.numAttentionHeads,
    num_hidden_layers: c.bert.numHiddenLayers,
    pad_token_id: c.bert.padTokenId,
    position_embedding_type: 'absolute',
    type_vocab_size: c.bert.typeVocabSize,
    vocab_size: c.bert.vocabSize,
    indexing_dimension: c.retriever.indexingDimension,
    projection: c.retriever.projection,
    extract_cls: c.retriever.extractCls,
    apply_question_mask: c.retriever.applyQuestionMask,
    apply_passage_mask: c.retriever.applyPassageMask,
    question_maxlength: c.retriever.questionMaxlength,
    passage_maxlength: c.retriever.passageMaxlength,
  };
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
