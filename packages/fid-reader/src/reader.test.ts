import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReaderBatch, StateDict } from '@fidkd/core';
import { createT5Config, parseT5Config, toHfConfig, type T5ConfigInit } from './config.js';
import { relativePositionBucket } from './position-bucket.js';
import { normalizeT5Name } from './weights.js';
import { FiDReader, shiftRight } from './reader.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Deterministic pseudo-random ids (LCG) so that the tests do not depend on Math.random. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A FiD batch with right-padded passages of random lengths (each ends with eos 1) and labels ending in eos. */
function randomBatch(seed: number, b: number, n: number, l: number, t: number, vocab: number): ReaderBatch {
  const r = rng(seed);
  const inputIds = new Int32Array(b * n * l);
  const attentionMask = new Int32Array(b * n * l);
  for (let row = 0; row < b * n; row++) {
    const len = 2 + Math.floor(r() * (l - 1));
    for (let j = 0; j < len; j++) {
      inputIds[row * l + j] = j === len - 1 ? 1 : 2 + Math.floor(r() * (vocab - 2));
      attentionMask[row * l + j] = 1;
    }
  }
  const labels = new Int32Array(b * t).fill(-100);
  for (let i = 0; i < b; i++) {
    const len = 1 + Math.floor(r() * t);
    for (let j = 0; j < len; j++) labels[i * t + j] = j === len - 1 ? 1 : 2 + Math.floor(r() * (vocab - 2));
  }
  return { inputIds, attentionMask, batchSize: b, nContext: n, textMaxlength: l, labels, answerLength: t };
}

/** Re-pads every passage of `batch` to `l2` ≥ textMaxlength tokens. */
function repad(batch: ReaderBatch, l2: number): ReaderBatch {
  const { batchSize: b, nContext: n, textMaxlength: l } = batch;
  const ids = new Int32Array(b * n * l2);
  const mask = new Int32Array(b * n * l2);
  for (let row = 0; row < b * n; row++) {
    ids.set(batch.inputIds.subarray(row * l, row * l + l), row * l2);
    mask.set(batch.attentionMask.subarray(row * l, row * l + l), row * l2);
  }
  return { ...batch, inputIds: ids, attentionMask: mask, textMaxlength: l2 };
}

const gatedUntied: T5ConfigInit = {
  vocab_size: 40,
  d_model: 24,
  d_kv: 10,
  num_heads: 3, // inner dim 30 ≠ d_model
  d_ff: 36,
  num_layers: 2,
  num_decoder_layers: 3,
  relative_attention_num_buckets: 8,
  relative_attention_max_distance: 12, // small: the bucket clamp is exercised at L = 16
  layer_norm_epsilon: 1e-5,
  feed_forward_proj: 'gated-gelu',
  tie_word_embeddings: false,
  dropout_rate: 0,
};
const reluTied: T5ConfigInit = { vocab_size: 30, d_model: 16, d_kv: 4, num_heads: 4, d_ff: 32, num_layers: 1, num_decoder_layers: 2, dropout_rate: 0 };

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function logitsOf(reader: FiDReader, batch: ReaderBatch): Float32Array {
  const f = reader.forward(batch);
  const out = f.logits.dataSync() as Float32Array;
  for (const x of [f.encoderHidden, f.encoderMask, f.decoderHidden, f.logits, ...f.crossLogits]) x.dispose();
  return out;
}

describe('config', () => {
  test('FiD-era defaults and validation errors name the key', () => {
    const c = parseT5Config({ vocab_size: 10, d_model: 8, d_kv: 2, num_heads: 4, d_ff: 16, num_layers: 2 }, 'x/config.json');
    expect(c).toMatchObject({ feed_forward_proj: 'relu', relative_attention_max_distance: 128, num_decoder_layers: 2, tie_word_embeddings: true });
    expect(() => parseT5Config({ vocab_size: 10, d_model: 8, num_layers: 2 }, 'x/config.json')).toThrow(/x\/config.json: missing required key "d_kv"/);
    expect(() => parseT5Config({ ...toHfConfig(c), feed_forward_proj: 'swish' }, 'y.json')).toThrow(/y.json: "feed_forward_proj"/);
    expect(() => createT5Config({ vocab_size: 10, d_model: 8, dropout_rate: Number.NaN })).toThrow(/"dropout_rate" must be in \[0, 1\), got NaN/);
    expect(() => parseT5Config({ ...toHfConfig(c), layer_norm_epsilon: 1e999 }, 'y.json')).toThrow(/y.json: "layer_norm_epsilon" must be a finite positive number, got Infinity/);
    expect(parseT5Config(toHfConfig(createT5Config(gatedUntied)))).toEqual(createT5Config(gatedUntied));
  });

  test('relative position buckets (HF _relative_position_bucket)', () => {
    // 32 buckets, max distance 128: exact buckets for |rp| < 8, log-spaced up to 128, clamped beyond.
    expect([0, 1, 7, 8, 127, 128, 1000].map((r) => relativePositionBucket(r, true, 32, 128))).toEqual([0, 17, 23, 24, 31, 31, 31]);
    expect([0, -1, -7, -8, -127, -1000].map((r) => relativePositionBucket(r, true, 32, 128))).toEqual([0, 1, 7, 8, 15, 15]);
    expect([5, 0, -1, -15, -16, -200].map((r) => relativePositionBucket(r, false, 32, 128))).toEqual([0, 0, 1, 15, 16, 31]);
  });
});

