import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mulberry32, normalArray, readSafetensors, writeSafetensors, type StateDict } from '@fidkd/core';
import { BiEncoder, parameterShapes, resolveConfig } from './index.js';

const fixtures = fileURLToPath(new URL('../../../fixtures/oracle/', import.meta.url));
let work: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = mkdtempSync(join(tmpdir(), 'bi-encoder-ckpt-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function expectSameWeights(a: BiEncoder, b: BiEncoder): void {
  expect([...a.parameters().keys()].sort()).toEqual([...b.parameters().keys()].sort());
  for (const [name, v] of a.parameters()) {
    expect(Array.from(b.parameters().get(name)!.dataSync())).toEqual(Array.from(v.dataSync()));
  }
}

// A FiD Retriever checkpoint (official names: `model.` prefix, proj.*, norm.*, RetrieverConfig keys) with a
// projection to 12 dims and CLS pooling, random weights, plus a `position_ids` buffer to ignore.
const H = 16;
const D = 12;
const bertCfg = { vocabSize: 40, hiddenSize: H, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 24, maxPositionEmbeddings: 20, typeVocabSize: 2 };
function writeFidRetriever(dir: string, seed: number, mutate?: (sd: StateDict) => void): void {
  const cfg = resolveConfig({ bert: bertCfg, retriever: { projection: true, indexingDimension: D, extractCls: true } });
  const rand = mulberry32(seed);
  const sd: StateDict = new Map();
  for (const [name, shape] of parameterShapes(cfg, true)) {
    const size = shape.reduce((x, y) => x * y, 1);
    // Non-trivial LayerNorm / bias values so that the math is really checked.
    const data = normalArray(size, name.endsWith('weight') && shape.length === 1 ? 0.3 : 0.2, rand);
    if (shape.length === 1 && name.endsWith('weight')) for (let i = 0; i < size; i++) data[i]! += 1;
    const stored = name.startsWith('proj.') || name.startsWith('norm.') ? name : `model.${name}`;
    sd.set(stored, { dtype: 'F32', shape, data });
  }
  sd.set('model.embeddings.position_ids', { dtype: 'I64', shape: [1, 20], data: BigInt64Array.from({ length: 20 }, (_, i) => BigInt(i)) });
  mutate?.(sd);
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, 'model.safetensors'), sd, { format: 'pt' });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    architectures: ['Retriever'], model_type: 'bert', hidden_size: H, num_hidden_layers: 2, num_attention_heads: 2,
    intermediate_size: 24, max_position_embeddings: 20, type_vocab_size: 2, vocab_size: 40, hidden_act: 'gelu',
    layer_norm_eps: 1e-12, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, pad_token_id: 0,
    indexing_dimension: D, projection: true, extract_cls: true, apply_question_mask: true, apply_passage_mask: true,
    passage_maxlength: 200, question_maxlength: 40,
  }));
}

