import { SeededRandom } from '@fidkd/core';

/** Options of {@link clusteredVectors}. */
export interface ClusteredVectorsOptions {
  /** Number of vectors. */
  count: number;
  dimension: number;
  /** Number of centres the vectors are drawn around (default 1000). */
  clusters?: number;
  /** Standard deviation of the offset from the centre, per coordinate, relative to the centres' (default 0.5). */
  spread?: number;
  /** Seed of the generator (default 1). */
  seed?: number;
  /**
   * Seed of the centres (default 1). Vectors generated with the same `centresSeed` share centres, so queries can be
   * drawn around the same clusters as the collection with another `seed`.
   */
  centresSeed?: number;
}

/**
 * Vectors drawn around a fixed set of Gaussian centres (row-major [count, dimension]): structured like real
 * embeddings, unlike uniform random vectors, on which no graph or IVF index can do well and recall figures mean
 * little. Deterministic per seed.
 */
export function clusteredVectors(options: ClusteredVectorsOptions): Float32Array {
  const { count, dimension } = options;
  const clusters = options.clusters ?? 1000;
  const spread = options.spread ?? 0.5;
  // Raw seeds (no mixing): the vectors of a seed must stay the same as they always were.
  const centreRng = new SeededRandom(options.centresSeed ?? 1, { seedMixing: 'none' });
  const centres = new Float32Array(clusters * dimension);
  for (let i = 0; i < centres.length; i++) centres[i] = centreRng.normal();
  const rng = new SeededRandom((options.seed ?? 1) ^ 0x9e3779b9, { seedMixing: 'none' });
  const out = new Float32Array(count * dimension);
  for (let i = 0; i < count; i++) {
    const c = rng.int(clusters) * dimension;
    const row = i * dimension;
    for (let j = 0; j < dimension; j++) out[row + j] = centres[c + j]! + spread * rng.normal();
  }
  return out;
}
