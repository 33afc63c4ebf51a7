// Helpers shared by the bi-encoder's tests (not part of the package: __tests__ is excluded from the build).
import { expect } from '@jest/globals';
import type { TokenBatch } from '@fidkd/core';

/** Largest |a[i] − b[i]|, after checking the lengths agree. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** `count` texts of random real lengths in [2, length] (ids in [4, vocab − 1), [CLS]-like 2 first), padded with 0. */
export function randomBatch(count: number, length: number, vocab: number, seed: number): TokenBatch {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const ids = new Int32Array(count * length);
  const mask = new Int32Array(count * length);
  for (let r = 0; r < count; r++) {
    const real = 2 + Math.floor(rnd() * (length - 1));
    for (let c = 0; c < real; c++) {
      ids[r * length + c] = c === 0 ? 2 : 4 + Math.floor(rnd() * (vocab - 5));
      mask[r * length + c] = 1;
    }
  }
  return { ids, mask, count, length };
}
