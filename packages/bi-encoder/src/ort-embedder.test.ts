// The ONNX export run by onnxruntime-node against tfjs (tiny random checkpoints of every supported kind) and
// against the oracle fixtures. Needs onnxruntime-node: when it is missing every test here fails with the
// install command (scripts/setup.mjs installs it; it is never skipped).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readSafetensors, writeSafetensors, type TokenBatch } from '@fidkd/core';
import {
  BiEncoder,
  OrtEmbedder,
  exportRetrieverOnnx,
  loadOnnxRuntime,
  readRetrieverWeights,
  type BiEncoderConfigInput,
  type RetrieverWeights,
} from './index.js';
import { maxAbsDiff, randomBatch } from './__tests__/helpers.js';

const fixtures = fileURLToPath(new URL('../../../fixtures/oracle/', import.meta.url));
let work: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = mkdtempSync(join(tmpdir(), 'fidkd-ort-'));
  await loadOnnxRuntime(); // throws "onnxruntime-node is not installed … npm install …" when missing: every test fails
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const tiny = { vocabSize: 60, hiddenSize: 24, numHiddenLayers: 2, numAttentionHeads: 3, intermediateSize: 40, maxPositionEmbeddings: 40 };

const variants: Array<[string, BiEncoderConfigInput]> = [
  ['masked mean, erf GELU', { bert: tiny }],
  ['projection + LayerNorm, [CLS]', { bert: tiny, retriever: { projection: true, indexingDimension: 12, extractCls: true } }],
  ['projection, masked mean, gelu_new', { bert: { ...tiny, hiddenAct: 'gelu_new' }, retriever: { projection: true, indexingDimension: 8 } }],
  ['no passage mask (mean over every position), relu', { bert: { ...tiny, hiddenAct: 'relu' }, retriever: { applyPassageMask: false } }],
  ['64-wide heads (as bert-base), one layer', { bert: { vocabSize: 100, hiddenSize: 256, numHiddenLayers: 1, numAttentionHeads: 4, intermediateSize: 1024, maxPositionEmbeddings: 64 } }],
];

describe.each(variants)('tiny random checkpoint: %s', (_name, config) => {
  test('ORT embeddings equal tfjs embeddings within 1e-5 (questions and passages, padded, uneven batches)', async () => {
    const model = BiEncoder.create(config, { seed: 7 });
    const dir = join(work, `ckpt-${Math.random().toString(36).slice(2)}`);
    model.save(dir);
    const vocab = model.config.bert.vocabSize;
    const passages = randomBatch(11, 30, vocab, 3);
    const questions = randomBatch(5, 9, vocab, 4);
    const wantP = await model.embedPassages(passages, { batchSize: 4 });
    const wantQ = await model.embedQuestions(questions, { batchSize: 2 });
    const ort = await OrtEmbedder.load(dir, { threads: 2 });
    try {
      expect(ort.dimension).toBe(model.dimension);
      const gotP = await ort.embedPassages(passages, { batchSize: 4 });
      const gotQ = await ort.embedQuestions(questions, { batchSize: 3 });
      expect(maxAbsDiff(gotP, wantP)).toBeLessThan(1e-5);
      expect(maxAbsDiff(gotQ, wantQ)).toBeLessThan(1e-5);
      // the same rows in other batch sizes: within the same tolerance (trimming differs per chunk)
      expect(maxAbsDiff(await ort.embedPassages(passages, { batchSize: 11 }), wantP)).toBeLessThan(1e-5);
    } finally {
      await ort.dispose();
      model.dispose();
    }
  });
});

