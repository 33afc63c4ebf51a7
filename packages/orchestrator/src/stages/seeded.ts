/** mulberry32: a tiny seeded PRNG (uniform [0, 1)); batch order and answer choice derive from it. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded permutation of 0..n−1 (Fisher–Yates). */
export function permutation(n: number, seed: number): number[] {
  const rnd = mulberry32(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
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