describe('official FiD Retriever checkpoint (model. prefix, proj/norm, CLS pooling)', () => {
  test('loads with its flags; load → save → load is identical, in both layouts', () => {
    const dir = join(work, 'fid');
    writeFidRetriever(dir, 7);
    const m = BiEncoder.load(dir);
    expect(m.layout).toBe('fid-retriever');
    expect(m.config.retriever).toMatchObject({ projection: true, indexingDimension: D, extractCls: true, applyQuestionMask: true });
    expect(m.dimension).toBe(D);
    expect(m.ignoredTensors).toEqual(['model.embeddings.position_ids']);
    // Save in the same layout: identical tensor names and bytes (minus the ignored buffer).
    const out = join(work, 'fid-saved');
    m.save(out);
    const orig = readSafetensors(join(dir, 'model.safetensors'));
    const saved = readSafetensors(join(out, 'model.safetensors'));
    orig.delete('model.embeddings.position_ids');
    expect([...saved.keys()].sort()).toEqual([...orig.keys()].sort());
    for (const [k, t] of orig) expect(Array.from(saved.get(k)!.data as Float32Array)).toEqual(Array.from(t.data as Float32Array));
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ architectures: ['Retriever'], indexing_dimension: D, projection: true, extract_cls: true });
    const m2 = BiEncoder.load(out);
    expectSameWeights(m, m2);
    expect(m2.config).toEqual(m.config);
    // Other layouts round-trip too.
    for (const layout of ['bert', 'bert-prefixed'] as const) {
      const o = join(work, `fid-as-${layout}`);
      m.save(o, { layout });
      const m3 = BiEncoder.load(o);
      expect(m3.layout).toBe(layout);
      expectSameWeights(m, m3);
      m3.dispose();
    }
    m.dispose();
    m2.dispose();
  });

  test('projection + LayerNorm(1e-5) per token then CLS pooling, and scores, match a direct tf computation', async () => {
    const dir = join(work, 'fid-math');
    writeFidRetriever(dir, 11);
    const m = BiEncoder.load(dir);
    const ids = tf.tensor2d([[2, 5, 9, 3, 0, 0], [2, 7, 3, 0, 0, 0], [2, 11, 12, 13, 14, 3]], [3, 6], 'int32');
    const mask = tf.tensor2d([[1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]], [3, 6], 'int32');
    const w = readSafetensors(join(dir, 'model.safetensors'));
    const get = (n: string) => { const t = w.get(n)!; return tf.tensor(t.data as Float32Array, t.shape); };
    const hidden = m.lastHiddenState(ids, mask);
    // Direct: proj on every token, LayerNorm(eps 1e-5) with tf.moments, take position 0.
    const direct = tf.tidy(() => {
      const proj = tf.add(tf.matMul(tf.reshape(hidden, [18, H]), get('proj.weight'), false, true), get('proj.bias'));
      const { mean, variance } = tf.moments(proj, -1, true);
      const normed = tf.add(tf.mul(tf.div(tf.sub(proj, mean), tf.sqrt(tf.add(variance, 1e-5))), get('norm.weight')), get('norm.bias'));
      return tf.reshape(normed, [3, 6, D]).slice([0, 0, 0], [3, 1, D]).reshape([3, D]);
    });
    const emb = m.embedTensor(ids, mask, 'question');
    expect(maxAbsDiff(emb.dataSync(), direct.dataSync())).toBeLessThan(1e-5);
    // The TokenBatch path (with padding trimmed) gives the same embeddings.
    const batch = { ids: Int32Array.from(ids.dataSync()), mask: Int32Array.from(mask.dataSync()), count: 3, length: 6 };
    const viaBatch = await m.embedQuestions(batch, { batchSize: 2 });
    expect(maxAbsDiff(viaBatch, direct.dataSync())).toBeLessThan(1e-5);
    // scores: question 0 against passages 0..2 (rows of the same batch), / sqrt(D).
    const q = batch;
    const s = m.scores({ ids: q.ids.slice(0, 6), mask: q.mask.slice(0, 6), count: 1, length: 6 }, q);
    const e = direct.arraySync() as number[][];
    for (let j = 0; j < 3; j++) {
      const dot = e[0]!.reduce((acc, v, k) => acc + v * e[j]![k]!, 0);
      expect(Math.abs(s[j]! - dot / Math.sqrt(D))).toBeLessThan(1e-5);
    }
    tf.dispose([ids, mask, hidden, direct, emb]);
    m.dispose();
  });

  test('missing and misshaped tensors: errors name the tensor and the expected shape', () => {
    const d1 = join(work, 'fid-missing');
    writeFidRetriever(d1, 3, (sd) => sd.delete('norm.bias'));
    expect(() => BiEncoder.load(d1)).toThrow(/missing tensor 'norm\.bias' \(expected shape \[12\]\)/);
    const d2 = join(work, 'fid-shape');
    writeFidRetriever(d2, 3, (sd) => {
      const t = sd.get('model.encoder.layer.1.intermediate.dense.weight')!;
      sd.set('model.encoder.layer.1.intermediate.dense.weight', { ...t, shape: [H, 24] });
    });
    expect(() => BiEncoder.load(d2)).toThrow(/'model\.encoder\.layer\.1\.intermediate\.dense\.weight' has shape \[16, 24\], expected \[24, 16\]/);
  });
});

