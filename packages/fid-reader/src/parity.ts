/**
 * `fidkd parity` for readers: runs a checkpoint on a fixture-style inputs.json and returns every field of the
 * oracle fixtures' expected.json (same names, `{dims, shape, dtype, data}` layout), so that a checkpoint can be
 * compared against PyTorch / HF transformers field by field.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { fixtureData, fixtureTensor, isFixtureTensor, runReadTask, runReadTaskSync, type FixtureTensor, type ReadTask, type ReaderBatch } from '@fidkd/core';
import { FiDReader, shiftRight } from './reader.js';
import { relativePositionBucket } from './position-bucket.js';
import { additiveMask, positionBias, tokenCrossEntropy } from './t5.js';

/** A parsed inputs.json (input_ids, attention_mask, labels, optional decoder_input_ids, max_new_tokens). */
export type ReaderParityInputs = Record<string, unknown>;

function tensorField(inputs: ReaderParityInputs, name: string, source: string): FixtureTensor {
  const v = inputs[name];
  if (!isFixtureTensor(v)) throw new Error(`${source}: field "${name}" is missing or is not a {dims, shape, dtype, data} tensor`);
  return v;
}

function toInt32(t: FixtureTensor, name: string, source: string, shape?: number[]): Int32Array {
  try {
    return Int32Array.from(fixtureData(t, name, shape));
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message}`);
  }
}

/**
 * Runs the reader checkpoint in `checkpointDir` on `inputs` (an inputs.json object or its path) and returns
 * every expected.json field: encoder/decoder states, logits, loss, per-token loss, first-position
 * cross-attention logits and probabilities, both passage-score variants, greedy generation and its margins,
 * bucket tables and position biases. `relative_positions` spans ±3·relative_attention_max_distance unless
 * inputs.json gives its own list. Reads synchronously (cpu, wasm, tensorflow backends); {@link
 * runReaderParityAsync} works on every backend.
 */
export function runReaderParity(checkpointDir: string, inputs: ReaderParityInputs | string): ReaderParityResult {
  return runReadTaskSync(readerParityTask(checkpointDir, inputs), 'runReaderParity', 'runReaderParityAsync');
}

/** {@link runReaderParity} with asynchronous reads (every backend, webgpu included: `fidkd parity --backend webgpu`). */
export function runReaderParityAsync(checkpointDir: string, inputs: ReaderParityInputs | string): Promise<ReaderParityResult> {
  return runReadTask(readerParityTask(checkpointDir, inputs));
}

/** Every expected.json field by name (tensors in the fixture layout, the loss, `_meta`). */
export type ReaderParityResult = Record<string, FixtureTensor | number | Record<string, unknown>>;

function* readerParityTask(checkpointDir: string, inputs: ReaderParityInputs | string): ReadTask<ReaderParityResult> {
  const source = typeof inputs === 'string' ? inputs : 'inputs';
  const inp: ReaderParityInputs = typeof inputs === 'string' ? (JSON.parse(readFileSync(inputs, 'utf8')) as ReaderParityInputs) : inputs;
  const ids = tensorField(inp, 'input_ids', source);
  if (ids.shape.length !== 3) throw new Error(`${source}: input_ids must be [batch, passage, token], got shape [${ids.shape.join(', ')}]`);
  const [b, n, l] = ids.shape as [number, number, number];
  const labelsT = tensorField(inp, 'labels', source);
  if (labelsT.shape.length !== 2 || labelsT.shape[0] !== b) throw new Error(`${source}: labels must be [${b}, target_pos], got [${labelsT.shape.join(', ')}]`);
  const t = labelsT.shape[1]!;
  const batch: ReaderBatch = {
    inputIds: toInt32(ids, 'input_ids', source),
    attentionMask: toInt32(tensorField(inp, 'attention_mask', source), 'attention_mask', source, [b, n, l]),
    batchSize: b,
    nContext: n,
    textMaxlength: l,
    labels: toInt32(labelsT, 'labels', source),
    answerLength: t,
  };
  const maxNew = inp['max_new_tokens'] ?? 20;
  if (typeof maxNew !== 'number' || !Number.isInteger(maxNew) || maxNew < 0) throw new Error(`${source}: max_new_tokens must be a non-negative integer`);

  const reader = FiDReader.load(checkpointDir);
  try {
    const c = reader.config;
    const decIds =
      inp['decoder_input_ids'] !== undefined
        ? toInt32(tensorField(inp, 'decoder_input_ids', source), 'decoder_input_ids', source, [b, t])
        : shiftRight(batch.labels!, b, t, c.decoder_start_token_id, c.pad_token_id);
    const out: ReaderParityResult = {};
    const s = n * l;
    const h = c.num_heads;
    const nl = c.num_decoder_layers;
    const d = c.d_model;
    // every tensor the fields need, read back in one go
    const tensors = tf.tidy(() => {
      const f = reader.forward(batch, { decoderInputIds: decIds });
      const perToken = tokenCrossEntropy(f.logits, batch.labels!).perToken;
      const first = tf.stack(f.crossLogits.map((x) => tf.squeeze(tf.slice(x, [0, 0, 0, 0], [b, h, 1, s]), [2])), 1); // [B, layers, H, S]
      const probs = tf.softmax(tf.add(first, tf.reshape(additiveMask(f.encoderMask), [b, 1, 1, s])), -1);
      const bias = (name: string, length: number, bidirectional: boolean) => positionBias(reader.variables.get(name)!, c, length, length, bidirectional);
      return [
        f.encoderHidden, f.encoderMask, f.decoderHidden, f.logits, perToken, probs, first,
        bias('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', l, true),
        bias('decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', t, false),
      ];
    });
    let data: tf.TypedArray[];
    try {
      data = yield tensors;
    } finally {
      tf.dispose(tensors);
    }
    const [encHidden, encMask, decHidden, logits, pt, probs, first, encBias, decBias] = data as [tf.TypedArray, ...tf.TypedArray[]];
    out['encoder_last_hidden_state'] = fixtureTensor(encHidden, [b, s, d], ['batch', 'passage_major_token', 'd_model']);
    out['encoder_attention_mask_flat'] = fixtureTensor(encMask!, [b, s], ['batch', 'passage_major_token'], 'int64');
    out['decoder_last_hidden_state'] = fixtureTensor(decHidden!, [b, t, d], ['batch', 'target_pos', 'd_model']);
    out['logits'] = fixtureTensor(logits!, [b, t, c.vocab_size], ['batch', 'target_pos', 'vocab']);
    let nValid = 0;
    for (const y of batch.labels!) if (y !== -100) nValid++;
    let total = 0;
    for (const v of pt!) total += v;
    out['loss'] = total / Math.max(nValid, 1);
    out['loss_per_token'] = fixtureTensor(pt!, [b, t], ['batch', 'target_pos']);
    out['cross_attention_probs_first_position'] = fixtureTensor(probs!, [b, nl, h, s], ['batch', 'decoder_layer', 'head', 'passage_major_token']);
    out['cross_attention_logits_first_position'] = fixtureTensor(first!, [b, nl, h, s], ['batch', 'decoder_layer', 'head', 'passage_major_token']);
    out['fid_passage_scores'] = fixtureTensor(yield* reader.passageScoresTask(batch, {}), [b, n], ['batch', 'passage']);
    out['fid_passage_scores_postsoftmax'] = fixtureTensor(yield* reader.passageScoresTask(batch, { softmax: 'post' }), [b, n], ['batch', 'passage']);
    const gen = yield* reader.generateTask(batch, { maxNewTokens: maxNew, returnMargins: true });
    out['generated_ids'] = fixtureTensor(gen.ids, [b, gen.length], ['batch', 'position'], 'int64');
    out['generation_top1_top2_margin'] = fixtureTensor(gen.margins!, [gen.length - 1, b], ['step', 'batch']);

    let rel: number[];
    if (inp['relative_positions'] !== undefined) {
      rel = fixtureData(tensorField(inp, 'relative_positions', source), 'relative_positions');
    } else {
      const m = 3 * c.relative_attention_max_distance;
      rel = Array.from({ length: 2 * m + 1 }, (_, i) => i - m);
    }
    out['relative_positions'] = fixtureTensor(rel, [rel.length], ['i'], 'int64');
    out['relative_position_buckets_bidirectional'] = fixtureTensor(
      rel.map((r) => relativePositionBucket(r, true, c.relative_attention_num_buckets, c.relative_attention_max_distance)),
      [rel.length],
      ['i'],
      'int64',
    );
    out['relative_position_buckets_unidirectional'] = fixtureTensor(
      rel.map((r) => relativePositionBucket(r, false, c.relative_attention_num_buckets, c.relative_attention_max_distance)),
      [rel.length],
      ['i'],
      'int64',
    );
    out['encoder_position_bias'] = fixtureTensor(encBias!, [h, l, l], ['head', 'query_pos', 'key_pos']);
    out['decoder_self_position_bias'] = fixtureTensor(decBias!, [h, t, t], ['head', 'query_pos', 'key_pos']);
    out['_meta'] = {
      produced_by: '@fidkd/fid-reader runReaderParity (tfjs float32)',
      checkpoint: checkpointDir,
      backend: tf.getBackend(),
      unexpected_weights: reader.unexpectedWeights,
    };
    return out;
  } finally {
    reader.dispose();
  }
}