describe('FiDReader on random-weight configs', () => {
  test.each([0, 1, 7])('create with seed %i gives the same weights every time', (seed) => {
    const a = FiDReader.create(reluTied, { seed });
    const b = FiDReader.create(reluTied, { seed });
    for (const [name, t] of a.stateDict()) expect({ name, same: Buffer.from(t.data.buffer).equals(Buffer.from(b.stateDict().get(name)!.data.buffer)) }).toEqual({ name, same: true });
    a.dispose();
    b.dispose();
  });

  test.each([
    ['gated-gelu, untied, d_kv·heads ≠ d_model, eps 1e-5', gatedUntied],
    ['relu, tied', reluTied],
  ])('%s: save → load gives identical outputs; files in HF layout', (_label, init) => {
    const reader = FiDReader.create(init, { seed: 3 });
    const batch = randomBatch(11, 2, 3, 16, 5, init.vocab_size);
    const dir = mkdtempSync(join(tmpdir(), 'fid-reader-'));
    try {
      reader.save(dir);
      expect(existsSync(join(dir, 'model.safetensors'))).toBe(true);
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      expect(cfg['model_type']).toBe('t5');
      const loaded = FiDReader.load(dir);
      expect(loaded.config).toEqual(reader.config);
      expect(maxAbsDiff(logitsOf(loaded, batch), logitsOf(reader, batch))).toBe(0);
      expect(maxAbsDiff(loaded.passageScores(batch), reader.passageScores(batch))).toBe(0);
      expect(loaded.stateDict().has('lm_head.weight')).toBe(init.tie_word_embeddings === false);
      loaded.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      reader.dispose();
    }
  });

  test('greedy generation equals the argmax of the teacher-forced forward on its own prefix; HF stop/pad rules', () => {
    const reader = FiDReader.create(gatedUntied, { seed: 5 });
    const batch = randomBatch(21, 3, 2, 12, 4, gatedUntied.vocab_size);
    const gen = reader.generate(batch, { maxNewTokens: 6, returnMargins: true });
    const { ids, length: len, batchSize: b } = gen;
    expect(len).toBeLessThanOrEqual(7);
    expect(gen.margins!.length).toBe((len - 1) * b);
    for (let i = 0; i < b; i++) expect(ids[i * len]).toBe(0);
    const f = reader.forward(batch, { decoderInputIds: ids });
    const argmax = tf.tidy(() => tf.argMax(f.logits, -1).dataSync());
    for (const x of [f.encoderHidden, f.encoderMask, f.decoderHidden, f.logits, ...f.crossLogits]) x.dispose();
    for (let i = 0; i < b; i++) {
      let done = false;
      for (let t = 1; t < len; t++) {
        const tok = ids[i * len + t]!;
        if (done) expect(tok).toBe(0);
        else expect(tok).toBe(argmax[i * len + t - 1]);
        if (tok === 1) done = true;
      }
    }
    reader.dispose();
  });

  test('generation stops early when every row has emitted eos', () => {
    const reader = FiDReader.create(reluTied, { seed: 1 });
    // Make eos the argmax everywhere by boosting its embedding row along the decoder output direction.
    const batch = randomBatch(3, 2, 2, 6, 3, reluTied.vocab_size);
    const shared = reader.variables.get('shared.weight')!;
    const hidden = tf.tidy(() => {
      const f = reader.forward(batch, { decoderInputIds: new Int32Array([0, 0]) });
      const h = tf.mean(f.decoderHidden, [0, 1]);
      for (const x of [f.encoderHidden, f.encoderMask, f.decoderHidden, f.logits, ...f.crossLogits]) x.dispose();
      return h;
    });
    tf.tidy(() => {
      const onehot = tf.oneHot(tf.tensor1d([1], 'int32'), reluTied.vocab_size).reshape([reluTied.vocab_size, 1]);
      shared.assign(tf.add(shared, tf.mul(onehot, tf.mul(tf.expandDims(hidden, 0), 1000))));
    });
    hidden.dispose();
    const gen = reader.generate(batch, { maxNewTokens: 10 });
    expect(gen.length).toBe(2);
    expect(Array.from(gen.ids)).toEqual([0, 1, 0, 1]);
    reader.dispose();
  });

  test('extra padding does not change logits or passage scores; passage order permutes the scores only', () => {
    const reader = FiDReader.create(gatedUntied, { seed: 7 });
    const batch = randomBatch(31, 2, 4, 10, 5, gatedUntied.vocab_size);
    const padded = repad(batch, 17);
    expect(maxAbsDiff(logitsOf(reader, padded), logitsOf(reader, batch))).toBeLessThan(1e-5);
    const s = reader.passageScores(batch);
    expect(maxAbsDiff(reader.passageScores(padded), s)).toBeLessThan(1e-5);
    // Reverse the passages of every question: FiD cross-attention has no position bias across passages.
    const { batchSize: b, nContext: n, textMaxlength: l } = batch;
    const rev = { ...batch, inputIds: new Int32Array(batch.inputIds.length), attentionMask: new Int32Array(batch.attentionMask.length) };
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < n; j++) {
        const src = (i * n + j) * l;
        const dst = (i * n + (n - 1 - j)) * l;
        rev.inputIds.set(batch.inputIds.subarray(src, src + l), dst);
        rev.attentionMask.set(batch.attentionMask.subarray(src, src + l), dst);
      }
    }
    const sr = reader.passageScores(rev);
    for (let i = 0; i < b; i++) for (let j = 0; j < n; j++) expect(sr[i * n + (n - 1 - j)]).toBeCloseTo(s[i * n + j]!, 4);
    expect(maxAbsDiff(logitsOf(reader, rev), logitsOf(reader, batch))).toBeLessThan(1e-4);
    reader.dispose();
  });

  test('passage score options: layers average, post-softmax, all target positions', () => {
    const reader = FiDReader.create(gatedUntied, { seed: 9 });
    const batch = randomBatch(41, 2, 3, 8, 4, gatedUntied.vocab_size);
    const all = reader.passageScores(batch);
    const per = [0, 1, 2].map((l) => reader.passageScores(batch, { layers: [l] }));
    const mean = all.map((_, i) => (per[0]![i]! + per[1]![i]! + per[2]![i]!) / 3);
    expect(maxAbsDiff(all, mean)).toBeLessThan(1e-5);
    // Post-softmax probabilities sum to 1 over all n·L positions: Σ_p score·ntok = 1 per question.
    const post = reader.passageScores(batch, { softmax: 'post' });
    for (let i = 0; i < 2; i++) {
      let total = 0;
      for (let j = 0; j < 3; j++) {
        let ntok = 0;
        for (let k = 0; k < 8; k++) ntok += batch.attentionMask[(i * 3 + j) * 8 + k]!;
        total += post[i * 3 + j]! * ntok;
      }
      expect(total).toBeCloseTo(1, 5);
    }
    // With a one-token target the only position is the first: 'all' equals 'first'.
    const one = { ...batch, labels: new Int32Array([5, 7]), answerLength: 1 };
    expect(maxAbsDiff(reader.passageScores(one, { positions: 'all' }), all)).toBeLessThan(1e-6);
    expect(reader.passageScores(batch, { positions: 'all' })).toHaveLength(6);
    expect(() => reader.passageScores(batch, { layers: [3] })).toThrow(/layer 3 is out of range/);
    reader.dispose();
  });

  test('loss: mean CE over non-ignored labels, shift_right decoder inputs', () => {
    expect(Array.from(shiftRight(new Int32Array([5, 6, 1, -100]), 1, 4))).toEqual([0, 5, 6, 1]);
    const reader = FiDReader.create(reluTied, { seed: 2 });
    const batch = randomBatch(51, 2, 2, 6, 4, reluTied.vocab_size);
    const f = reader.forward(batch);
    const logp = tf.tidy(() => tf.logSoftmax(f.logits, -1).arraySync() as number[][][]);
    for (const x of [f.encoderHidden, f.encoderMask, f.decoderHidden, f.logits, ...f.crossLogits]) x.dispose();
    let sum = 0;
    let count = 0;
    for (let i = 0; i < 2; i++) {
      for (let t = 0; t < 4; t++) {
        const y = batch.labels![i * 4 + t]!;
        if (y === -100) continue;
        sum -= logp[i]![t]![y]!;
        count++;
      }
    }
    expect(reader.loss(batch)).toBeCloseTo(sum / count, 5);
    reader.dispose();
  });
});

