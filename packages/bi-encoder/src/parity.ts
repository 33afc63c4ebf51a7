/**
 * Conformance run against the BERT oracle fixtures (fixtures/oracle/bert-tiny*): computes every field of
 * expected.json from a checkpoint directory and the parsed inputs.json, in the fixtures' {dims, shape, dtype,
 * data} layout. Used by tests and by `fidkd parity`.
 */
import * as tf from '@tensorflow/tfjs';
import { fixtureData, fixtureTensor, isFixtureTensor, runReadTask, runReadTaskSync, type FixtureTensor, type ReadTask } from '@fidkd/core';
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

/** A tensor to read back and the dims of the fixture field it becomes. */
interface Pending {
  t: tf.Tensor;
  dims: string[];
}

/**
 * Every field of the BERT fixture's expected.json: hidden states (with / without mask, with token types), pooler
 * output, CLS and masked-mean poolings, each retriever variant's embeddings and scores, and the `losses` block
 * (every distillation variant of the scores of `loss_scores_variant` against `gold_scores`, with `margin_gamma`).
 * Reads synchronously (cpu, wasm, tensorflow backends); {@link runRetrieverParityAsync} works on every backend.
 */
export function runRetrieverParity(checkpointDir: string, inputs: Record<string, unknown>): RetrieverParityResult {
  return runReadTaskSync(retrieverParityTask(checkpointDir, inputs), 'runRetrieverParity', 'runRetrieverParityAsync');
}

/** {@link runRetrieverParity} with asynchronous reads (every backend, webgpu included: `fidkd parity --backend webgpu`). */
export function runRetrieverParityAsync(checkpointDir: string, inputs: Record<string, unknown>): Promise<RetrieverParityResult> {
  return runReadTask(retrieverParityTask(checkpointDir, inputs));
}

function* retrieverParityTask(checkpointDir: string, inputs: Record<string, unknown>): ReadTask<RetrieverParityResult> {
  const model = BiEncoder.load(checkpointDir);
  // A scope rather than tf.tidy: the result is plain JSON data, every tensor made inside is freed at endScope.
  tf.engine().startScope();
  try {
    // every field's tensor is computed first, then all are read back in one go
    const fields = new Map<string, Pending>();
    const losses = new Map<string, { value: tf.Tensor; grad: tf.Tensor }>();
    compute(model, inputs, fields, losses);
    const lossList = [...losses.values()];
    const data = yield [...[...fields.values()].map((f) => f.t), ...lossList.flatMap((l) => [l.value, l.grad])];
    const res: RetrieverParityResult = {};
    let i = 0;
    for (const [name, f] of fields) res[name] = fixtureTensor(data[i++] as Float32Array, [...f.t.shape], f.dims, 'float64');
    if (losses.size) {
      const block: Record<string, ParityLoss> = {};
      for (const [variant, l] of losses) {
        const value = data[i++]![0]!;
        block[variant] = { value, grad_wrt_scores: fixtureTensor(data[i++] as Float32Array, [...l.grad.shape], ['question', 'passage'], 'float64') };
      }
      res.losses = block;
    }
    return res;
  } finally {
    tf.engine().endScope();
    model.dispose();
  }
}

/** Computes every field's tensor into `fields` (by expected.json name) and each loss variant's value and gradient into `losses`. */
function compute(model: BiEncoder, inputs: Record<string, unknown>, fields: Map<string, Pending>, losses: Map<string, { value: tf.Tensor; grad: tf.Tensor }>): void {
  const res = { set: (name: string, t: tf.Tensor, dims: string[]) => fields.set(name, { t, dims }) };
  const qIds = tensorInput(inputs, 'question_ids', 2);
  const [nq, lq] = qIds.shape as [number, number];
  const pIds = tensorInput(inputs, 'passage_ids', 3);
  const [pb, np, lp] = pIds.shape as [number, number, number];
  if (pb !== nq) throw new Error(`parity inputs: passage_ids has ${pb} questions, question_ids ${nq}`);
  const questionIds = int2d(qIds, 'question_ids', nq, lq);
  const questionMask = int2d(tensorInput(inputs, 'question_mask', 2), 'question_mask', nq, lq);
  const passageIds = int2d(pIds, 'passage_ids', nq * np, lp);
  const passageMask = tf.tensor2d(Int32Array.from(fixtureData(tensorInput(inputs, 'passage_mask', 3), 'passage_mask', [nq, np, lp])), [nq * np, lp], 'int32');

  const qDims = ['question', 'token', 'hidden'];
  const qHidden = model.lastHiddenState(questionIds, questionMask);
  res.set('question_last_hidden_state', qHidden, qDims);
  res.set('question_last_hidden_state_no_mask', model.lastHiddenState(questionIds, null), qDims);
  if (inputs.question_token_type_ids !== undefined) {
    const tt = int2d(tensorInput(inputs, 'question_token_type_ids', 2), 'question_token_type_ids', nq, lq);
    res.set('question_last_hidden_state_with_token_types', model.lastHiddenState(questionIds, questionMask, tt), qDims);
  }
  if (model.hasPooler) res.set('question_pooler_output', model.poolerOutput(qHidden), ['question', 'hidden']);
  const h = qHidden.shape[2];
  const cls = (x: tf.Tensor3D) => tf.reshape(tf.slice(x, [0, 0, 0], [x.shape[0], 1, h]), [x.shape[0], h]);
  const maskedMean = (x: tf.Tensor3D, m: tf.Tensor2D) => {
    const mf = tf.expandDims(tf.cast(m, 'float32'), 2);
    return tf.div(tf.sum(tf.mul(x, mf), 1), tf.sum(mf, 1));
  };
  res.set('question_cls', cls(qHidden), ['question', 'hidden']);
  res.set('question_masked_mean', maskedMean(qHidden, questionMask), ['question', 'hidden']);
  const pHidden = model.lastHiddenState(passageIds, passageMask);
  res.set('passage_last_hidden_state', pHidden, ['question_passage', 'token', 'hidden']);
  res.set('passage_cls', cls(pHidden), ['question_passage', 'hidden']);
  res.set('passage_masked_mean', maskedMean(pHidden, passageMask), ['question_passage', 'hidden']);

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
    res.set(`retriever_${name}_question_embedding`, qe, ['question', 'index_dim']);
    res.set(`retriever_${name}_passage_embedding`, pe, ['question_passage', 'index_dim']);
    res.set(`retriever_${name}_scores`, s, ['question', 'passage']);
  }

  if (inputs.gold_scores !== undefined) {
    const lossVariant = String(inputs.loss_scores_variant ?? 'masked_mean');
    const s = scoresByVariant.get(lossVariant);
    if (!s) throw new Error(`parity inputs: loss_scores_variant '${lossVariant}' is not one of retriever_variants`);
    const gold = tf.tensor2d(fixtureData(tensorInput(inputs, 'gold_scores', 2), 'gold_scores', [nq, np]), [nq, np]);
    const gamma = typeof inputs.margin_gamma === 'number' ? inputs.margin_gamma : 1;
    for (const variant of DISTILLATION_VARIANTS) {
      losses.set(variant, tf.valueAndGrad((x: tf.Tensor) => distillationLoss(x as tf.Tensor2D, gold, { variant, gamma }))(s));
    }
  }
}