test('streaming, progress events and repeated runs: bit-identical output for the same batches', async () => {
  const model = BiEncoder.create({ bert: tiny }, { seed: 3 });
  const ort = await OrtEmbedder.fromBiEncoder(model, { threads: 2 });
  try {
    const all = randomBatch(10, 16, tiny.vocabSize, 9);
    const first = await ort.embedPassages(all, { batchSize: 4 });
    const chunks: Array<[number, number]> = [];
    const events: string[] = [];
    const streamed = new Float32Array(first.length);
    const split = (b: TokenBatch, s: number, e: number): TokenBatch => ({ ids: b.ids.slice(s * b.length, e * b.length), mask: b.mask.slice(s * b.length, e * b.length), count: e - s, length: b.length });
    async function* parts(): AsyncGenerator<TokenBatch> {
      yield split(all, 0, 8);
      yield split(all, 8, 10);
    }
    const n = await ort.embedPassages(parts(), {
      batchSize: 4, total: 10, onProgress: (e) => events.push(e.type),
      onEmbeddings: (rows, start) => {
        chunks.push([start, rows.length / ort.dimension]);
        streamed.set(rows, start * ort.dimension);
      },
    });
    expect(n).toBe(10);
    expect(chunks).toEqual([[0, 4], [4, 4], [8, 2]]);
    expect(events[0]).toBe('start');
    expect(events[events.length - 1]).toBe('end');
    expect(Buffer.from(streamed.buffer).equals(Buffer.from(first.buffer))).toBe(true);
  } finally {
    await ort.dispose();
    model.dispose();
  }
  await expect(ort.embedRows(randomBatch(1, 4, tiny.vocabSize, 1), 'passage')).rejects.toThrow(/used after dispose/);
});

