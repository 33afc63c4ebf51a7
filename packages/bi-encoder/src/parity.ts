/**
 * Conformance run against the BERT oracle fixtures (fixtures/oracle/bert-tiny*): computes every field of
 * expected.json from a checkpoint directory and the parsed inputs.json, in the fixtures' {dims, shape, dtype,
 * data} layout. Used by tests and by `fidkd parity`.
 */
import * as tf from '@tensorflow/tfjs';
import { fixtureData, fixtureTensor, isFixtureTensor, type FixtureTensor } from '@fidkd/core';
import { DISTILLATION_VARIANTS, distillationLoss } from '@fidkd/losses';
import { BiEncoder } from './bi-encoder.js';
import type { RetrieverFlags } from './config.js';
import { ownPassageScores } from './pooling.js';

/** One loss of the `losses` block: value and d value / d S. */
export interface ParityLoss {
  value: number;
  grad_wrt_scores: FixtureTensor;
}

export type RetrieverParityResult = Record<string, FixtureTensor | Record<string, ParityLoss>>;

interface VariantFlags {
  apply_question_mask: boolean;
  apply_passage_mask: boolean;
  extract_cls: boolean;
}

function tensorInput(inputs: Record<string, unknown>, key: string, rank: number): FixtureTensor {
  const t = inputs[key];
  if (!isFixtureTensor(t)) throw new Error(`parity inputs: '${key}' is missing or not a {dims, shape, dtype, data} tensor`);
  if (t.shape.length !== rank) throw new Error(`parity inputs: '${key}' must have ${rank} axes, got shape [${t.shape.join(', ')}]`);
  return t;
}

const int2d = (t: FixtureTensor, name: string, rows: number, cols: number) =>
  tf.tensor2d(Int32Array.from(fixtureData(t, name)), [rows, cols], 'int32');

const out = (t: tf.Tensor, dims: string[]) => fixtureTensor(t.dataSync() as Float32Array, [...t.shape], dims, 'float64');

/**
 * Every field of the BERT fixture's expected.json: hidden states (with / without mask, with token types), pooler
 * output, CLS and masked-mean poolings, each retriever variant's embeddings and scores, and the `losses` block
 * (every distillation variant of the scores of `loss_scores_variant` against `gold_scores`, with `margin_gamma`).
 */
export function runRetrieverParity(checkpointDir: string, inputs: Record<string, unknown>): RetrieverParityResult {
  const model = BiEncoder.load(checkpointDir);
  // A scope rather than tf.tidy: the result is plain JSON data, every tensor made inside is freed at endScope.
  tf.engine().startScope();
  try {
    return compute(model, inputs);
  } finally {
    tf.engine().endScope();
    model.dispose();
  }
}

function compute(model: BiEncoder, inputs: Record<string, unknown>): RetrieverParityResult {
  const qIds = tensorInput(inputs, 'question_ids', 2);
  const [nq, lq] = qIds.shape as [number, number];
  const pIds = tensorInput(inputs, 'passage_ids', 3);
  const [pb, np, lp] = pIds.shape as [number, number, number];
  if (pb !== nq) throw new Error(`parity inputs: passage_ids has ${pb} questions, question_ids ${nq}`);
  const questionIds = int2d(qIds, 'question_ids', nq, lq);
  const questionMask = int2d(tensorInput(inputs, 'question_mask', 2), 'question_mask', nq, lq);
  const passageIds = int2d(pIds, 'passage_ids', nq * np, lp);
  const passageMask = tf.tensor2d(Int32Array.from(fixtureData(tensorInput(inputs, 'passage_mask', 3), 'passage_mask', [nq, np, lp])), [nq * np, lp], 'int32');

  const res: RetrieverParityResult = {};
  const qDims = ['question', 'token', 'hidden'];
  const qHidden = model.lastHiddenState(questionIds, questionMask);
  res.question_last_hidden_state = out(qHidden, qDims);
  res.question_last_hidden_state_no_mask = out(model.lastHiddenState(questionIds, null), qDims);
  if (inputs.question_token_type_ids !== undefined) {
    const tt = int2d(tensorInput(inputs, 'question_token_type_ids', 2), 'question_token_type_ids', nq, lq);
    res.question_last_hidden_state_with_token_types = out(model.lastHiddenState(questionIds, questionMask, tt), qDims);
  }
  if (model.hasPooler) res.question_pooler_output = out(model.poolerOutput(qHidden), ['question', 'hidden']);
  const h = qHidden.shape[2];
  const cls = (x: tf.Tensor3D) => tf.reshape(tf.slice(x, [0, 0, 0], [x.shape[0], 1, h]), [x.shape[0], h]);
  const maskedMean = (x: tf.Tensor3D, m: tf.Tensor2D) => {
    const mf = tf.expandDims(tf.cast(m, 'float32'), 2);
    return tf.div(tf.sum(tf.mul(x, mf), 1), tf.sum(mf, 1));
  };
  res.question_cls = out(cls(qHidden), ['question', 'hidden']);
  res.question_masked_mean = out(maskedMean(qHidden, questionMask), ['question', 'hidden']);
  const pHidden = model.lastHiddenState(passageIds, passageMask);
  res.passage_last_hidden_state = out(pHidden, ['question_passage', 'token', 'hidden']);
  res.passage_cls = out(cls(pHidden), ['question_passage', 'hidden']);
  res.passage_masked_mean = out(maskedMean(pHidden, passageMask), ['question_passage', 'hidden']);

  const variants = (inputs.retriever_variants ?? {}) as Record<string, VariantFlags>;
  const scoresByVariant = new Map<string, tf.Tensor2D>();
  for (const [name, v] of Object.entries(variants)) {
    const flags: RetrieverFlags = {
      ...model.config.retriever,
      applyQuestionMask: v.apply_question_mask,
      applyPassageMask: v.apply_passage_mask,
      extractCls: v.extract_cls,
    };
    const qe = model.embedTensor(questionIds, questionMask, 'question', flags);
    const pe = model.embedTensor(passageIds, passageMask, 'passage', flags);
    const s = ownPassageScores(qe, pe);
    scoresByVariant.set(name, s);
    res[`retriever_${name}_question_embedding`] = out(qe, ['question', 'index_dim']);
    res[`retriever_${name}_passage_embedding`] = out(pe, ['question_passage', 'index_dim']);
    res[`retriever_${name}_scores`] = out(s, ['question', 'passage']);
  }

  if (inputs.gold_scores !== undefined) {
    const lossVariant = String(inputs.loss_scores_variant ?? 'masked_mean');
    const s = scoresByVariant.get(lossVariant);
    if (!s) throw new Error(`parity inputs: loss_scores_variant '${lossVariant}' is not one of retriever_variants`);
    const gold = tf.tensor2d(fixtureData(tensorInput(inputs, 'gold_scores', 2), 'gold_scores', [nq, np]), [nq, np]);
    const gamma = typeof inputs.margin_gamma === 'number' ? inputs.margin_gamma : 1;
    const losses: Record<string, ParityLoss> = {};
    for (const variant of DISTILLATION_VARIANTS) {
      const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => distillationLoss(x as tf.Tensor2D, gold, { variant, gamma }))(s);
      losses[variant] = { value: value.dataSync()[0]!, grad_wrt_scores: out(grad, ['question', 'passage']) };
    }
    res.losses = losses;
  }
  return res;
}