describe('checkpoint names and errors', () => {
  test('official FiD names (encoder.encoder.block.N.module.…, embed_tokens only) load like HF names', () => {
    expect(normalizeT5Name('encoder.encoder.block.3.module.layer.0.SelfAttention.q.weight')).toBe('encoder.block.3.layer.0.SelfAttention.q.weight');
    expect(normalizeT5Name('encoder.encoder.final_layer_norm.weight')).toBe('encoder.final_layer_norm.weight');
    const reader = FiDReader.create(reluTied, { seed: 4 });
    const sd = reader.stateDict();
    const fid: StateDict = new Map();
    for (const [name, t] of sd) {
      if (name === 'shared.weight') {
        fid.set('encoder.encoder.embed_tokens.weight', t);
        fid.set('decoder.embed_tokens.weight', t);
      } else if (name.startsWith('encoder.block.')) fid.set(name.replace(/^encoder\.block\.(\d+)\./, 'encoder.encoder.block.$1.module.'), t);
      else if (name.startsWith('encoder.')) fid.set(`encoder.${name}`, t);
      else fid.set(name, t);
    }
    fid.set('decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight', { dtype: 'F32', shape: [32, 4], data: new Float32Array(128) });
    const other = FiDReader.fromStateDict(reader.config, fid, 'fid.bin');
    expect(other.unexpectedWeights).toEqual([]);
    const batch = randomBatch(61, 1, 2, 6, 3, reluTied.vocab_size);
    expect(maxAbsDiff(logitsOf(other, batch), logitsOf(reader, batch))).toBe(0);
    other.dispose();
    reader.dispose();
  });

  test('missing or misshaped tensors name the tensor and the expected shape', () => {
    const reader = FiDReader.create(gatedUntied, { seed: 4 });
    const sd = reader.stateDict();
    const c = reader.config;
    reader.dispose();
    const missing = new Map(sd);
    missing.delete('decoder.block.2.layer.2.DenseReluDense.wi_1.weight');
    expect(() => FiDReader.fromStateDict(c, missing, 'ck.safetensors')).toThrow(
      'ck.safetensors: missing tensor "decoder.block.2.layer.2.DenseReluDense.wi_1.weight" (expected shape [36, 24])',
    );
    const noHead = new Map(sd);
    noHead.delete('lm_head.weight');
    expect(() => FiDReader.fromStateDict(c, noHead, 'ck')).toThrow(/missing tensor "lm_head.weight" \(expected shape \[40, 24\]\).*tie_word_embeddings=false/);
    const bad = new Map(sd);
    bad.set('encoder.block.0.layer.0.SelfAttention.q.weight', { dtype: 'F32', shape: [24, 24], data: new Float32Array(576) });
    expect(() => FiDReader.fromStateDict(c, bad, 'ck')).toThrow(
      'ck: tensor "encoder.block.0.layer.0.SelfAttention.q.weight" has shape [24, 24], expected [30, 24]',
    );
  });

  test('bad batches are rejected with the field name', () => {
    const reader = FiDReader.create(reluTied);
    const batch = randomBatch(1, 1, 2, 5, 2, reluTied.vocab_size);
    expect(() => reader.generate({ ...batch, inputIds: batch.inputIds.map(() => 99) })).toThrow(/inputIds\[0\] = 99 is outside the vocabulary/);
    expect(() => reader.loss({ ...batch, labels: undefined })).toThrow(/labels and answerLength are required/);
    reader.dispose();
  });
});

test('create is deterministic for every seed, 0 included (tfjs reads a seed of 0 as "no seed")', () => {
  const config = { vocab_size: 64, d_model: 16, d_kv: 4, num_heads: 4, d_ff: 32, num_layers: 1, dropout_rate: 0 };
  for (const seed of [0, 1]) {
    const a = FiDReader.create(config, { seed });
    const b = FiDReader.create(config, { seed });
    const wa = a.stateDict();
    const wb = b.stateDict();
    expect([...wa.keys()]).toEqual([...wb.keys()]);
    for (const [name, t] of wa) expect([seed, name, Array.from(t.data as Float32Array)]).toEqual([seed, name, Array.from(wb.get(name)!.data as Float32Array)]);
    a.dispose();
    b.dispose();
  }
});
