import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from '@jest/globals';
import type { ProgressEvent, TokenBatch } from '@fidkd/core';
import { BiEncoder } from './index.js';
import { maxAbsDiff, randomBatch as randomBatchOf } from './__tests__/helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const bert = { vocabSize: 50, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 32 };

const randomBatch = (count: number, length: number, seed: number): TokenBatch => randomBatchOf(count, length, bert.vocabSize, seed);

function rows(b: TokenBatch, start: number, end: number): TokenBatch {
  return { ids: b.ids.slice(start * b.length, end * b.length), mask: b.mask.slice(start * b.length, end * b.length), count: end - start, length: b.length };
}

describe('embedQuestions / embedPassages', () => {
  test('batching and padding trimming do not change the embeddings (masked mean)', async () => {
    const m = BiEncoder.create({ bert }, { seed: 1 });
    const b = randomBatch(7, 12, 3);
    const full = tf.tidy(() => m.embedTensor(tf.tensor2d(b.ids, [7, 12], 'int32'), tf.tensor2d(b.mask, [7, 12], 'int32'), 'question').dataSync());
    const q1 = await m.embedQuestions(b, { batchSize: 3 });
    const q2 = await m.embedQuestions(b, { batchSize: 100 });
    expect(q1.length).toBe(7 * 16);
    expect(maxAbsDiff(q1, full)).toBeLessThan(1e-5);
    expect(maxAbsDiff(q2, full)).toBeLessThan(1e-5);
    m.dispose();
  });

  test('without the mask (unmasked mean) padding counts: the full width is used', async () => {
    const m = BiEncoder.create({ bert, retriever: { applyQuestionMask: false, applyPassageMask: false } }, { seed: 2 });
    const b = randomBatch(4, 10, 5);
    const direct = tf.tidy(() => {
      const h = m.lastHiddenState(tf.tensor2d(b.ids, [4, 10], 'int32'), null);
      return tf.mean(h, 1).dataSync();
    });
    const e = await m.embedQuestions(b, { batchSize: 2 });
    expect(maxAbsDiff(e, direct)).toBeLessThan(1e-5);
    m.dispose();
  });

  test('streams from a sync or async iterable, in order, to the callback, with progress events', async () => {
    const m = BiEncoder.create({ bert }, { seed: 3 });
    const all = randomBatch(10, 9, 8);
    const ref = await m.embedPassages(all, { batchSize: 4 });
    expect(ref.length).toBe(10 * 16);
    const parts = [rows(all, 0, 3), rows(all, 3, 8), rows(all, 8, 10)];
    const fromIter = await m.embedPassages(parts, { batchSize: 2 });
    expect(maxAbsDiff(fromIter, ref)).toBeLessThan(1e-5);
    async function* gen(): AsyncGenerator<TokenBatch> {
      for (const p of parts) {
        await new Promise((r) => setTimeout(r, 1));
        yield p;
      }
    }
    const got = new Float32Array(10 * 16);
    const starts: number[] = [];
    const events: ProgressEvent[] = [];
    const count = await m.embedPassages(gen(), {
      batchSize: 4,
      total: 10,
      onProgress: (e) => events.push(e),
      onEmbeddings: async (r, start) => {
        starts.push(start);
        got.set(r, start * 16);
        await new Promise((res) => setTimeout(res, 1));
      },
    });
    expect(count).toBe(10);
    expect(starts).toEqual([0, 3, 7, 8]);
    expect(maxAbsDiff(got, ref)).toBeLessThan(1e-5);
    expect(events[0]).toMatchObject({ type: 'start', task: 'embed-passages', total: 10 });
    expect(events.at(-1)).toMatchObject({ type: 'end', done: 10 });
    m.dispose();
  });

  test('no tensor leaks; bad batches rejected', async () => {
    const m = BiEncoder.create({ bert }, { seed: 4 });
    const b = randomBatch(5, 8, 1);
    await m.embedQuestions(b);
    const before = tf.memory().numTensors;
    await m.embedQuestions(b, { batchSize: 2 });
    await m.embedPassages([b, b], { batchSize: 3 });
    m.scores(rows(b, 0, 1), b);
    expect(tf.memory().numTensors).toBe(before);
    await expect(m.embedQuestions({ ...b, count: 6 })).rejects.toThrow(/count\*length = 48/);
    expect(() => m.scores(rows(b, 0, 2), b)).toThrow(/not a multiple of 2 questions/);
    const long = randomBatch(1, 40, 1);
    await expect(m.embedQuestions({ ...long, mask: new Int32Array(40).fill(1) })).rejects.toThrow(/exceeds max_position_embeddings 32/);
    m.dispose();
  });
});
