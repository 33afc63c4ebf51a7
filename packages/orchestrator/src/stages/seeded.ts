import { SeededRandom, mulberry32 } from '@fidkd/core';

export { mulberry32 };

/** A seeded permutation of 0..n−1 (Fisher–Yates). */
export function permutation(n: number, seed: number): number[] {
  // The same stream as Fisher–Yates over mulberry32(seed): resumed runs keep their batch order.
  return new SeededRandom(seed, { seedMixing: 'none' }).shuffle(Array.from({ length: n }, (_, i) => i));
}

/**
 * The example indices of optimizer step `step` (batches of `batchSize` over epochs of seeded permutations).
 * A pure function of (n, batchSize, seed, step), so that training resumed at step k sees the same batches as an
 * uninterrupted run.
 */
export function batchIndices(n: number, batchSize: number, seed: number, step: number): number[] {
  const out: number[] = [];
  let pos = step * batchSize;
  let epoch = -1;
  let perm: number[] = [];
  while (out.length < batchSize) {
    const e = Math.floor(pos / n);
    if (e !== epoch) {
      epoch = e;
      perm = permutation(n, (seed * 7919 + e * 104729) >>> 0);
    }
    out.push(perm[pos % n]!);
    pos++;
  }
  return out;
}