test('a token id outside the vocabulary is an error naming the text and position', async () => {
  const model = BiEncoder.create({ bert: tiny }, { seed: 3 });
  const ort = await OrtEmbedder.fromBiEncoder(model);
  model.dispose();
  const batch = randomBatch(3, 6, tiny.vocabSize, 2);
  batch.ids[2 * 6 + 1] = tiny.vocabSize + 5;
  await expect(ort.embedPassages(batch)).rejects.toThrow(/token id 65 \(text 2, position 1\) is outside the retriever's vocabulary of 60/);
  await ort.dispose();
});

describe.each(['bert-tiny', 'bert-tiny-prefixed'])('oracle fixture %s', (name) => {
  const dir = fixtures + name;
  const inputs = JSON.parse(readFileSync(`${dir}/inputs.json`, 'utf8'));
  const expected = JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8'));
  const asBatch = (ids: { data: number[]; shape: number[] }, mask: { data: number[] }): TokenBatch => {
    const length = ids.shape[ids.shape.length - 1]!;
    return { ids: Int32Array.from(ids.data), mask: Int32Array.from(mask.data), count: ids.data.length / length, length };
  };
  const questions = asBatch(inputs.question_ids, inputs.question_mask);
  const passages = asBatch(inputs.passage_ids, inputs.passage_mask);
  const flagsOf = (v: Record<string, boolean>) => ({
    applyQuestionMask: v['apply_question_mask'] ?? true,
    applyPassageMask: v['apply_passage_mask'] ?? true,
    extractCls: v['extract_cls'] ?? false,
  });

  test.each(Object.keys(inputs.retriever_variants))('variant %s: question and passage embeddings within 1e-5 of the oracle', async (variant) => {
    const base = readRetrieverWeights(dir);
    const weights: RetrieverWeights = { ...base, config: { ...base.config, retriever: { ...base.config.retriever, ...flagsOf(inputs.retriever_variants[variant]) } } };
    const ort = await OrtEmbedder.fromWeights(weights, { threads: 1 });
    try {
      const q = await ort.embedQuestions(questions);
      const p = await ort.embedPassages(passages);
      expect(maxAbsDiff(q, expected[`retriever_${variant}_question_embedding`].data)).toBeLessThan(1e-5);
      expect(maxAbsDiff(p, expected[`retriever_${variant}_passage_embedding`].data)).toBeLessThan(1e-5);
    } finally {
      await ort.dispose();
    }
  });
});

/** A saved tiny checkpoint whose model.safetensors `edit` changed; returns its directory. */
function editedCheckpoint(name: string, edit: (tensors: ReturnType<typeof readSafetensors>) => void): string {
  const model = BiEncoder.create({ bert: tiny }, { seed: 1 });
  const dir = join(work, name);
  model.save(dir);
  model.dispose();
  const file = join(dir, 'model.safetensors');
  const tensors = readSafetensors(file);
  edit(tensors);
  writeSafetensors(file, tensors);
  return dir;
}

test('spinning is on or off (off by default); anything else is refused', async () => {
  const model = BiEncoder.create({ bert: tiny }, { seed: 4 });
  const batch = randomBatch(3, 6, tiny.vocabSize, 2);
  const want = await model.embedPassages(batch);
  for (const spinning of [true, false, undefined]) {
    const ort = await OrtEmbedder.fromBiEncoder(model, { threads: 2, spinning });
    expect(maxAbsDiff(await ort.embedPassages(batch), want)).toBeLessThan(1e-5);
    await ort.dispose();
  }
  await expect(OrtEmbedder.fromBiEncoder(model, { spinning: 'yes' as never })).rejects.toThrow(/OrtEmbedder: spinning must be true or false, got "yes"/);
  model.dispose();
});

describe('export errors and files', () => {
  test('a misshaped tensor: error naming the file and the tensor, no ONNX file written', async () => {
    const dir = editedCheckpoint('bad-shape', (tensors) => {
      const t = tensors.get('encoder.layer.1.intermediate.dense.weight')!;
      tensors.set('encoder.layer.1.intermediate.dense.weight', { ...t, shape: [t.shape[1]!, t.shape[0]!] });
    });
    const out = join(work, 'bad.onnx');
    await expect(exportRetrieverOnnx(dir, out)).rejects.toThrow(
      /model\.safetensors: tensor 'encoder\.layer\.1\.intermediate\.dense\.weight' has shape \[24, 40\], expected \[40, 24\]/,
    );
    await expect(OrtEmbedder.load(dir)).rejects.toThrow(/model\.safetensors: tensor 'encoder\.layer\.1\.intermediate\.dense\.weight'/);
    expect(() => readFileSync(out)).toThrow();
  });

  test('a missing tensor and a bad config.json are named', async () => {
    const dir = editedCheckpoint('missing', (tensors) => void tensors.delete('encoder.layer.0.output.LayerNorm.bias'));
    await expect(exportRetrieverOnnx(dir, join(work, 'x.onnx'))).rejects.toThrow(/model\.safetensors: missing tensor 'encoder\.layer\.0\.output\.LayerNorm\.bias' \(expected shape \[24\]\)/);
    writeFileSync(join(dir, 'config.json'), '{"hidden_size": "big"}');
    await expect(exportRetrieverOnnx(dir, join(work, 'x.onnx'))).rejects.toThrow(/config\.json/);
  });

  test('exportRetrieverOnnx writes a file ONNX Runtime loads, equal to the in-memory graph', async () => {
    const model = BiEncoder.create({ bert: tiny, retriever: { projection: true, indexingDimension: 10 } }, { seed: 5 });
    const file = join(work, 'model.onnx');
    const info = await exportRetrieverOnnx(model, file);
    expect(info).toMatchObject({ kind: 'passage', applyMask: true, dimension: 10 });
    expect(readFileSync(file).length).toBe(info.byteLength);
    const ort = await loadOnnxRuntime();
    const session = await ort.InferenceSession.create(readFileSync(file), {});
    const batch = randomBatch(3, 7, tiny.vocabSize, 2);
    // plain arrays: under jest ORT lives in Node's main realm (see importOnnxRuntime), which refuses the sandbox's typed arrays
    const T = ort.Tensor as unknown as new (type: 'int32', data: number[], dims: number[]) => { data: unknown };
    const out = await session.run({ input_ids: new T('int32', Array.from(batch.ids), [3, 7]), attention_mask: new T('int32', Array.from(batch.mask), [3, 7]) } as never);
    const want = await model.embedPassages(batch);
    expect(maxAbsDiff(out['embeddings']!.data as Float32Array, want)).toBeLessThan(1e-5);
    await session.release();
    model.dispose();
  });
});