describe('HF BERT layouts', () => {
  test('bert-tiny: safetensors and pytorch_model.bin load the same weights; save → load is identical', () => {
    const a = BiEncoder.load(fixtures + 'bert-tiny');
    expect(a.layout).toBe('bert');
    expect(a.config.retriever).toMatchObject({ projection: false, extractCls: false, applyQuestionMask: true, applyPassageMask: true });
    const binDir = join(work, 'bin-only');
    mkdirSync(binDir);
    copyFileSync(fixtures + 'bert-tiny/pytorch_model.bin', join(binDir, 'pytorch_model.bin'));
    copyFileSync(fixtures + 'bert-tiny/config.json', join(binDir, 'config.json'));
    const b = BiEncoder.load(binDir);
    expectSameWeights(a, b);
    const out = join(work, 'tiny-saved');
    a.save(out);
    const c = BiEncoder.load(out);
    expectSameWeights(a, c);
    expect(c.config).toEqual(a.config);
    for (const m of [a, b, c]) m.dispose();
  });

  test('bert-tiny-prefixed: bert. prefix read, cls.* heads ignored; old LayerNorm.gamma/beta names accepted', () => {
    const a = BiEncoder.load(fixtures + 'bert-tiny-prefixed');
    expect(a.layout).toBe('bert-prefixed');
    expect(a.ignoredTensors.length).toBeGreaterThan(0);
    expect(a.ignoredTensors.every((n) => n.startsWith('cls.'))).toBe(true);
    // Rename every LayerNorm weight/bias to gamma/beta (TF-era names).
    const sd = readSafetensors(fixtures + 'bert-tiny-prefixed/model.safetensors');
    const renamed: StateDict = new Map();
    for (const [k, t] of sd) renamed.set(k.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'), t);
    expect([...renamed.keys()].some((k) => k.endsWith('LayerNorm.gamma'))).toBe(true);
    const dir = join(work, 'old-names');
    mkdirSync(dir);
    writeSafetensors(join(dir, 'model.safetensors'), renamed, { format: 'pt' });
    copyFileSync(fixtures + 'bert-tiny-prefixed/config.json', join(dir, 'config.json'));
    const b = BiEncoder.load(dir);
    expectSameWeights(a, b);
    a.dispose();
    b.dispose();
  });

  test('create → save → load is identical; bad configs are rejected clearly', () => {
    const m = BiEncoder.create({ bert: bertCfg }, { seed: 5 });
    const dir = join(work, 'created');
    m.save(dir);
    const m2 = BiEncoder.load(dir);
    expectSameWeights(m, m2);
    expect(m2.config).toEqual(m.config);
    m.dispose();
    m2.dispose();
    expect(() => BiEncoder.create({ bert: { ...bertCfg, numAttentionHeads: 3 } })).toThrow(/not a multiple of num_attention_heads/);
    expect(() => BiEncoder.create({ bert: { ...bertCfg, hiddenDropoutProb: 2 } })).toThrow(/hidden_dropout_prob must be a probability in \[0, 1\), got 2/);
    expect(() => BiEncoder.create({ bert: { ...bertCfg, attentionProbsDropoutProb: -0.1 } })).toThrow(/attention_probs_dropout_prob must be a probability/);
    expect(() => BiEncoder.create({ bert: { ...bertCfg, layerNormEps: Infinity } })).toThrow(/layer_norm_eps must be a finite number > 0/);
    expect(() => BiEncoder.create({ bert: { ...bertCfg, padTokenId: bertCfg.vocabSize } })).toThrow(/pad_token_id must be an id below vocab_size/);
    expect(() => BiEncoder.create({ bert: bertCfg, retriever: { indexingDimension: 8 } })).toThrow(/indexing_dimension \(8\) must equal hidden_size/);
  });
});
