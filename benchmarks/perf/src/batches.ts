// Random but deterministic model inputs for the timing suites (the values do not matter, the shapes do).
import type { ReaderBatch, TokenBatch } from '@fidkd/core';

/** Deterministic ids in [2, vocabSize - 1): 0 = pad and 1 = eos stay out, as in real batches. */
export function randomIds(length: number, vocabSize: number, seed: number): Int32Array {
  let s = seed;
  const ids = new Int32Array(length);
  for (let i = 0; i < length; i++) ids[i] = 2 + ((s = (s * 1103515245 + 12345) % 2 ** 31) % (vocabSize - 3));
  return ids;
}

/** A full (unpadded) FiD batch: questions × nContext passages × textMaxlength tokens, answers of answerLength. */
export function randomReaderBatch(shape: { questions: number; nContext: number; textMaxlength: number; answerLength: number; vocabSize: number }, seed: number): ReaderBatch {
  const inputIds = randomIds(shape.questions * shape.nContext * shape.textMaxlength, shape.vocabSize, seed);
  return {
    inputIds,
    attentionMask: new Int32Array(inputIds.length).fill(1),
    batchSize: shape.questions,
    nContext: shape.nContext,
    textMaxlength: shape.textMaxlength,
    labels: randomIds(shape.questions * shape.answerLength, shape.vocabSize, seed + 1),
    answerLength: shape.answerLength,
  };
}

/** count sequences of length tokens, all real (mask 1). */
export function randomTokenBatch(count: number, length: number, vocabSize: number, seed: number): TokenBatch {
  return { ids: randomIds(count * length, vocabSize, seed), mask: new Int32Array(count * length).fill(1), count, length };
}
